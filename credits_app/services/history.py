"""Read a user's ledger and usage: newest first, paginated by id."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import CreditLot, LotAllocation, LotSource, utcnow
from credits_app.services import rollups
from credits_app.services.accounts import accounts, require_user
from credits_app.services.errors import InvalidRequest
from credits_app.services.journal import entries, usage

MAX_PAGE = 500
lots = CreditLot.__table__
allocations = LotAllocation.__table__
# (lot id, signed credits): what one entry moved one lot by.
LotMove = tuple[int, int]


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
    # The lots the entry moved, by lot id (read only when asked for: `with_lots=True`).
    lots: tuple[LotMove, ...] = ()


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


def lot_moves(session: Session, entry_ids: Iterable[int]) -> dict[int, tuple[LotMove, ...]]:
    """What each entry moved each lot by, in lot id order: two indexed reads for a page.

    A grant moved the lot it created by the lot's amount (less any debt it settled at
    once); every other entry moved lots by its allocations: draws negative, returns
    positive. So an entry's moves add up to the credits it made available or took. The lot
    a balance became when lots were introduced (source `migrated`) was made by no entry: it
    shows only where later entries draw from it.
    """
    ids = list(entry_ids)
    if not ids:
        return {}
    moved: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    created = select(lots.c.entry_id, lots.c.id, lots.c.amount).where(
        lots.c.entry_id.in_(ids), lots.c.source != LotSource.MIGRATED
    )
    for entry_id, lot_id, amount in session.exec(created):
        moved[entry_id][lot_id] += amount
    drawn = (
        select(allocations.c.entry_id, allocations.c.lot_id, func.sum(allocations.c.amount))
        .where(allocations.c.entry_id.in_(ids))
        .group_by(allocations.c.entry_id, allocations.c.lot_id)
    )
    for entry_id, lot_id, amount in session.exec(drawn):
        moved[entry_id][lot_id] += int(amount)
    return {entry_id: tuple(sorted(per_lot.items())) for entry_id, per_lot in moved.items()}


def entry_view(row: Any) -> EntryView:
    """An entry (a row of the ledger table or a `LedgerEntry`) as people are shown it."""
    return EntryView(
        id=row.id or 0,
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


def ledger_history(
    *,
    session: Session,
    user_id: int,
    limit: int = 50,
    before_id: int | None = None,
    with_lots: bool = False,
) -> list[EntryView]:
    """Return the user's ledger entries, newest first; pass the last id as `before_id`.

    With `with_lots`, each entry also carries the lots it moved (`EntryView.lots`).

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
    views = [entry_view(row) for row in session.exec(query)]
    if not with_lots:
        return views
    moves = lot_moves(session, (view.id for view in views))
    return [replace(view, lots=moves.get(view.id, ())) for view in views]


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
    """Return credits spent per feature over the last `days` UTC days, today included.

    Read from the daily usage rollup: it costs the same at a million uses as at ten.
    """
    last = utcnow().date()
    first = last - timedelta(days=days - 1)
    totals = rollups.usage_by_feature(session, user_id=user_id, first=first, last=last)
    return {feature: credits for feature, (credits, _uses) in sorted(totals.items())}
