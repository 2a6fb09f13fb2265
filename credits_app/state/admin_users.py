"""The admin user pages: find a user, one user's credits and money, where an entry came from.

Each handler re-checks the session and admin rights before it reads (the service checks
admin rights again); a page's own idea of who is an admin is never trusted. What the
browser is sent is plain strings, already formatted: the services hand out rows and the
functions below turn them into table rows, so they are tested without a browser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import reflex as rx

from credits_app import routes
from credits_app.db import read_session
from credits_app.observability.provenance import Provenance
from credits_app.services.admin_users import (
    MAX_ENTRY_ID,
    MAX_USER_ID,
    SEARCH_PAGE,
    LedgerPage,
    PaymentLine,
    UserOverview,
    UserSearch,
    search_users,
    trace_entry,
    user_ledger,
    user_overview,
)
from credits_app.services.errors import CreditsError, Forbidden, NotFound
from credits_app.services.ledger_labels import describe
from credits_app.state.auth import AuthState, current_admin_id, to_login, user_scoped
from credits_app.state.dashboard import LOT_SOURCES
from credits_app.state.format import money, signed, when
from credits_app.state.readable import readable

LEDGER_PAGE = 20
NO_SUCH_USER = "No such user."
NO_SUCH_ENTRY = "No such ledger entry."
_ID = re.compile(r"[0-9]{1,19}")
ADMIN_SOURCES = {"admin": "admin page", "admin_api": "admin API key", "cli": "command line"}


def parse_id(text: object, maximum: int) -> int | None:
    """The id in a route segment ('42'), or None for anything else ('abc', '0', '-3', huge)."""
    if not isinstance(text, str) or not _ID.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= maximum else None


def grant_link(email: str) -> str:
    """The grant page with this user already looked up."""
    return f"{routes.ADMIN_GRANT}?email={quote(email, safe='@')}"


def user_rows(found: UserSearch) -> list[dict[str, str]]:
    """The user list's rows."""
    return [
        {
            "id": str(row.id),
            "email": row.email,
            "balance": f"{row.balance:,}",
            "available": f"{row.available:,}",
            "admin": "yes" if row.is_admin else "",
            "verified": "yes" if row.email_verified else "",
            "created": when(row.created_at),
            "href": routes.admin_user(row.id),
            "exact": "yes" if row.id == found.exact_id else "",
        }
        for row in found.rows
    ]


def _by(entry, actors: dict[int, str]) -> str:
    if entry.actor_user_id is not None:
        return actors.get(entry.actor_user_id, f"user #{entry.actor_user_id}")
    return entry.source


def ledger_rows(page: LedgerPage) -> list[dict[str, str]]:
    """The user's ledger as the dashboard labels it, each row linking to its trace."""
    return [
        {
            "id": str(e.id),
            "what": describe(e),
            "reason": e.reason or "",
            "delta": signed(e.delta) if e.delta else "0",
            "sign": "up" if e.delta > 0 else ("down" if e.delta < 0 else "zero"),
            "balance": f"{e.balance_after:,}",
            "by": _by(e, page.actors),
            "at": when(e.created_at),
            "href": routes.admin_entry(e.id),
        }
        for e in page.entries
    ]


def _entry_links(entries) -> str:
    return ", ".join(f"#{e.id} {signed(e.delta)}" for e in entries)


def payment_rows(payments: list[PaymentLine]) -> list[dict[str, str]]:
    """Purchases, each followed by its refunds and disputes (`kind` says which row is which).

    `entry` is the first ledger entry written for the row's Stripe object (its trace page
    link), `entries` all of them with their change.
    """
    rows = []
    for p in payments:
        rows.append(
            {
                "kind": "purchase",
                "what": "Checkout" if p.kind == "checkout" else "Invoice",
                "id": p.id,
                "url": p.url,
                "money": money(p.amount_paid, p.currency),
                "credits": f"{p.credits:,}",
                "detail": f"payment {p.payment_intent_id}" if p.payment_intent_id else "",
                "detail_url": p.payment_url or "",
                "at": when(p.created_at),
                "entry": routes.admin_entry(p.entries[0].id) if p.entries else "",
                "entries": _entry_links(p.entries),
            }
        )
        for r in p.refunds:
            rows.append(
                {
                    "kind": "refund",
                    "what": "Refund (failed)" if r.failed else "Refund",
                    "id": r.id,
                    "url": r.url,
                    "money": money(r.amount, p.currency),
                    "credits": f"{-r.credits:,}" if r.credits else "0",
                    "detail": "",
                    "detail_url": "",
                    "at": when(r.created_at),
                    "entry": routes.admin_entry(r.entries[0].id) if r.entries else "",
                    "entries": _entry_links(r.entries),
                }
            )
        for d in p.disputes:
            rows.append(
                {
                    "kind": "dispute",
                    "what": f"Dispute ({d.status.replace('_', ' ')})",
                    "id": d.id,
                    "url": d.url,
                    "money": money(d.amount, p.currency),
                    "credits": f"{-d.credits:,}" if d.credits else "0",
                    "detail": "",
                    "detail_url": "",
                    "at": when(d.updated_at),
                    "entry": routes.admin_entry(d.entries[0].id) if d.entries else "",
                    "entries": _entry_links(d.entries),
                }
            )
    return rows


