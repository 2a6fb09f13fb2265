"""Credits spent per day and feature over the last N days, shaped for a stacked bar chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from credits_app.services.ledger import usage


@dataclass(frozen=True)
class DailySpend:
    """Rows (one per day, oldest first, {'day': 'Nov 25', feature: credits, ...}) and features."""

    rows: list[dict[str, int | str]]
    features: list[str]
    total: int


def daily_spend(
    *, session: Session, user_id: int, days: int = 30, today: date | None = None
) -> DailySpend:
    """Return credits spent per UTC day and feature, every day present even when zero."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    query = select(usage.c.feature, usage.c.credits, usage.c.created_at).where(
        usage.c.user_id == user_id, usage.c.created_at >= since
    )
    totals: dict[tuple[date, str], int] = {}
    for feature, credits, created_at in session.exec(query):
        if created_at.tzinfo is None:  # SQLite hands back naive UTC
            created_at = created_at.replace(tzinfo=UTC)
        key = (created_at.astimezone(UTC).date(), feature)
        totals[key] = totals.get(key, 0) + credits
    features = sorted({feature for _, feature in totals})
    rows: list[dict[str, int | str]] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row: dict[str, int | str] = {"day": day.strftime("%b %d")}
        row.update({f: totals.get((day, f), 0) for f in features})
        rows.append(row)
    return DailySpend(rows=rows, features=features, total=sum(totals.values()))
