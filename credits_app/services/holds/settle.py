"""Settle a hold: capture what the work really cost (the rest goes back), or release it all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from credits_app.models import EntryKind, HoldStatus, utcnow
from credits_app.services.accounts import waiting_after
from credits_app.services.errors import Forbidden, IdempotencyConflict
from credits_app.services.holds.errors import (
    AmountExceedsHold,
    HoldExpired,
    HoldNotActive,
    HoldNotFound,
)
from credits_app.services.holds.results import SettleResult
from credits_app.services.holds.store import (
    ManagedBy,
    holds,
    load_hold,
    locked_unit,
    resolve_hold,
)
from credits_app.services.journal import AccountState, find_entry
from credits_app.services.validation import validate_amount, validate_key

_STATUS_OF = {EntryKind.CAPTURE: HoldStatus.CAPTURED, EntryKind.RELEASE: HoldStatus.RELEASED}
_SETTLED_BY = {
    ManagedBy.API: "the API client that reserved it",
    ManagedBy.AI_RUN: "the AI run that reserved it, which charges for the output it delivered",
}


def _validate_hold_id(hold_id: object) -> int:
    # Anything that is not a positive integer cannot name a hold; say "not found", not 500.
    if type(hold_id) is not int or not 1 <= hold_id <= 2**31 - 1:
        raise HoldNotFound(hold_id)
    return hold_id


def _replay(
    session: Session, state: AccountState, kind: EntryKind, key: str, hold_id: int, amount
) -> SettleResult | None:
    entry = find_entry(session, user_id=state.user_id, kind=kind, key=key)
    if entry is None:
        return None
    differing = ["holdId"] if entry.hold_id != hold_id else []
    if amount is not None and entry.amount != amount:
        differing.append("amount")
    if differing:
        raise IdempotencyConflict(key, differing)
    captured = -entry.delta
    return SettleResult(
        hold_id=hold_id,
        user_id=state.user_id,
        status=_STATUS_OF[kind],
        captured=captured,
        released=-entry.held_delta - captured,
        balance=entry.balance_after,
        available=entry.balance_after - entry.held_after - waiting_after(session, entry.id),
        entry_id=entry.id,
        replayed=True,
    )


def _refuse_other_manager(session: Session, user_id: int, hold_id: int, managed_by: str) -> None:
    """Refuse to settle a hold someone else manages, before locking or changing anything.

    `managed_by` never changes, so reading it outside the lock is safe; another user's hold
    is left to the locked unit, which answers "not found".
    """
    query = select(holds.c.managed_by).where(holds.c.id == hold_id, holds.c.user_id == user_id)
    manager = session.exec(query).scalar_one_or_none()
    session.rollback()  # end the read: on SQLite it holds the write lock
    if manager is not None and manager != managed_by:
        who = _SETTLED_BY.get(manager, repr(manager))
        raise Forbidden(f"hold {hold_id} can only be captured or released by {who}")


def _require_active(hold: Row) -> None:
    if hold.status == HoldStatus.EXPIRED:
        raise HoldExpired(hold.id)
    if hold.status != HoldStatus.ACTIVE:
        raise HoldNotActive(hold.id, hold.status)


def _settle(
    session: Session,
    *,
    user_id: int,
    hold_id: object,
    kind: EntryKind,
    key: str,
    amount: int | None,
    now: datetime | None,
    feature: str | None,
    managed_by: str,
) -> SettleResult:
    hold_id = _validate_hold_id(hold_id)
    now = now or utcnow()
    _refuse_other_manager(session, user_id, hold_id, managed_by)

    def body(state: AccountState) -> SettleResult:
        # Due holds were expired just before this runs, so the status read here is current.
        hold = load_hold(session, state, hold_id)
        if hold is None:
            raise HoldNotFound(hold_id)
        if feature is not None and hold.feature != feature:
            # A token for one feature must not settle (spend) another feature's hold.
            raise Forbidden(f"hold {hold_id} is for feature {hold.feature!r}, not {feature!r}")
        replayed = _replay(session, state, kind, key, hold_id, amount)
        if replayed is not None:
            return replayed
        _require_active(hold)
        if amount is not None and amount > hold.amount:
            raise AmountExceedsHold(hold.id, hold.amount, amount)
        return resolve_hold(session, state, hold, kind=kind, key=key, now=now, captured=amount or 0)

    try:
        return locked_unit(session, user_id=user_id, now=now, body=body)
    except IntegrityError:
        # A concurrent request with the same key won the race: replay what it wrote.
        return locked_unit(session, user_id=user_id, now=now, body=body)


def capture(
    *,
    session: Session,
    user_id: int,
    hold_id: int,
    amount: int,
    idempotency_key: str,
    now: datetime | None = None,
    feature: str | None = None,
    managed_by: str = ManagedBy.API,
) -> SettleResult:
    """Spend `amount` (at most the reserved credits) from a hold and release the rest.

    The spend is one `capture` ledger entry with its usage event. A reused key replays.
    `managed_by` says who is asking; a hold managed by another (e.g. an AI run's hold asked
    for by the public API) is refused without any change.

    Raises:
        InvalidRequest: For a bad amount or key; nothing is written.
        HoldNotFound: When the hold does not exist or is another user's.
        HoldNotActive: When the hold was already captured or released.
        HoldExpired: When the hold's time ran out (its credits were released).
        AmountExceedsHold: When `amount` is more than the hold reserved.
        IdempotencyConflict: When the key was used for another hold or amount.
        Forbidden: When `feature` is given and the hold was reserved for another feature,
            or when the hold is not managed by `managed_by`.
    """
    amount = validate_amount(amount)
    key = validate_key(idempotency_key)
    return _settle(
        session,
        user_id=user_id,
        hold_id=hold_id,
        kind=EntryKind.CAPTURE,
        key=key,
        amount=amount,
        now=now,
        feature=feature,
        managed_by=managed_by,
    )


def release(
    *,
    session: Session,
    user_id: int,
    hold_id: int,
    idempotency_key: str,
    now: datetime | None = None,
    feature: str | None = None,
    managed_by: str = ManagedBy.API,
) -> SettleResult:
    """Give every reserved credit of a hold back; nothing is charged. A reused key replays.

    Raises:
        InvalidRequest: For a bad key; nothing is written.
        HoldNotFound: When the hold does not exist or is another user's.
        HoldNotActive: When the hold was already captured or released.
        HoldExpired: When the hold's time ran out (its credits were released already).
        IdempotencyConflict: When the key was used to release another hold.
        Forbidden: When `feature` is given and the hold was reserved for another feature,
            or when the hold is not managed by `managed_by` (as for `capture`).
    """
    key = validate_key(idempotency_key)
    return _settle(
        session,
        user_id=user_id,
        hold_id=hold_id,
        kind=EntryKind.RELEASE,
        key=key,
        amount=None,
        now=now,
        feature=feature,
        managed_by=managed_by,
    )
