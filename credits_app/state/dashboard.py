"""The dashboard: plan, credits by lot, usage and ledger pages, the 30-day chart, CSV export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import reflex as rx

from credits_app.db import read_session, session_scope
from credits_app.models import utcnow
from credits_app.services.billing.portal import portal_url
from credits_app.services.billing.subscriptions import active_subscription
from credits_app.services.errors import CreditsError
from credits_app.services.history import ledger_history, usage_history
from credits_app.services.ledger_export import export_ticket
from credits_app.services.ledger_labels import describe
from credits_app.services.lots import LotView, live_lots, next_expiry
from credits_app.services.usage_chart import chart_update
from credits_app.state.auth import current_user_id, to_login, user_scoped
from credits_app.state.format import day, signed, when

PAGE = 10
# Same origin as the page: production serves /api itself, the dev server passes it on.
EXPORT_URL = "/api/me/ledger.csv"
STATUS_LABELS = {"active": "Active", "trialing": "Trial", "past_due": "Payment overdue"}
# Lots listed on the dashboard (in burn order); the rest are counted.
LOTS_SHOWN = 10
# A banner warns when credits expire this soon.
EXPIRY_WARNING = timedelta(days=7)
LOT_SOURCES = {
    "purchase": "Purchase",
    "plan_period": "Plan credits",
    "admin": "Admin grant",
    "promotion": "Promotion",
    "trial": "Trial",
    "rollover": "Rolled over",
    "restore": "Restored",
    "migrated": "Earlier balance",
}


def long_day(moment: datetime) -> str:
    """Return '31 Dec 2026' (UTC)."""
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%b %Y}"


def _credits(count: int) -> str:
    return f"{count:,} credit" + ("" if count == 1 else "s")


def _in_days(delta: timedelta) -> str:
    """How soon: 'in 3 days' (rounded), 'in 5 hours' under two days, or 'within the hour'."""
    days = round(delta / timedelta(days=1))
    if days >= 2:
        return f"in {days} days"
    hours = int(delta // timedelta(hours=1))
    if hours >= 1:
        return f"in {hours} hour" + ("" if hours == 1 else "s")
    return "within the hour"


def expiry_notes(views: list[LotView], now: datetime) -> tuple[str, str]:
    """What expires next, and a warning when some credits expire within 7 days.

    Returns:
        ('300 credits expire on 31 Dec 2026', '') or, when that is within a week, the
        same line and a banner such as '450 credits expire within 7 days: 300 of them
        in 3 days, on 2 Dec 2026 at 14:00 UTC.'; ('', '') when nothing ever expires.
    """
    soonest = next_expiry(views)
    if soonest is None:
        return "", ""
    verb = "expires" if soonest.credits == 1 else "expire"
    line = f"{_credits(soonest.credits)} {verb} on {long_day(soonest.at)}"
    if soonest.at - now > EXPIRY_WARNING:
        return line, ""
    soon = sum(
        v.remaining
        for v in views
        if v.expires_at is not None and v.expires_at - now <= EXPIRY_WARNING
    )
    at = f"{_in_days(soonest.at - now)}, on {long_day(soonest.at)} at {soonest.at:%H:%M} UTC"
    if soon == soonest.credits:
        banner = f"{_credits(soon)} {verb} {at}. Use them before they are gone."
    else:
        banner = (
            f"{_credits(soon)} expire within 7 days: {soonest.credits:,} of them {at}. "
            "Use them before they are gone."
        )
    return line, banner


def lot_rows(views: list[LotView], now: datetime) -> list[dict[str, str]]:
    """The dashboard's table of lots: what is left in each, its category, when it expires."""
    return [
        {
            "id": str(v.id),
            "what": LOT_SOURCES.get(v.source, v.source.replace("_", " ").capitalize()),
            "remaining": f"{v.remaining:,}",
            "category": v.category.capitalize(),
            "expires": long_day(v.expires_at) if v.expires_at else "Never",
            "soon": "yes" if v.expires_at and v.expires_at - now <= EXPIRY_WARNING else "",
            "starts": f"from {long_day(v.effective_at)}" if v.effective_at > now else "",
        }
        for v in views[:LOTS_SHOWN]
    ]