def overview_view(found: UserOverview) -> dict[str, Any]:
    """The user page's vars (all but the ledger) from the service's overview."""
    b = found.balance
    return {
        "user": {
            "id": str(found.user.id),
            "email": found.user.email,
            "admin": "yes" if found.user.is_admin else "",
            "verified": "yes" if found.user.email_verified else "",
            "created": when(found.user.created_at),
            "grant": grant_link(found.user.email),
            "customer": found.customer_id or "",
            "customer_url": found.customer_url or "",
            "mode": found.stripe_mode,
        },
        "balance": {
            "balance": f"{b.balance:,}",
            "available": f"{b.available:,}",
            "held": f"{b.held:,}",
            "debt": f"{b.debt:,}",
            "waiting": f"{b.waiting:,}",
        },
        "lots": [
            {
                "id": str(lot.id),
                "what": LOT_SOURCES.get(lot.source, lot.source.replace("_", " ").capitalize()),
                "remaining": f"{lot.remaining:,}",
                "amount": f"{lot.amount:,}",
                "category": lot.category.capitalize(),
                "starts": when(lot.effective_at),
                "expires": when(lot.expires_at) if lot.expires_at else "Never",
            }
            for lot in found.lots
        ],
        "lots_hidden": found.lots_total - len(found.lots),
        "holds": [
            {
                "id": str(h.id),
                "what": h.what,
                "feature": h.feature,
                "amount": f"{h.amount:,}",
                "created": when(h.created_at),
                "expires": when(h.expires_at),
                "href": routes.admin_entry(h.entry_id) if h.entry_id else "",
            }
            for h in found.holds
        ],
        "subscriptions": [
            {
                "id": s.id,
                "url": s.url,
                "plan": s.plan_name or s.price_id or "Unknown plan",
                "credits": (
                    f"{s.included_credits:,} credits / {s.interval}"
                    if s.included_credits and s.interval
                    else ""
                ),
                "status": s.status.replace("_", " "),
                "period_end": when(s.current_period_end),
                "cancel": "yes" if s.cancel_at_period_end else "",
            }
            for s in found.subscriptions
        ],
        "subscriptions_hidden": found.subscriptions_total - len(found.subscriptions),
        "payments": payment_rows(found.payments),
        "payments_hidden": found.payments_total - len(found.payments),
    }


def _credits_text(amount: int) -> str:
    return f"{amount:,} credit" + ("" if abs(amount) == 1 else "s")


def trace_view(found: Provenance) -> dict[str, Any]:
    """The entry trace page's vars: `explain_entry`'s record as label/value rows and links."""
    e = found.entry
    facts = [
        ("Kind", f"{e['kind']} of {_credits_text(e['amount'])}"),
        ("Change", signed(e["delta"]) if e["delta"] else "0"),
        ("Balance after", f"{e['balance_after']:,}"),
        ("Held after", f"{e['held_after']:,}"),
        ("Debt after", f"{e['debt_after']:,}"),
        ("When", when(e["created_at"])),
        ("Reason", e["reason"] or "—"),
        ("Feature", e["feature"] or "—"),
        ("Source", f"{e['source']} {e['source_ref']}" if e["source_ref"] else e["source"]),
        ("Idempotency key", e["idempotency_key"]),
    ]
    if e["held_delta"]:
        facts.insert(2, ("Held change", signed(e["held_delta"])))
    if e["debt_delta"]:
        facts.insert(2, ("Debt change", signed(e["debt_delta"])))
    user = found.user or {}
    granted = found.granted_by
    admin = (granted or {}).get("admin") or {}
    hold = found.hold
    return {
        "number": str(e["id"]),
        "label": found.label,
        "facts": [{"label": label, "value": value} for label, value in facts],
        "user_email": user.get("email") or "",
        "user_href": routes.admin_user(user["id"]) if user.get("id") else "",
        "stripe": [
            {"id": obj.id, "kind": obj.kind, "url": obj.dashboard_url} for obj in found.stripe
        ],
        "stripe_mode": found.stripe_mode,
        "money": _money_text(found.money),
        "events": [
            {
                "id": ev["id"],
                "type": ev["type"],
                "outcome": ev["outcome"],
                "at": when(ev["processed_at"]),
            }
            for ev in found.events
        ],
        "granted_via": granted["via"] if granted else "",
        "granted_email": admin.get("email") or "",
        "granted_href": routes.admin_user(admin["id"]) if admin.get("id") else "",
        "hold": _hold_facts(hold) if hold else [],
        "lots_created": [
            {
                "id": str(lot["id"]),
                "text": (
                    f"{lot['amount']:,} {lot['category']} ({lot['source']}), "
                    f"{lot['remaining']:,} left, expires "
                    f"{when(lot['expires_at']) if lot['expires_at'] else 'never'}"
                ),
            }
            for lot in found.lots_created
        ],
        "lots_moved": [_move(m) for m in found.lots_moved],
        "hold_lots": [_move(m) for m in found.hold_lots],
    }


