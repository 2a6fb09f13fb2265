"""Read the daily rollups of usage and of the ledger, and prove them exact.

The database keeps `usage_daily` and `ledger_daily` (see `credits_app.models.analytics`)
in the same transaction as every usage event and ledger entry. Reads here cost what the
number of days, features and kinds costs, however many uses a user made.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, and_, cast, func, literal_column, or_, select
from sqlmodel import Session

from credits_app.models import LedgerDaily, UsageDaily
from credits_app.services.journal import entries, usage

usage_daily = UsageDaily.__table__
ledger_daily = LedgerDaily.__table__


def utc_day(session: Session, column):
    """The UTC calendar day of a timestamp column, as SQL for this database.

    SQLite stores naive UTC text, so date() is already the UTC day. PostgreSQL stores
    timestamptz, whose ::date follows the session's TimeZone: convert to UTC first. The
    time zone is a literal so that SELECT and GROUP BY expressions are identical. The
    rollup triggers (migration 0013) use the same expressions.
    """
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(literal_column("'UTC'"), column), Date)
    return func.date(column)


def as_date(value: date | str) -> date:
    """A day as SQLite (text) or PostgreSQL (date) hands it back."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def usage_by_day_and_feature(
    session: Session, *, user_id: int, first: date, last: date
) -> dict[tuple[date, str], tuple[int, int]]:
    """(day, feature) -> (credits, uses) of the user's usage from `first` to `last` inclusive."""
    query = select(
        usage_daily.c.day, usage_daily.c.feature, usage_daily.c.credits, usage_daily.c.uses
    ).where(
        usage_daily.c.user_id == user_id,
        usage_daily.c.day >= first,
        usage_daily.c.day <= last,
    )
    return {
        (as_date(day), feature): (int(credits), int(uses))
        for day, feature, credits, uses in session.exec(query)
    }


def usage_by_feature(
    session: Session, *, user_id: int, first: date, last: date
) -> dict[str, tuple[int, int]]:
    """Credits and uses per feature of the user's usage from `first` to `last` inclusive."""
    query = (
        select(usage_daily.c.feature, func.sum(usage_daily.c.credits), func.sum(usage_daily.c.uses))
        .where(
            usage_daily.c.user_id == user_id,
            usage_daily.c.day >= first,
            usage_daily.c.day <= last,
        )
        .group_by(usage_daily.c.feature)
    )
    return {feature: (int(c), int(u)) for feature, c, u in session.exec(query)}


def flows_by_day(
    session: Session, *, first: date, last: date, account_id: int | None = None
) -> dict[tuple[date, str, str], tuple[int, int]]:
    """(day, kind, source) -> (credits moved, debt moved) from `first` to `last` inclusive.

    One account's, or every account's when `account_id` is None.
    """
    query = (
        select(
            ledger_daily.c.day,
            ledger_daily.c.kind,
            ledger_daily.c.source,
            func.sum(ledger_daily.c.credits),
            func.sum(ledger_daily.c.debt),
        )
        .where(ledger_daily.c.day >= first, ledger_daily.c.day <= last)
        .group_by(ledger_daily.c.day, ledger_daily.c.kind, ledger_daily.c.source)
    )
    if account_id is not None:
        query = query.where(ledger_daily.c.account_id == account_id)
    return {
        (as_date(day), kind, source): (int(credits), int(debt))
        for day, kind, source, credits, debt in session.exec(query)
    }


def totals_before(session: Session, *, day: date, account_id: int | None = None) -> tuple[int, int]:
    """(balance, debt) summed over every entry before `day`: what was outstanding then."""
    query = select(
        func.coalesce(func.sum(ledger_daily.c.credits), 0),
        func.coalesce(func.sum(ledger_daily.c.debt), 0),
    ).where(ledger_daily.c.day < day)
    if account_id is not None:
        query = query.where(ledger_daily.c.account_id == account_id)
    credits, debt = session.exec(query).one()
    return int(credits), int(debt)


def _differences(session: Session, rollup, raw, keys: list[str], sums: dict[str, object]):
    """Rows where the rollup and a fresh aggregation of the raw rows disagree (either side)."""
    day = utc_day(session, raw.c.created_at)
    fresh = (
        select(
            *(raw.c[k] for k in keys),
            day.label("day"),
            *(func.sum(expr).label(name) for name, expr in sums.items()),
        )
        .group_by(*(raw.c[k] for k in keys), day)
        .subquery()
    )
    match = and_(*(fresh.c[k] == rollup.c[k] for k in keys), fresh.c.day == rollup.c.day)
    differs = or_(*(fresh.c[name] != rollup.c[name] for name in sums))
    missing = select(*(fresh.c[k] for k in keys), fresh.c.day).outerjoin(rollup, match)
    missing = missing.where(or_(rollup.c[keys[0]].is_(None), differs))
    extra = select(*(rollup.c[k] for k in keys), rollup.c.day).outerjoin(fresh, match)
    extra = extra.where(fresh.c[keys[0]].is_(None))
    return list(session.exec(missing.limit(50))) + list(session.exec(extra.limit(50)))


def check_rollups(session: Session) -> list[str]:
    """Return a line for each rollup row that differs from the raw rows it sums."""
    problems = []
    usage_sums = {"credits": usage.c.credits, "uses": literal_column("1")}
    for row in _differences(session, usage_daily, usage, ["user_id", "feature"], usage_sums):
        problems.append(f"usage_daily for user {row[0]}, {row[1]!r} on {row[2]} is not exact")
    ledger_sums = {
        "credits": entries.c.delta,
        "held": entries.c.held_delta,
        "debt": entries.c.debt_delta,
        "entries": literal_column("1"),
    }
    keys = ["account_id", "kind", "source"]
    for row in _differences(session, ledger_daily, entries, keys, ledger_sums):
        problems.append(
            f"ledger_daily for account {row[0]}, {row[1]} from {row[2]} on {row[3]} is not exact"
        )
    return problems


def _fresh_usage(session: Session):
    day = utc_day(session, usage.c.created_at)
    return select(
        usage.c.user_id, day, usage.c.feature, func.sum(usage.c.credits), func.count()
    ).group_by(usage.c.user_id, day, usage.c.feature)


def _fresh_ledger(session: Session):
    day = utc_day(session, entries.c.created_at)
    keys = (entries.c.account_id, day, entries.c.kind, entries.c.source)
    return select(
        *keys,
        func.sum(entries.c.delta),
        func.sum(entries.c.held_delta),
        func.sum(entries.c.debt_delta),
        func.count(),
    ).group_by(*keys)


def rebuild_rollups(session: Session) -> None:
    """Sum both rollups afresh from the raw rows (no commit).

    Never needed in normal operation; it is the repair after someone edited or deleted
    ledger or usage rows by hand, which the triggers do not follow (they add inserts only).
    """
    session.exec(usage_daily.delete())
    session.exec(ledger_daily.delete())
    usage_columns = ["user_id", "day", "feature", "credits", "uses"]
    session.exec(usage_daily.insert().from_select(usage_columns, _fresh_usage(session)))
    ledger_columns = ["account_id", "day", "kind", "source", "credits", "held", "debt", "entries"]
    session.exec(ledger_daily.insert().from_select(ledger_columns, _fresh_ledger(session)))
