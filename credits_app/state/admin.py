"""Admin grants: find a user, grant with a reason (confirm large ones), see their ledger.

A grant may be promotional and may expire: the expiry is a date and time in UTC from the
page's `datetime-local` input (the browser sends it without an offset).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import reflex as rx

from credits_app import routes
from credits_app.db import read_session, session_scope
from credits_app.services.accounts import balance_of
from credits_app.services.admin_grants import (
    EXPIRY_FIELD,
    admin_grant,
    needs_confirmation,
    require_admin,
)
from credits_app.services.errors import CreditsError, InvalidRequest
from credits_app.services.history import ledger_history
from credits_app.services.ledger_labels import describe
from credits_app.services.users import find_user_by_email
from credits_app.state.auth import (
    AuthState,
    current_admin_id,
    to_login,
    user_scoped,
)
from credits_app.state.format import signed, when
from credits_app.state.readable import labelled

# What a `datetime-local` input sends: 2026-12-31T23:59, maybe with seconds.
_LOCAL_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")
FIELD_LABELS = {
    EXPIRY_FIELD: "Expiry",
    "category": "Category",
    "amount": "Amount",
    "reason": "Reason",
    "idempotencyKey": "Grant",
}


def expiry_from_form(text: str) -> datetime | None:
    """Read the form's expiry, a UTC date and time without offset ('' means never).

    Raises:
        InvalidRequest: When it is not a date and time.
    """
    text = text.strip()
    if not text:
        return None
    if not _LOCAL_MOMENT.fullmatch(text):
        raise InvalidRequest(EXPIRY_FIELD, "must be a date and time, e.g. 2026-12-31 23:59")
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequest(EXPIRY_FIELD, "is not a valid date and time") from None


def readable(exc: CreditsError) -> str:
    """The error as the page shows it: 'Expiry: must be in the future'."""
    return labelled(exc, FIELD_LABELS)


@user_scoped
class AdminGrantState(rx.State):
    """The user being looked at; their id stays on the server."""

    query: str = ""
    found_email: str = ""
    found_href: str = ""
    found_balance: int = 0
    ledger: list[dict[str, str]] = []
    amount: str = ""
    reason: str = ""
    category: str = "paid"
    expires: str = ""
    confirming: bool = False
    busy: bool = False
    message: str = ""
    error: str = ""
    _found_id: int = 0
    _grant_key: str = ""
    _grant_what: str = ""

    @rx.event
    async def find(self, form: dict):
        """Look the user up by email."""
        self.query, self.message, self.confirming = str(form.get("email", "")).strip(), "", False
        self.error = ""
        try:
            if not await current_admin_id(self):
                signed_in = (await self.get_state(AuthState))._user_id
                return rx.toast.error("Admins only.") if signed_in else to_login(self)
            with read_session() as session:
                user = find_user_by_email(session=session, email=self.query)
            self._found_id, self.found_email = user.id, user.email
            self.found_href = routes.admin_user(user.id)
            self._grant_key = ""
            self._read_user()
        except CreditsError as exc:
            self._found_id, self.found_email, self.ledger = 0, "", []
            self.found_href = ""
            return rx.toast.error(exc.message)
        return None

    @rx.event
    async def prefill(self):
        """On page load: look up the user of `?email=` (the admin user page links here)."""
        email = str(self.router.url.query_parameters.get("email", "") or "").strip()
        if not email:
            return None
        answer = await self.find({"email": email})
        if answer is not None or not self.found_email:
            return answer
        return rx.set_value("find-email", self.found_email)

    def _read_user(self) -> None:
        with read_session() as session:
            self.found_balance = balance_of(session=session, user_id=self._found_id).balance
            rows = ledger_history(session=session, user_id=self._found_id, limit=10)
        self.ledger = [
            {
                "what": describe(e),
                "reason": e.reason or "",
                "delta": signed(e.delta),
                "by": f"admin #{e.actor_user_id}" if e.actor_user_id else e.source,
                "at": when(e.created_at),
                "href": routes.admin_entry(e.id),
            }
            for e in rows
        ]

    @rx.event
    async def grant(self, form: dict):
        """Validate, ask for confirmation above the threshold, then grant once."""
        self.amount, self.reason = str(form.get("amount", "")), str(form.get("reason", ""))
        self.category = str(form.get("category", "") or "paid")
        self.expires = str(form.get("expires_at", ""))
        self.error = ""
        amount = int(self.amount) if self.amount.strip().isdigit() else -1
        if amount > 0 and needs_confirmation(amount) and not self.confirming:
            self.confirming = True
            return None
        return await self._grant(amount)

    @rx.event
    async def confirm(self):
        """The admin confirmed a large grant."""
        amount = int(self.amount) if self.amount.strip().isdigit() else -1
        return await self._grant(amount, confirmed=True)

    @rx.event
    def cancel(self):
        """Back out of the confirmation."""
        self.confirming = False

    async def _grant(self, amount: int, confirmed: bool = False):
        self.confirming, self.message, self.error = False, "", ""
        admin_id = await current_admin_id(self)
        if not admin_id:
            return to_login(self)
        try:
            expires_at = expiry_from_form(self.expires)
            # One key per distinct grant: a double submit replays, a corrected one is new.
            what = f"{self._found_id}|{amount}|{self.reason}|{self.category}|{expires_at}"
            if not self._grant_key or what != self._grant_what:
                self._grant_key, self._grant_what = f"admin-web-{uuid.uuid4().hex}", what
            with session_scope() as session:
                require_admin(session=session, user_id=admin_id)
                result = admin_grant(
                    session=session,
                    admin_user_id=admin_id,
                    user_id=self._found_id,
                    amount=amount,
                    reason=self.reason,
                    idempotency_key=self._grant_key,
                    confirmed=confirmed,
                    category=self.category or None,
                    expires_at=expires_at,
                )
        except CreditsError as exc:
            self.error = readable(exc)
            return rx.toast.error(self.error)
        self._grant_key = ""
        kind = "promotional credits" if self.category == "promotional" else "credits"
        lasts = f", expiring {when(expires_at)}" if expires_at else ""
        self.message = (
            f"Granted {amount:,} {kind} to {self.found_email}{lasts}; balance {result.balance:,}."
        )
        self._read_user()
        return [
            rx.toast.success(self.message),
            *[rx.set_value(ref, "") for ref in ("grant-amount", "grant-reason", "grant-expires")],
        ]