@user_scoped
class DashboardState(rx.State):
    """What the dashboard shows; cursors for paging stay on the server."""

    plan: dict[str, str] = {}
    usage: list[dict[str, str]] = []
    ledger: list[dict[str, str]] = []
    chart: list[dict[str, int | str]] = []
    features: list[str] = []
    spent_30d: int = 0
    lots: list[dict[str, str]] = []
    lots_hidden: int = 0
    next_expiry: str = ""
    expiry_banner: str = ""
    usage_page: int = 0
    usage_more: bool = False
    ledger_page: int = 0
    ledger_more: bool = False
    loaded: bool = False
    opening_portal: bool = False
    _usage_cursors: list[int] = []
    _ledger_cursors: list[int] = []
    # Which usage the chart and usage table show; a balance change that is not usage
    # (a grant, a hold, a release) leaves it unchanged and they are not read again.
    _usage_mark: str = ""

    @rx.event
    async def load(self):
        """Read everything for the first page."""
        # Coming back from the portal restores this tab's state: nothing is opening any more.
        self.opening_portal = False
        self.usage_page = self.ledger_page = 0
        self._usage_cursors, self._ledger_cursors = [], []
        self._usage_mark = ""
        # On load the login check before this one already redirects a stranger.
        self.loaded = await self._refresh()

    @rx.event
    async def refresh(self):
        """Re-read after a live balance change, keeping the pages the user is on."""
        if self.loaded and not await self._refresh():
            return to_login(self)
        return None

    async def _refresh(self, *, usage_page: bool = False) -> bool:
        """Re-read the pages shown; False when the session has ended (nothing is read).

        The chart and the usage table are read again only when there is new usage (or
        `usage_page` asks for another page of it).
        """
        user_id = await current_user_id(self)
        if not user_id:
            return False
        with read_session() as session:
            sub = active_subscription(session=session, user_id=user_id)
            mark, spend = chart_update(session=session, user_id=user_id, seen=self._usage_mark)
            if spend is not None or usage_page:
                self._read_usage(session, user_id)
            self._read_ledger(session, user_id)
            self._read_lots(session, user_id)
        self.plan = _plan_view(sub)
        if spend is not None:
            self._usage_mark = mark
            self.chart, self.features, self.spent_30d = spend.rows, spend.features, spend.total
        return True

    def _read_lots(self, session, user_id: int) -> None:
        now = utcnow()
        views = live_lots(session, user_id, now)
        self.lots = lot_rows(views, now)
        self.lots_hidden = max(0, len(views) - LOTS_SHOWN)
        self.next_expiry, self.expiry_banner = expiry_notes(views, now)

    def _read_usage(self, session, user_id: int) -> None:
        before = self._usage_cursors[self.usage_page - 1] if self.usage_page else None
        rows = usage_history(session=session, user_id=user_id, limit=PAGE + 1, before_id=before)
        self.usage_more = len(rows) > PAGE
        rows = rows[:PAGE]
        self.usage = [
            {
                "id": str(u.id),
                "feature": u.feature,
                "credits": f"{u.credits:,}",
                "at": when(u.created_at),
            }
            for u in rows
        ]

    def _read_ledger(self, session, user_id: int) -> None:
        before = self._ledger_cursors[self.ledger_page - 1] if self.ledger_page else None
        rows = ledger_history(session=session, user_id=user_id, limit=PAGE + 1, before_id=before)
        self.ledger_more = len(rows) > PAGE
        rows = rows[:PAGE]
        self.ledger = [
            {
                "id": str(e.id),
                "what": describe(e),
                "reason": e.reason or "",
                "delta": signed(e.delta) if e.delta else "0",
                "sign": "up" if e.delta > 0 else ("down" if e.delta < 0 else "zero"),
                "balance": f"{e.balance_after:,}",
                "at": when(e.created_at),
            }
            for e in rows
        ]

    @rx.event
    async def usage_older(self):
        """Next page of usage (older)."""
        if self.usage_more and self.usage:
            self._usage_cursors = [
                *self._usage_cursors[: self.usage_page],
                int(self.usage[-1]["id"]),
            ]
            self.usage_page += 1
            return await self._reload(usage_page=True)
        return None

    @rx.event
    async def usage_newer(self):
        """Previous page of usage (newer)."""
        if self.usage_page:
            self.usage_page -= 1
            return await self._reload(usage_page=True)
        return None

    @rx.event
    async def ledger_older(self):
        """Next page of the ledger (older)."""
        if self.ledger_more and self.ledger:
            self._ledger_cursors = [
                *self._ledger_cursors[: self.ledger_page],
                int(self.ledger[-1]["id"]),
            ]
            self.ledger_page += 1
            return await self._reload()
        return None

    @rx.event
    async def ledger_newer(self):
        """Previous page of the ledger (newer)."""
        if self.ledger_page:
            self.ledger_page -= 1
            return await self._reload()
        return None

    async def _reload(self, *, usage_page: bool = False):
        return None if await self._refresh(usage_page=usage_page) else to_login(self)

    @rx.event
    async def export_csv(self):
        """Download the user's whole ledger as CSV, streamed by the API page by page.

        The CSV does not travel through this websocket: the browser downloads it from
        `GET /api/me/ledger.csv` with a one-time ticket minted here for this user (a plain
        link download, which keeps the page and its websocket where they are).
        """
        user_id = await current_user_id(self)
        if not user_id:
            return to_login(self)
        url = f"{EXPORT_URL}?ticket={quote(export_ticket(user_id), safe='')}"
        return rx.download(url=url, filename="credits-ledger.csv")

    @rx.event
    async def manage_subscription(self):
        """Open the Stripe billing portal for this user."""
        self.opening_portal = True
        yield
        try:
            user_id = await current_user_id(self)
            if not user_id:
                yield to_login(self)
                return
            with session_scope() as session:
                url = portal_url(session=session, user_id=user_id)
            yield rx.redirect(url)
        except CreditsError as exc:
            self.opening_portal = False
            yield rx.toast.error(exc.message, duration=6000)


def _plan_view(sub) -> dict[str, str]:
    if sub is None:
        return {}
    renews = "Ends" if sub.cancel_at_period_end else "Renews"
    credits = f"{sub.included_credits:,} credits / {sub.interval}" if sub.included_credits else ""
    return {
        "name": sub.plan_name or "Plan",
        "status": STATUS_LABELS.get(sub.status, sub.status.replace("_", " ").capitalize()),
        "ok": "yes" if sub.status in ("active", "trialing") else "",
        "renewal": f"{renews} {day(sub.current_period_end)}",
        "credits": credits,
    }
