"""The webhook log page: filter and page through deliveries, re-apply a failed one.

Every event re-checks the session and admin rights on the server (the service checks again);
the page's own admin flag only decides what is drawn.
"""

from __future__ import annotations

import asyncio
from datetime import UTC

import reflex as rx

from credits_app.db import read_session, session_scope
from credits_app.services.billing.webhook_log import (
    DeliveryFilters,
    DeliveryRow,
    ReapplyResult,
    list_deliveries,
    parse_filters,
    reapply,
)
from credits_app.services.errors import CreditsError
from credits_app.state.auth import (
    AuthState,
    current_admin_id,
    to_login,
    user_scoped,
)
from credits_app.state.readable import readable

PAGE_SIZE = 25
OUTCOME_WORDS = {
    "applied": "Applied: the event was applied now.",
    "duplicate": "Duplicate: the event had been applied already, nothing was done twice.",
    "ignored": "Ignored: the event is about nothing this app sold.",
}


def _moment(row: DeliveryRow) -> str:
    """To the second: deliveries of one event often arrive within the same minute."""
    return row.received_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _row(row: DeliveryRow) -> dict[str, str]:
    since = f"since {row.processed_as}" if row.outcome == "failed" and row.processed_as else ""
    how = f"re-applied by admin #{row.reapplied_by}" if row.reapplied_by else ""
    return {
        "id": str(row.id),
        "at": _moment(row),
        "type": row.type,
        "event_id": row.event_id,
        "object_id": row.object_id or "—",
        "outcome": row.outcome,
        "error": row.error or "",
        "note": " · ".join(part for part in (how, since) if part),
        "can_reapply": "yes" if row.can_reapply else "",
    }


def _reapplied(result: ReapplyResult) -> str:
    if result.outcome == "failed":
        return f"Re-applying {result.event_id} failed again: {result.error}"
    return f"{result.event_id} ({result.type}): {OUTCOME_WORDS[result.outcome]}"


def _reapply(delivery_id: int, admin_id: int) -> ReapplyResult:
    with session_scope() as session:
        return reapply(session=session, delivery_id=delivery_id, admin_user_id=admin_id)


@user_scoped
class AdminWebhooksState(rx.State):
    """The filters as typed, the page shown, and the last re-application's message."""

    outcome: str = "all"
    event_type: str = ""
    search: str = ""
    since: str = ""
    until: str = ""
    page: int = 1
    has_more: bool = False
    rows: list[dict[str, str]] = []
    error: str = ""
    message: str = ""
    message_failed: bool = False
    busy: bool = False
    _filters: DeliveryFilters = DeliveryFilters()

    async def _refuse(self):
        """Show nothing, and send a stranger to the login page."""
        self.rows, self.has_more = [], False
        signed_in = (await self.get_state(AuthState))._user_id
        return rx.toast.error("Admins only.") if signed_in else to_login(self)

    def _read(self, admin_id: int) -> None:
        with read_session() as session:
            found = list_deliveries(
                session=session,
                admin_user_id=admin_id,
                filters=self._filters,
                page=self.page,
                page_size=PAGE_SIZE,
            )
        self.rows = [_row(row) for row in found.rows]
        self.has_more = found.has_more

    async def _show(self):
        admin_id = await current_admin_id(self)
        if not admin_id:
            return await self._refuse()
        try:
            self._read(admin_id)
        except CreditsError as exc:
            self.rows, self.error = [], readable(exc)
        return None

    @rx.event
    async def load(self):
        """On page load: the newest deliveries under the current filters."""
        self.message, self.error = "", ""
        return await self._show()

    @rx.event
    async def apply_filters(self, form: dict):
        """Apply the filter bar; a bad filter is a readable error and lists nothing new."""
        self.outcome = str(form.get("outcome", "") or "all")
        self.event_type = str(form.get("event_type", ""))
        self.search = str(form.get("search", ""))
        self.since, self.until = str(form.get("since", "")), str(form.get("until", ""))
        self.error, self.message = "", ""
        if not await current_admin_id(self):
            return await self._refuse()
        try:
            self._filters = parse_filters(
                outcome=self.outcome,
                event_type=self.event_type,
                search=self.search,
                since=self.since,
                until=self.until,
            )
        except CreditsError as exc:
            self.error = readable(exc)
            return None
        self.page = 1
        return await self._show()

    @rx.event
    async def older(self):
        """The next (older) page."""
        if self.has_more:
            self.page += 1
        return await self._show()

    @rx.event
    async def newer(self):
        """The previous (newer) page."""
        self.page = max(1, self.page - 1)
        return await self._show()

    @rx.event
    async def reapply(self, delivery_id: str):
        """Re-apply one failed delivery, say how it ended, and read the list again."""
        self.message, self.message_failed, self.error = "", False, ""
        admin_id = await current_admin_id(self)
        if not admin_id:
            yield await self._refuse()
            return
        if not str(delivery_id).isdigit():
            self.message, self.message_failed = "No such delivery.", True
            return
        self.busy = True
        yield
        try:
            result = await asyncio.to_thread(_reapply, int(delivery_id), admin_id)
            self.message = _reapplied(result)
            self.message_failed = result.outcome == "failed"
        except CreditsError as exc:
            self.message, self.message_failed = readable(exc), True
        finally:
            self.busy = False
        yield await self._show()
