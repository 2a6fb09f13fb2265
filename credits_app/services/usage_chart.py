"""Credits spent per day and feature over the last N days, shaped for a stacked bar chart.

The database sums the usage (one row per UTC day and feature comes back, however many
uses there were), and `chart_update` lets a page skip even that when no usage happened
since it last drew the chart: most balance changes (grants, holds, releases) are not usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, cast, func, literal_column, select
from sqlmodel import Session

from credits_app.services.journal import usage


@dataclass(frozen=True)
class DailySpend:
    """Rows (one per day, oldest first, {'day': 'Nov 25', feature: credits, ...}) and features."""

    rows: list[dict[str, int | str]]
    features: list[str]
    total: int


def _window(days: int, today: date | None) -> tuple[date, date, datetime]:
    """Return (today, first day, the first day's UTC midnight)."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    return today, first, datetime.combine(first, datetime.min.time(), tzinfo=UTC)


def _utc_day(session: Session):
    """The UTC calendar day of a usage event, as SQL for this database.

    SQLite stores naive UTC text, so date() is already the UTC day. PostgreSQL stores
    timestamptz, whose ::date follows the session's TimeZone: convert to UTC first. The
    time zone is a literal so that the SELECT and GROUP BY expressions are identical.
    """
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(literal_column("'UTC'"), usage.c.created_at), Date)
    return func.date(usage.c.created_at)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def daily_spend(
    *, session: Session, user_id: int, days: int = 30, today: date | None = None
) -> DailySpend:
    """Return credits spent per UTC day and feature, every day present even when zero."""
    today, first, since = _window(days, today)
    day = _utc_day(session)
    query = (
        select(day, usage.c.feature, func.sum(usage.c.credits))
        .where(usage.c.user_id == user_id, usage.c.created_at >= since)
        .group_by(day, usage.c.feature)
    )
    totals = {(_as_date(d), feature): int(credits) for d, feature, credits in session.exec(query)}
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

    Usage events are never updated or deleted, and a user's events are written one at a
    time under the account lock, so the day plus the count and newest id of the events in
    the window identify its contents.
    """
    today, _, since = _window(days, today)
    query = select(func.count(), func.max(usage.c.id)).where(
        usage.c.user_id == user_id, usage.c.created_at >= since
    )
    count, newest = session.exec(query).one()
    return f"{user_id}/{today.isoformat()}/{count}/{newest or 0}"


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
