"""Read a user's ledger and usage: newest first, paginated by id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import utcnow
from credits_app.services.accounts import accounts, require_user
from credits_app.services.errors import InvalidRequest
from credits_app.services.journal import entries, usage

MAX_PAGE = 500


@dataclass(frozen=True)
class EntryView:
    """One ledger entry as shown to people and scripts."""

    id: int
    kind: str
    amount: int
    delta: int
    balance_after: int
    available_after: int
    debt_after: int
    feature: str | None
    reason: str | None
    source: str
    source_ref: str | None
    actor_user_id: int | None
    idempotency_key: str
    created_at: datetime


@dataclass(frozen=True)
class UsageView:
    """One recorded use of a feature."""

    id: int
    feature: str
    credits: int
    entry_id: int
    created_at: datetime


def _check_page(limit: int) -> None:
    if type(limit) is not int or not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest("limit", f"must be an integer between 1 and {MAX_PAGE}")


def ledger_history(
    *, session: Session, user_id: int, limit: int = 50, before_id: int | None = None
) -> list[EntryView]:
    """Return the user's ledger entries, newest first; pass the last id as `before_id`.

    Raises:
        UserNotFound: When the user does not exist.
        InvalidRequest: When `limit` is out of range.
    """
    _check_page(limit)
    require_user(session, user_id)
    query = (
        select(entries)
        .join(accounts, accounts.c.id == entries.c.account_id)
        .where(accounts.c.user_id == user_id)
        .order_by(entries.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(entries.c.id < before_id)
    return [
        EntryView(
            id=row.id,
            kind=row.kind,
            amount=row.amount,
            delta=row.delta,
            balance_after=row.balance_after,
            available_after=row.balance_after - row.held_after,
            debt_after=row.debt_after,
            feature=row.feature,
            reason=row.reason,
            source=row.source,
            source_ref=row.source_ref,
            actor_user_id=row.actor_user_id,
            idempotency_key=row.idempotency_key,
            created_at=row.created_at,
        )
        for row in session.exec(query)
    ]


def usage_history(
    *, session: Session, user_id: int, limit: int = 50, before_id: int | None = None
) -> list[UsageView]:
    """Return the user's usage events, newest first; pass the last id as `before_id`."""
    _check_page(limit)
    query = select(usage).where(usage.c.user_id == user_id).order_by(usage.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(usage.c.id < before_id)
    return [
        UsageView(r.id, r.feature, r.credits, r.entry_id, r.created_at) for r in session.exec(query)
    ]


def spent_by_feature(*, session: Session, user_id: int, days: int = 30) -> dict[str, int]:
    """Return credits spent per feature over the last `days` days."""
    since = utcnow() - timedelta(days=days)
    query = (
        select(usage.c.feature, func.sum(usage.c.credits))
        .where(usage.c.user_id == user_id, usage.c.created_at >= since)
        .group_by(usage.c.feature)
        .order_by(usage.c.feature)
    )
    return {feature: int(total) for feature, total in session.exec(query)}
