"""/admin/reconcile: run the CLI's reconciliation, repair what can be, decide about the rest.

Runs and repairs talk to Stripe for seconds, so they are background events: the page keeps
answering, shows a spinner, and a click while one is under way does nothing. Every event
checks again that the tab's user is an admin, and the services check it once more.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import reflex as rx

from credits_app import routes
from credits_app.db import read_session
from credits_app.models import utcnow
from credits_app.observability.provenance import dashboard_url, stripe_mode
from credits_app.services.billing.reconcile import ReconcileReport
from credits_app.services.billing.reconcile.admin import (
    decide_as_admin,
    repair_all_as_admin,
    repair_as_admin,
    run_as_admin,
)
from credits_app.services.billing.reconcile.decisions import (
    CLAWBACK,
    Decision,
    choices,
    recent_decisions,
)
from credits_app.services.billing.reconcile.drift import Drift
from credits_app.services.errors import CreditsError, InvalidRequest
from credits_app.settings import get_settings
from credits_app.state.auth import (
    AuthState,
    current_admin_id,
    to_login,
    user_scoped,
)
from credits_app.state.format import when
from credits_app.state.readable import labelled

MAX_DAYS = 3660
OPEN, REPAIRED = "open", "repaired"
FIELD_LABELS = {"reason": "Reason", "decision": "Decision", "days": "Window", "drift": "Drift"}


def window_days(text: object) -> int:
    """The page's window in whole days, 1 to 3660.

    Raises:
        InvalidRequest: For anything else (field `days`).
    """
    value = str(text or "").strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_DAYS:
        raise InvalidRequest("days", f"must be a whole number of days from 1 to {MAX_DAYS}")
    return int(value)


def readable(exc: CreditsError) -> str:
    """The error as the page shows it: 'Reason: must be a non-empty string'."""
    return labelled(exc, FIELD_LABELS)


def _key(drift: Drift | Decision) -> str:
    kind, obj = drift.key
    return f"{kind}|{obj}"


def _decided(decision: Decision) -> str:
    what = "accepted" if decision.decision != CLAWBACK else f"clawed back {decision.credits}"
    who = decision.admin_email or f"admin #{decision.admin_id}"
    return f"{what} by {who} at {when(decision.at)}: {decision.reason}"


def drift_row(drift: Drift, status: str, decision: Decision | None, mode: str) -> dict[str, str]:
    """One drift as the page's table shows it (every value a string)."""
    allowed = choices(drift) if status == OPEN and decision is None else ()
    return {
        "key": _key(drift),
        "kind": drift.kind.value,
        "explanation": drift.kind.explanation,
        "object": drift.object,
        "dashboard": dashboard_url(drift.object, mode),
        "user": f"user {drift.user_id}" if drift.user_id is not None else "",
        "user_url": routes.admin_user(drift.user_id) if drift.user_id is not None else "",
        "detail": drift.detail,
        "repairable": "yes" if drift.repairable and status == OPEN else "",
        "status": "decided" if decision is not None else status,
        "decided": _decided(decision) if decision is not None else "",
        "can_decide": "yes" if allowed else "",
        "can_claw_back": "yes" if CLAWBACK in allowed else "",
        "excess": str(drift.excess) if drift.excess else "",
    }