def _move(move: dict[str, Any]) -> dict[str, str]:
    return {
        "id": str(move["lot_id"]),
        "category": move["category"],
        "amount": signed(move["amount"]),
    }


def _money_text(found: dict[str, Any] | None) -> str:
    if not found:
        return ""
    if found["object"] == "purchase":
        text = f"Paid {money(found['amount_paid'], found['currency'])}"
        if found["amount"] != found["amount_paid"]:
            text += f" (billed {money(found['amount'], found['currency'])})"
        return f"{text} for {_credits_text(found['credits'])}"
    # Refunds and disputes do not store their currency: amounts are in minor units.
    text = f"{found['object'].capitalize()} of {found['amount']:,} in minor units"
    if found.get("status"):
        text += f", {found['status'].replace('_', ' ')}"
    if found.get("failed"):
        text += ", failed"
    return f"{text}: {_credits_text(found['credits'])}"


def _hold_facts(hold: dict[str, Any]) -> list[dict[str, str]]:
    captured = "—" if hold["captured"] is None else f"{hold['captured']:,}"
    facts = [
        ("Hold", f"#{hold['id']} ({hold['what']})"),
        ("Feature", hold["feature"]),
        ("Reserved", f"{hold['amount']:,}"),
        ("Captured", captured),
        ("Status", hold["status"] + (f" ({hold['outcome']})" if hold["outcome"] else "")),
        ("Key", hold["idempotency_key"]),
        ("Started", when(hold["created_at"])),
        ("Ended", when(hold["resolved_at"])),
    ]
    return [{"label": label, "value": value} for label, value in facts]


async def _refused(state: rx.State):
    """What a handler returns to someone who is not (or no longer) an admin."""
    signed_in = (await state.get_state(AuthState))._user_id
    return None if signed_in else to_login(state)


def _show_routed(
    state: rx.State,
    param: str,
    maximum: int,
    read: Callable[[Any, int], dict[str, Any]],
    missing: str,
) -> int | None:
    """Copy the view of what the route's id names onto `state`; return that id.

    `read(session, id)` returns the view; an id that is malformed or names nothing (or an
    admin who lost their rights meanwhile) shows `missing` instead, and None is returned.
    """
    found_id = parse_id(state.router.page.params.get(param, ""), maximum)
    try:
        if found_id is None:
            raise NotFound(f"no such {param}")
        with read_session() as session:
            view = read(session, found_id)
    except (NotFound, Forbidden):
        state.missing, state.loaded = missing, True
        return None
    for name, value in view.items():
        setattr(state, name, value)
    return found_id


