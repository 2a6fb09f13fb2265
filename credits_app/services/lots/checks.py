"""Ledger invariants about lots, run by `check_ledger` (and `python -m credits_app check`)."""

from __future__ import annotations

from sqlalchemy import case, func, or_, select
from sqlmodel import Session

from credits_app.models import CreditHold, EntryKind, HoldStatus, LotSource
from credits_app.services.journal import accounts, entries
from credits_app.services.lots.store import allocations, lots

holds = CreditHold.__table__


def _sum_by(value, key):
    """Totals of `value` per `key`, as a subquery with columns `key` and `total`."""
    return select(key.label("key"), func.sum(value).label("total")).group_by(key).subquery()


def _lots_replay(session: Session) -> list[str]:
    moved = _sum_by(allocations.c.amount, allocations.c.lot_id)
    query = (
        select(lots.c.id, lots.c.amount, lots.c.remaining, moved.c.total)
        .outerjoin(moved, moved.c.key == lots.c.id)
        .where(lots.c.remaining != lots.c.amount + func.coalesce(moved.c.total, 0))
    )
    return [
        f"lot {r.id}: remaining is {r.remaining} but its amount {r.amount} and allocations "
        f"{int(r.total or 0)} give {r.amount + int(r.total or 0)}"
        for r in session.exec(query.limit(100))
    ]


def _accounts_match_lots(session: Session) -> list[str]:
    left = _sum_by(lots.c.remaining, lots.c.account_id)
    query = (
        select(accounts.c.id, accounts.c.balance, accounts.c.held, left.c.total)
        .outerjoin(left, left.c.key == accounts.c.id)
        .where(accounts.c.balance - accounts.c.held != func.coalesce(left.c.total, 0))
    )
    return [
        f"account {r.id}: balance {r.balance} minus held {r.held} is not what its lots hold "
        f"({int(r.total or 0)})"
        for r in session.exec(query.limit(100))
    ]


def _draws_within_windows(session: Session) -> list[str]:
    query = (
        select(allocations.c.id, allocations.c.lot_id, entries.c.id.label("entry"))
        .join(entries, entries.c.id == allocations.c.entry_id)
        .join(lots, lots.c.id == allocations.c.lot_id)
        .where(
            allocations.c.amount < 0,
            entries.c.kind != EntryKind.EXPIRE,
            # The grant that made a lot settles debt from it whatever its window.
            or_(lots.c.entry_id.is_(None), entries.c.id != lots.c.entry_id),
            or_(
                entries.c.created_at < lots.c.effective_at,
                lots.c.expires_at <= entries.c.created_at,
            ),
            lots.c.source != LotSource.MIGRATED,
        )
    )
    return [
        f"entry {r.entry} drew from lot {r.lot_id} outside the lot's window"
        for r in session.exec(query.limit(100))
    ]


def _lots_began():
    """Per account, the last entry written before it had lots (`upto`).

    Migration 0009 turned each balance into a lot whose `entry_id` is the account's last
    entry until then; an account with nothing left got no lot, and its first lot came with
    a later grant, so everything before that grant's entry came before lots. An account with
    no lot at all never had credits since lots began: it has nothing to compare.
    """
    upto = case((lots.c.source == LotSource.MIGRATED, lots.c.entry_id), else_=lots.c.entry_id - 1)
    return (
        select(
            lots.c.account_id.label("key"),
            func.min(upto).label("upto"),
        )
        .group_by(lots.c.account_id)
        .subquery()
    )


def _entries_match_allocations(session: Session) -> list[str]:
    """Each entry since lots began moved lots by exactly what it moved available credits."""
    moved = _sum_by(allocations.c.amount, allocations.c.entry_id)
    created = _sum_by(lots.c.amount, lots.c.entry_id)
    began = _lots_began()
    expected = func.coalesce(moved.c.total, 0) + func.coalesce(created.c.total, 0)
    query = (
        select(entries.c.id, entries.c.kind)
        .outerjoin(moved, moved.c.key == entries.c.id)
        .outerjoin(created, created.c.key == entries.c.id)
        .join(began, began.c.key == entries.c.account_id)
        .where(
            entries.c.id > began.c.upto,
            entries.c.delta - entries.c.held_delta != expected,
        )
    )
    return [
        f"entry {r.id} ({r.kind}): the lots it moved do not add up to the credits it moved"
        for r in session.exec(query.limit(100))
    ]


def _holds_match_pins(session: Session) -> list[str]:
    pinned = _sum_by(allocations.c.amount, allocations.c.hold_id)
    keeps = func.coalesce(holds.c.captured, 0)
    began = _lots_began()
    opened = (
        select(entries.c.hold_id.label("key"), entries.c.id.label("entry"))
        .where(entries.c.kind == EntryKind.HOLD)
        .subquery()
    )
    # Holds made before the account had lots never pinned one.
    query = (
        select(holds.c.id, holds.c.status, holds.c.amount, keeps.label("kept"), pinned.c.total)
        .outerjoin(pinned, pinned.c.key == holds.c.id)
        .join(opened, opened.c.key == holds.c.id)
        .outerjoin(began, began.c.key == holds.c.account_id)
        .where(holds.c.status != HoldStatus.ACTIVE)
        .where(-func.coalesce(pinned.c.total, 0) != keeps)
        .where(or_(pinned.c.total.is_not(None), opened.c.entry > began.c.upto))
    )
    active = (
        select(holds.c.id, holds.c.status, holds.c.amount, pinned.c.total)
        .outerjoin(pinned, pinned.c.key == holds.c.id)
        .where(holds.c.status == HoldStatus.ACTIVE)
        .where(-func.coalesce(pinned.c.total, 0) != holds.c.amount)
    )
    return [
        f"hold {r.id} ({r.status}): its lots keep {-int(r.total or 0)} credits, not {r.kept}"
        for r in session.exec(query.limit(100))
    ] + [
        f"hold {r.id} (active): it pins {-int(r.total or 0)} credits in lots, not {r.amount}"
        for r in session.exec(active.limit(100))
    ]


def check_lots(session: Session) -> list[str]:
    """Return a line for every lot invariant violated.

    Checked: each lot's `remaining` is its amount plus its allocations (a replay); each
    account's balance minus held credits is what its lots hold; no lot was drawn outside its
    window except by its own expiry or by its grant settling debt; each entry since the
    account's lots began moved lots by exactly the credits it made available or took; each
    hold pins its amount while active and keeps exactly what it captured once resolved.
    """
    return (
        _lots_replay(session)
        + _accounts_match_lots(session)
        + _draws_within_windows(session)
        + _entries_match_allocations(session)
        + _holds_match_pins(session)
    )
