"""Analytics pages: a user's usage and credit flows, and everyone's flows for admins.

Both read a range of UTC days from the daily rollups (`credits_app.services.analytics`);
the range comes from two date inputs, or a preset of the last 7, 30 or 90 days.
"""

from __future__ import annotations

from datetime import timedelta

import reflex as rx

from credits_app.db import read_session
from credits_app.services.admin_grants import require_admin
from credits_app.services.analytics import (
    FLOWS,
    DayRange,
    FlowReport,
    day_range,
    flow_report,
    today,
    usage_report,
    user_flow_report,
)
from credits_app.services.errors import Forbidden, InvalidRequest
from credits_app.state.auth import current_user_id, to_login, user_scoped
from credits_app.state.readable import labelled

FIELD_LABELS = {"from": "From", "to": "To"}


def _chart_day(day) -> str:
    return day.strftime("%b %d")


def _flow_rows(report: FlowReport) -> list[dict[str, int | str]]:
    """One row per day for the charts and the table, newest last."""
    return [
        {
            "day": _chart_day(d.day),
            "date": d.day.isoformat(),
            **{name: getattr(d, name) for name in FLOWS},
            "outstanding": d.outstanding,
            "debt": d.debt,
        }
        for d in report.by_day
    ]


class RangeState(rx.State, mixin=True):
    """The range inputs and their events, shared by both analytics pages.

    A mixin: each page's state gets its own copy of the inputs, and its own `_show`.
    """

    first: str = ""
    last: str = ""
    error: str = ""
    loaded: bool = False

    @rx.event
    def set_first(self, value: str):
        """Follow the first day's input."""
        self.first = value

    @rx.event
    def set_last(self, value: str):
        """Follow the last day's input."""
        self.last = value

    @rx.event
    async def load(self):
        """Show the last 30 days."""
        return await self._show(30)

    @rx.event
    async def preset(self, days: int):
        """Show the last `days` days."""
        return await self._show(int(days))

    @rx.event
    async def apply(self, form: dict):
        """Show the range in the form."""
        self.first, self.last = str(form.get("from", "")), str(form.get("to", ""))
        return await self._show(None)

    async def _show(self, days: int | None):
        """Read and show the last `days` days, or the range in the inputs (each page's own)."""
        raise NotImplementedError

    def _range(self, days: int | None = None) -> DayRange | None:
        """The range asked for (or the last `days`), or None with `error` set."""
        try:
            if days:
                end = today()
                found = day_range(end - timedelta(days=days - 1), end)
            else:
                found = day_range(self.first, self.last)
        except InvalidRequest as exc:
            self.error = labelled(exc, FIELD_LABELS)
            return None
        self.error = ""
        self.first, self.last = found.first.isoformat(), found.last.isoformat()
        return found


@user_scoped
class AnalyticsState(RangeState, rx.State):
    """A user's usage per day and feature, top features, and bought against used."""

    usage_chart: list[dict[str, int | str]] = []
    features: list[str] = []
    by_feature: list[dict[str, str]] = []
    flows: list[dict[str, int | str]] = []
    totals: dict[str, int] = {}
    used: int = 0
    uses: int = 0

    async def _show(self, days: int | None):
        user_id = await current_user_id(self)
        if not user_id:
            return to_login(self)
        found = self._range(days)
        if found is None:
            return None
        with read_session() as session:
            usage = usage_report(session=session, user_id=user_id, days=found)
            flows = user_flow_report(session=session, user_id=user_id, days=found)
        self.features = [f.feature for f in usage.by_feature]
        self.usage_chart = [
            {"day": _chart_day(d.day), **{f: d.by_feature.get(f, 0) for f in self.features}}
            for d in usage.by_day
        ]
        self.by_feature = [
            {
                "feature": f.feature,
                "credits": f"{f.credits:,}",
                "uses": f"{f.uses:,}",
                "share": f"{f.credits * 100 // usage.credits}%" if usage.credits else "0%",
            }
            for f in usage.by_feature
        ]
        self.flows = _flow_rows(flows)
        self.totals = flows.totals
        self.used, self.uses = usage.credits, usage.uses
        self.loaded = True
        return None


@user_scoped
class AdminAnalyticsState(RangeState, rx.State):
    """Everyone's credits sold, given, used, expired, clawed back and outstanding per day."""

    flows: list[dict[str, int | str]] = []
    totals: dict[str, int] = {}
    outstanding: int = 0
    debt: int = 0
    forbidden: bool = False

    async def _show(self, days: int | None):
        user_id = await current_user_id(self)
        if not user_id:
            return to_login(self)
        with read_session() as session:
            try:
                require_admin(session=session, user_id=user_id)
            except Forbidden:
                self.forbidden = True
                return None
            self.forbidden = False
            found = self._range(days)
            if found is None:
                return None
            report = flow_report(session=session, days=found)
        self.flows = _flow_rows(report)
        self.totals = report.totals
        self.outstanding, self.debt = report.by_day[-1].outstanding, report.by_day[-1].debt
        self.loaded = True
        return None