@user_scoped
class AdminReconcileState(rx.State):
    """The last run's drift, what was repaired and decided; the Drift objects stay here."""

    days: str = ""
    running: bool = False
    repairing: str = ""
    ran: bool = False
    since: str = ""
    checked: str = ""
    items: list[dict[str, str]] = []
    kinds: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    open_count: int = 0
    decided_count: int = 0
    repaired_count: int = 0
    repairable_count: int = 0
    message: str = ""
    error: str = ""
    _drift: dict[str, Drift] = {}
    _status: dict[str, str] = {}
    _decisions: dict[str, Decision] = {}
    _since: datetime | None = None

    async def _refusal(self):
        """Strangers go to the login page; signed-in non-admins get a toast."""
        signed_in = (await self.get_state(AuthState))._user_id
        return rx.toast.error("Admins only.") if signed_in else to_login(self)

    def _busy(self) -> bool:
        """Whether a run or a repair is under way (a second click then does nothing)."""
        return self.running or self.repairing != ""

    @rx.event
    async def load(self):
        """Fill the window from the schedule's setting and show the latest decisions."""
        if not self.days:
            self.days = str(get_settings().reconcile_window_days)
        if await current_admin_id(self):
            self._read_history()

    @rx.event
    def set_days(self, value: str):
        """The window field, as typed."""
        self.days = value[:8]

    def _read_history(self) -> None:
        with read_session() as session:
            found = recent_decisions(session)
        current = set(self._drift)
        self.history = [
            {
                "kind": d.kind,
                "object": d.object,
                "decided": _decided(d),
                "detail": d.detail,
                "now": "still found" if _key(d) in current else "not found in the last run",
            }
            for d in found
        ]

    def _show(self) -> None:
        """Rebuild the table and the summary from the drift, statuses and decisions held."""
        mode = stripe_mode(get_settings())
        self.items = [
            drift_row(drift, self._status.get(key, OPEN), self._decisions.get(key), mode)
            for key, drift in self._drift.items()
        ]
        counts: dict[str, int] = {}
        for drift in self._drift.values():
            counts[drift.kind.value] = counts.get(drift.kind.value, 0) + 1
        explained = {d.kind.value: d.kind.explanation for d in self._drift.values()}
        self.kinds = [
            {"kind": kind, "count": str(n), "explanation": explained[kind]}
            for kind, n in counts.items()
        ]
        statuses = [row["status"] for row in self.items]
        self.open_count = statuses.count(OPEN)
        self.decided_count = statuses.count("decided")
        self.repaired_count = statuses.count(REPAIRED)
        self.repairable_count = sum(1 for row in self.items if row["repairable"])
        self._read_history()

    def _take(self, report: ReconcileReport) -> None:
        """Hold a report's drift: repaired when a last check no longer finds it."""
        remaining = None if report.remaining is None else {x.key for x in report.remaining}
        self._drift = {_key(x): x for x in report.drift}
        self._status = {
            _key(x): REPAIRED if remaining is not None and x.key not in remaining else OPEN
            for x in report.drift
        }
        self._decisions = {_key(d): d for d in report.decisions.values()}
        self._since = report.since
        self.since = when(report.since)
        self.checked = ", ".join(f"{n} {name}" for name, n in report.checked.items())
        self.ran = True
        self._show()

    async def _begin(self, what: str) -> tuple[int, datetime | None]:
        """Start a run or repair unless one is under way; (admin id, window start)."""
        if self._busy():
            return 0, None
        admin_id = await current_admin_id(self)
        if not admin_id:
            return 0, None
        self.error, self.message = "", ""
        if what == "run":
            since = utcnow() - timedelta(days=window_days(self.days))
            self.running = True
        else:
            since = self._since
            self.repairing = what
        return admin_id, since

    @rx.event(background=True)
    async def run(self):
        """Reconcile the window as the CLI does; a click while one runs does nothing."""
        async with self:
            try:
                admin_id, since = await self._begin("run")
            except CreditsError as exc:
                self.error = readable(exc)
                return
            if not admin_id:
                refusal = None if self._busy() else await self._refusal()
        if not admin_id:
            if refusal is not None:
                yield refusal
            return
        try:
            report = await asyncio.to_thread(run_as_admin, admin_user_id=admin_id, since=since)
        except CreditsError as exc:
            async with self:
                self.running, self.error = False, readable(exc)
            return
        async with self:
            self.running = False
            self._take(report)

    @rx.event(background=True)
    async def repair(self, key: str):
        """Repair one drift through the CLI's repair path, then compare its object again."""
        async with self:
            drift = self._drift.get(key)
            admin_id, since = (0, None) if drift is None else await self._begin(key)
            if not admin_id:
                refusal = None if self._busy() or drift is None else await self._refusal()
        if not admin_id:
            if refusal is not None:
                yield refusal
            return
        try:
            done = await asyncio.to_thread(
                repair_as_admin, admin_user_id=admin_id, drift=drift, since=since
            )
        except CreditsError as exc:
            async with self:
                self.repairing, self.error = "", readable(exc)
            return
        async with self:
            self.repairing = ""
            for found in done.still:  # what the object's comparison finds now
                self._drift.setdefault(_key(found), found)
            if done.resolved:
                self._status[key] = REPAIRED
                self.message = f"Repaired {drift.object}: the comparison finds it resolved."
            else:
                error = f" ({done.result.error})" if done.result.error else ""
                self.error = f"{drift.object} still drifts after the repair{error}."
            self._show()

    @rx.event(background=True)
    async def repair_all(self):
        """Repair every repairable drift and check again, as `reconcile --repair` does."""
        async with self:
            admin_id, since = await self._begin("all")
            if not admin_id:
                refusal = None if self._busy() else await self._refusal()
        if not admin_id:
            if refusal is not None:
                yield refusal
            return
        try:
            report = await asyncio.to_thread(
                repair_all_as_admin, admin_user_id=admin_id, since=since
            )
        except CreditsError as exc:
            async with self:
                self.repairing, self.error = "", readable(exc)
            return
        async with self:
            self.repairing = ""
            self._take(report)
            self.message = (
                f"Repaired {self.repaired_count}; {self.open_count} still open."
                if self.open_count
                else f"Repaired {self.repaired_count}; nothing open remains."
            )

    @rx.event
    async def decide(self, form: dict):
        """Record the admin's decision about one drift, with a required reason."""
        key = str(form.get("key", ""))
        drift = self._drift.get(key)
        admin_id = await current_admin_id(self)
        if not admin_id:
            return await self._refusal()
        if drift is None or self._busy():
            return None
        self.error, self.message = "", ""
        try:
            decision = decide_as_admin(
                admin_user_id=admin_id,
                drift=drift,
                decision=str(form.get("decision", "")),
                reason=form.get("reason", ""),
                since=self._since,
            )
        except CreditsError as exc:
            self.error = readable(exc)
            return rx.toast.error(self.error)
        self._decisions[key] = decision
        self.message = f"{drift.object}: {_decided(decision)}"
        self._show()
        return rx.toast.success(self.message)
