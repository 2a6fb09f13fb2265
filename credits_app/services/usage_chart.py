"""Credits spent per day and feature over the last N days, shaped for a stacked bar chart.

The daily usage rollup holds one row per UTC day and feature, however many uses there
were, and `chart_update` lets a page skip even that when no usage happened
since it last drew the chart: most balance changes (grants, holds, releases) are not usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.services.rollups import usage_by_day_and_feature, usage_daily


@dataclass(frozen=True)
class DailySpend:
    """Rows (one per day, oldest first, {'day': 'Nov 25', feature: credits, ...}) and features."""

    rows: list[dict[str, int | str]]
    features: list[str]
    total: int


def _window(days: int, today: date | None) -> tuple[date, date]:
    """Return (today, first day)."""
    today = today or datetime.now(UTC).date()
    return today, today - timedelta(days=days - 1)


def daily_spend(
    *, session: Session, user_id: int, days: int = 30, today: date | None = None
) -> DailySpend:
    """Return credits spent per UTC day and feature, every day present even when zero."""
    today, first = _window(days, today)
    totals = {
        key: credits
        for key, (credits, _uses) in usage_by_day_and_feature(
            session, user_id=user_id, first=first, last=today
        ).items()
    }
    features = sorted({feature for _, feature in totals})
    rows: list[dict[str, int | str]] = []
    for offset in range(days):
        when = first + timedelta(days=offset)
        row: dict[str, int | str] = {"day": when.strftime("%b %d")}
        row.update({f: totals.get((when, f), 0) for f in features})
        rows.append(row)
    return DailySpend(rows=rows, features=features, total=sum(totals.values()))


def usage_mark(*, session: Session, user_id: int, days: int = 30, today: date | None = None) -> str:
    """Return a short text that changes whenever the chart of these days would change.

    Usage is never updated or deleted, so the count of uses in the window's rollup rows
    grows with every new use: the day plus that count identify the chart's contents.
    """
    today, first = _window(days, today)
    query = select(func.coalesce(func.sum(usage_daily.c.uses), 0)).where(
        usage_daily.c.user_id == user_id, usage_daily.c.day >= first, usage_daily.c.day <= today
    )
    uses = session.exec(query).scalar_one()
    return f"{user_id}/{today.isoformat()}/{int(uses)}"


def chart_update(
    *, session: Session, user_id: int, seen: str, days: int = 30, today: date | None = None
) -> tuple[str, DailySpend | None]:
    """Return the current usage mark, and the chart only if the mark differs from `seen`.

    A page keeps the mark of the chart it shows and calls this after every balance change:
    a grant, hold or release costs one small indexed count, not a new chart.
    """
    mark = usage_mark(session=session, user_id=user_id, days=days, today=today)
    if mark == seen:
        return mark, None
    return mark, daily_spend(session=session, user_id=user_id, days=days, today=today)
