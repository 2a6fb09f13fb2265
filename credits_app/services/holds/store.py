"""Shared pieces of the hold workflow: the locked unit of work and resolving a hold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Row, bindparam, select, update
from sqlmodel import Session

from credits_app.models import CreditHold, EntryKind, HoldStatus
from credits_app.services.accounts import lock_account
from credits_app.services.errors import CreditsError
from credits_app.services.holds.results import SettleResult
from credits_app.services.journal import AccountState, Movement, post, publish, record_usage
from credits_app.services.lots import (
    apply_draws,
    expire_due_lots,
    expire_returned,
    give_back_plan,
    hold_pins,
)

holds = CreditHold.__table__
HOLD_SOURCE = "hold"
T = TypeVar("T")


class ManagedBy(StrEnum):
    """Who settles a hold (the `managed_by` column); expiry frees holds of both kinds.

    An `api` hold is its client's to capture or release through the public routes. An
    `ai-run` hold is settled only by the AI run that reserved it, which charges for the
    output it delivered; letting its client release it would make that output free.
    """

    API = "api"
    AI_RUN = "ai-run"


def hold_ref(hold_id: int) -> str:
    """The ledger `source_ref` of a hold's entries: one entry of each kind per hold, at most."""
    return f"hold:{hold_id}"


def load_hold(session: Session, state: AccountState, hold_id: int) -> Row | None:
    """Return the hold if it belongs to this account."""
    query = select(holds).where(holds.c.id == hold_id, holds.c.account_id == state.id)
    return session.exec(query).one_or_none()


def resolve_hold(
    session: Session,
    state: AccountState,
    hold: Row,
    *,
    kind: EntryKind,
    key: str,
    now: datetime,
    captured: int = 0,
) -> SettleResult:
    """Resolve an active hold once (no commit): spend `captured`, release the rest.

    The captured credits stay drawn from the lots the hold pinned first in burn order; the
    rest goes back to the others, and what returns to a lot that ended meanwhile expires at
    once. The caller holds the account lock. The conditional status update makes a second
    resolution impossible even if that lock were ever missing.
    """
    status = {
        EntryKind.CAPTURE: HoldStatus.CAPTURED,
        EntryKind.RELEASE: HoldStatus.RELEASED,
        EntryKind.EXPIRE: HoldStatus.EXPIRED,
    }[kind]
    changed = session.exec(
        update(holds)
        .where(holds.c.id == hold.id, holds.c.status == HoldStatus.ACTIVE)
        .values(status=status, captured=captured if captured else None, resolved_at=now)
    )
    if changed.rowcount != 1:
        raise RuntimeError(f"hold {hold.id} was resolved concurrently despite the account lock")
    move = Movement(
        kind=kind,
        amount=captured or hold.amount,
        key=key,
        source=HOLD_SOURCE,
        source_ref=hold_ref(hold.id),
        delta=-captured,
        held_delta=-hold.amount,
        feature=hold.feature,
        hold_id=hold.id,
    )
    entry_id = post(session, state, move, now)
    returns = give_back_plan(hold_pins(session, hold.id), hold.amount - captured)
    apply_draws(session, returns, entry_id=entry_id, hold_id=hold.id)
    if captured:
        record_usage(
            session,
            user_id=state.user_id,
            feature=hold.feature,
            credits=captured,
            entry_id=entry_id,
            now=now,
        )
    expire_returned(session, state, returns, entry_id, now)
    return SettleResult(
        hold.id,
        state.user_id,
        status,
        captured,
        hold.amount - captured,
        state.balance,
        state.available,
        entry_id,
    )


_DUE_HOLDS = (
    select(holds)
    .where(
        holds.c.account_id == bindparam("account"),
        holds.c.status == HoldStatus.ACTIVE,
        holds.c.expires_at <= bindparam("now"),
    )
    .order_by(holds.c.id)
)


def expire_account_holds(session: Session, state: AccountState, now: datetime) -> int:
    """Release every active hold of this locked account whose time ran out (no commit)."""
    due = state.conn(session).execute(_DUE_HOLDS, {"account": state.id, "now": now}).all()
    for hold in due:
        resolve_hold(session, state, hold, kind=EntryKind.EXPIRE, key=f"expire:{hold.id}", now=now)
    return len(due)


def expire_due(session: Session, state: AccountState, now: datetime) -> tuple[int, int]:
    """Expire what ran out on this locked account, as every write does first (no commit).

    Lots end first (and plan periods roll over), then holds past their time are released,
    and what they give back to a lot that ended meanwhile expires at once. The counts are
    kept on `state` and returned as (holds, lots).
    """
    # The lock said whether anything was due; a grant since may have made a lot due, so
    # callers after a write pass a fresh state or call `expire_due_lots` themselves.
    state.lapsed = expire_due_lots(session, state, now) if state.lots_due else 0
    state.expired = expire_account_holds(session, state, now) if state.holds_due else 0
    state.lots_due = state.holds_due = False
    return state.expired, state.lapsed


def locked_unit(
    session: Session, *, user_id: int, now: datetime, body: Callable[[AccountState], T]
) -> T:
    """Lock the user's account, lazily expire due lots and holds, run `body`, commit, publish.

    When `body` raises a CreditsError the expiries found on the way are still committed
    (they happened whatever the caller wanted), then the error propagates.
    """
    changed = False
    try:
        state = lock_account(session, user_id, now)
        before = (state.balance, state.held)
        expired, lapsed = expire_due(session, state, now)
        try:
            result = body(state)
        except CreditsError:
            if not (expired or lapsed):
                raise
            session.commit()
            publish(state)
            raise
        changed = expired or lapsed or (state.balance, state.held) != before
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if changed:
        publish(state)
    return result