@user_scoped
class AdminUsersState(rx.State):
    """/admin/users: the search box and one page of users; cursors stay on the server."""

    query: str = ""
    rows: list[dict[str, str]] = []
    page: int = 0
    more: bool = False
    error: str = ""
    loaded: bool = False
    _cursors: list[int] = []

    @rx.event
    async def load(self):
        """On page load: the first page of everyone, newest first (the search box is empty)."""
        self.query, self.page, self._cursors = "", 0, []
        return await self._read()

    @rx.event
    async def search(self, form: dict):
        """Search by email (any part, any case) or exact id; an empty search lists everyone."""
        self.query = str(form.get("query", ""))[:1000].strip()
        self.page, self._cursors = 0, []
        return await self._read()

    @rx.event
    async def older(self):
        """Next page (older users)."""
        if self.more and self.rows:
            self._cursors = [*self._cursors[: self.page], int(self.rows[-1]["id"])]
            self.page += 1
            return await self._read()
        return None

    @rx.event
    async def newer(self):
        """Previous page (newer users)."""
        if self.page:
            self.page -= 1
            return await self._read()
        return None

    async def _read(self):
        self.error = ""
        admin_id = await current_admin_id(self)
        if not admin_id:
            self.rows, self.more, self.loaded = [], False, False
            return await _refused(self)
        before = self._cursors[self.page - 1] if self.page else None
        try:
            with read_session() as session:
                found = search_users(
                    session=session,
                    admin_user_id=admin_id,
                    query=self.query,
                    limit=SEARCH_PAGE,
                    before_id=before,
                )
        except CreditsError as exc:
            self.rows, self.more, self.error = [], False, readable(exc)
            self.loaded = True
            return None
        self.rows, self.more, self.loaded = user_rows(found), found.more, True
        return None


@user_scoped
class AdminUserState(rx.State):
    """/admin/users/[user_id]: one user's credits, money and ledger."""

    missing: str = ""
    loaded: bool = False
    user: dict[str, str] = {}
    balance: dict[str, str] = {}
    lots: list[dict[str, str]] = []
    lots_hidden: int = 0
    holds: list[dict[str, str]] = []
    subscriptions: list[dict[str, str]] = []
    subscriptions_hidden: int = 0
    payments: list[dict[str, str]] = []
    payments_hidden: int = 0
    ledger: list[dict[str, str]] = []
    ledger_page: int = 0
    ledger_more: bool = False
    _user_id: int = 0
    _cursors: list[int] = []

    @rx.event
    async def load(self):
        """On page load: read the user named by the route (a readable message if none)."""
        self.reset()
        admin_id = await current_admin_id(self)
        if not admin_id:
            return await _refused(self)
        user_id = _show_routed(
            self,
            "user_id",
            MAX_USER_ID,
            lambda session, i: overview_view(
                user_overview(session=session, admin_user_id=admin_id, user_id=i)
            ),
            NO_SUCH_USER,
        )
        if user_id is None:
            return None
        self._user_id = user_id
        return await self._read_ledger(admin_id)

    @rx.event
    async def ledger_older(self):
        """Next page of the ledger (older)."""
        if self.ledger_more and self.ledger:
            self._cursors = [*self._cursors[: self.ledger_page], int(self.ledger[-1]["id"])]
            self.ledger_page += 1
            return await self._reload_ledger()
        return None

    @rx.event
    async def ledger_newer(self):
        """Previous page of the ledger (newer)."""
        if self.ledger_page:
            self.ledger_page -= 1
            return await self._reload_ledger()
        return None

    async def _reload_ledger(self):
        admin_id = await current_admin_id(self)
        if not admin_id:
            self.reset()
            return await _refused(self)
        return await self._read_ledger(admin_id)

    async def _read_ledger(self, admin_id: int):
        before = self._cursors[self.ledger_page - 1] if self.ledger_page else None
        try:
            with read_session() as session:
                page = user_ledger(
                    session=session,
                    admin_user_id=admin_id,
                    user_id=self._user_id,
                    limit=LEDGER_PAGE,
                    before_id=before,
                )
        except CreditsError as exc:
            self.loaded = True
            return rx.toast.error(readable(exc))
        self.ledger, self.ledger_more, self.loaded = ledger_rows(page), page.more, True
        return None


@user_scoped
class AdminEntryState(rx.State):
    """/admin/entries/[entry_id]: where one ledger entry came from (`explain_entry`)."""

    missing: str = ""
    loaded: bool = False
    number: str = ""
    label: str = ""
    facts: list[dict[str, str]] = []
    user_email: str = ""
    user_href: str = ""
    stripe: list[dict[str, str]] = []
    stripe_mode: str = ""
    money: str = ""
    events: list[dict[str, str]] = []
    granted_via: str = ""
    granted_email: str = ""
    granted_href: str = ""
    hold: list[dict[str, str]] = []
    lots_created: list[dict[str, str]] = []
    lots_moved: list[dict[str, str]] = []
    hold_lots: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        """On page load: trace the entry named by the route (a readable message if none)."""
        self.reset()
        admin_id = await current_admin_id(self)
        if not admin_id:
            return await _refused(self)
        _show_routed(
            self,
            "entry_id",
            MAX_ENTRY_ID,
            lambda session, i: trace_view(
                trace_entry(session=session, admin_user_id=admin_id, entry_id=i)
            ),
            NO_SUCH_ENTRY,
        )
        self.loaded = True
        return None
