"""Lots: creating them with a grant, drawing from them in burn order, giving credits back.

Burn order (documented in docs/lots.md, pinned by a golden test):
1. lower `priority` first;
2. then the soonest `expires_at` (lots that never expire last);
3. then promotional before paid;
4. then the oldest (`effective_at`, then id).

Every change to a lot's `remaining` is an allocation row tied to the ledger entry that made
it, so "which lots paid for this" is one indexed read and `remaining` can be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Row, bindparam, case, func, insert, select, update
from sqlmodel import Session

from credits_app.models import CreditLot, EntryKind, LotAllocation, LotCategory, LotSource
from credits_app.services.errors import InvalidRequest
from credits_app.services.journal import AccountState, Movement, post
from credits_app.services.prepared import Prepared

lots = CreditLot.__table__
allocations = LotAllocation.__table__


def _burn_order(table):
    """The burn order over `table` (the lot table or an alias of it)."""
    return (
        table.c.priority,
        case((table.c.expires_at.is_(None), 1), else_=0),
        table.c.expires_at,
        case((table.c.category == LotCategory.PROMOTIONAL, 0), else_=1),
        table.c.effective_at,
        table.c.id,
    )


BURN_ORDER = _burn_order(lots)
# Most spends touch one lot; reading a few more covers the rest without scanning them all.
SCAN_BATCH = 8
# How long before its end a lot granted after that end starts (its window cannot be empty).
ENDED_LOT_SPAN = timedelta(microseconds=1)

_INSERT_ALLOCATIONS = Prepared(
    insert(allocations), keys=("lot_id", "entry_id", "hold_id", "amount")
)
_INSERT_LOT = insert(lots).returning(lots.c.id)
_MOVE_LOT = (
    update(lots)
    .where(
        lots.c.id == bindparam("lot"),
        lots.c.remaining + bindparam("by") >= 0,
        lots.c.remaining + bindparam("by") <= lots.c.amount,
    )
    .values(remaining=lots.c.remaining + bindparam("by"))
)


@dataclass(frozen=True)
class LotTerms:
    """How a grant's lot behaves: its category, priority, window and where it came from."""

    source: str = LotSource.ADMIN
    category: str = LotCategory.PAID
    priority: int = 0
    effective_at: datetime | None = None  # None: from the moment of the grant
    expires_at: datetime | None = None  # None: never
    funded_by: str | None = None
    rollover_max: int | None = None


@dataclass
class Draw:
    """Credits to take from (negative) or give back to (positive) one lot."""

    lot_id: int
    amount: int
    expires_at: datetime | None = None


@dataclass
class DrawPlan:
    """What a draw takes from which lots, and how much of the request it could not cover."""

    draws: list[Draw] = field(default_factory=list)
    shortfall: int = 0
    moved: bool = False  # the lots were moved already; only the allocations remain to write

    @property
    def taken(self) -> int:
        """Credits the plan takes in all."""
        return -sum(d.amount for d in self.draws)


def lot_window(terms: LotTerms, now: datetime) -> tuple[datetime, datetime | None]:
    """When the lot of a grant made at `now` under `terms` starts and ends.

    A lot starts at `terms.effective_at`, or at the grant when none is given. Credits given
    back after the moment they would have expired (a dispute won after the purchase's
    credits ran out) keep that end: their lot starts just before it, so it has ended already
    and expires in the grant's own transaction without ever being spendable.

    Raises:
        InvalidRequest: When a given start is not before the end, or a moment has no offset.
    """
    starts, ends = terms.effective_at, terms.expires_at
    for name, moment in (("effectiveAt", starts), ("expiresAt", ends)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidRequest(name, "must be a date and time with a UTC offset")
    if starts is not None:
        if ends is not None and ends <= starts:
            raise InvalidRequest("expiresAt", "must be after the moment the credits start")
        return starts, ends
    if ends is not None and ends <= now:
        return ends - ENDED_LOT_SPAN, ends
    return now, ends


def spendable(now: datetime):
    """The condition for a lot's credits to be spendable at `now`."""
    return (
        (lots.c.remaining > 0)
        & (lots.c.effective_at <= now)
        & (lots.c.expires_at.is_(None) | (lots.c.expires_at > now))
    )


_PICK = lots.alias("pick")
_NOW = bindparam("now")
# One statement for the usual spend: the first spendable lot in burn order gives all of it.
_TAKE_FIRST = Prepared(
    update(lots)
    .where(
        lots.c.id
        == select(_PICK.c.id)
        .where(
            _PICK.c.account_id == bindparam("account"),
            _PICK.c.remaining > 0,
            _PICK.c.effective_at <= _NOW,
            _PICK.c.expires_at.is_(None) | (_PICK.c.expires_at > _NOW),
        )
        .order_by(*_burn_order(_PICK))
        .limit(1)
        .scalar_subquery(),
        lots.c.remaining >= bindparam("take"),
    )
    .values(remaining=lots.c.remaining - bindparam("take"))
    .returning(lots.c.id, lots.c.expires_at)
)


def take(session: Session, state: AccountState, amount: int, now: datetime) -> DrawPlan:
    """Take `amount` from lots in burn order, in one statement when the first lot has it.

    The usual spend fits in the first lot in burn order, which one conditional UPDATE finds
    and moves; anything else is planned by `plan_draw`.

    The returned plan says whether the lots were `moved` already; `apply_draws` then only
    records the allocations.
    """
    params = {"account": state.id, "now": now, "take": amount}
    row = _TAKE_FIRST.one_or_none(state.conn(session), params)
    if row is not None:
        return DrawPlan([Draw(row.id, -amount, row.expires_at)], moved=True)
    return plan_draw(session, state, amount, now)


_SCAN = (
    select(lots.c.id, lots.c.remaining, lots.c.expires_at)
    .where(lots.c.account_id == bindparam("account"), spendable(_NOW))
    .order_by(*BURN_ORDER)
    .limit(SCAN_BATCH)
    .offset(bindparam("offset"))
)
_SCAN_FUNDED = _SCAN.where(lots.c.funded_by == bindparam("first"))


def plan_draw(
    session: Session,
    state: AccountState,
    amount: int,
    now: datetime,
    *,
    first: str | None = None,
) -> DrawPlan:
    """Choose lots to take `amount` from in burn order (no writes).

    `first` names a Stripe object whose lots are drawn before any other (a refund takes
    back the credits its payment bought first). Lots are read a few at a time, so a user
    with hundreds of lots pays for the ones a spend touches, not for all of them.
    """
    plan = DrawPlan()
    need = amount
    seen: set[int] = set()
    connection = state.conn(session)
    for scan in [_SCAN_FUNDED, _SCAN] if first else [_SCAN]:
        offset = 0
        while need > 0:
            params = {"account": state.id, "now": now, "offset": offset, "first": first}
            rows = connection.execute(scan, params).all()
            for row in rows:
                if need == 0:
                    break
                if row.id in seen:
                    continue
                seen.add(row.id)
                take = min(row.remaining, need)
                plan.draws.append(Draw(row.id, -take, row.expires_at))
                need -= take
            if len(rows) < SCAN_BATCH:
                break
            offset += SCAN_BATCH
    plan.shortfall = need
    return plan


def apply_draws(
    session: Session,
    draws: list[Draw],
    *,
    entry_id: int,
    hold_id: int | None = None,
    moved: bool = False,
    connection: Connection | None = None,
) -> None:
    """Move each lot by its draw and record the allocations of `entry_id` (no commit).

    The update is conditional, so a lot can never go below zero or above its amount even
    if a caller's plan were stale. `moved` says `take` moved the lots already.
    """
    if not draws:
        return
    connection = connection or session.connection()
    for draw in [] if moved else draws:
        changed = connection.execute(_MOVE_LOT, {"lot": draw.lot_id, "by": draw.amount})
        if changed.rowcount != 1:
            raise RuntimeError(f"lot {draw.lot_id} cannot move by {draw.amount}")
    _INSERT_ALLOCATIONS.run_many(
        connection,
        [
            {"lot_id": d.lot_id, "entry_id": entry_id, "hold_id": hold_id, "amount": d.amount}
            for d in draws
        ],
    )


def create_lot(
    session: Session,
    state: AccountState,
    *,
    amount: int,
    terms: LotTerms,
    entry_id: int | None,
    now: datetime,
) -> int:
    """Insert a lot of `amount` credits (no commit) and return its id.

    Raises:
        InvalidRequest: When the terms' window is empty (see `lot_window`).
    """
    effective_at, expires_at = lot_window(terms, now)
    values = {
        "account_id": state.id,
        "user_id": state.user_id,
        "amount": amount,
        "remaining": amount,
        "category": terms.category,
        "priority": terms.priority,
        "effective_at": effective_at,
        "expires_at": expires_at,
        "source": terms.source,
        "funded_by": terms.funded_by,
        "entry_id": entry_id,
        "rollover_max": terms.rollover_max,
        "created_at": now,
    }
    return session.connection().execute(_INSERT_LOT, values).scalar_one()


def grant_lot(
    session: Session, state: AccountState, move: Movement, terms: LotTerms, now: datetime
) -> tuple[int, int]:
    """Post a grant of `move.amount` as a new lot, settling debt first; return (entry, lot).

    Debt is settled from the grant whatever the lot's window: credits owed are paid by the
    next grant (DESIGN), including one that starts later (it then waits with less in it) and
    one that has ended already, such as credits restored after they would have expired (a
    won dispute cancels the debt its clawback made) or a plan period's rollover that a user
    away for two periods comes back to. These draws are the grant's own, not spends, so the
    window check does not apply to them. The result does not depend on when a sweep ran.

    Raises:
        InvalidRequest: When the terms' window is empty (see `lot_window`); nothing is written.
    """
    amount = move.amount
    effective_at, _ = lot_window(terms, now)
    settled = min(state.debt, amount)
    if effective_at > now:
        state.waiting += amount - settled
    grant = Movement(
        **{
            **move.__dict__,
            "kind": EntryKind.GRANT,
            "delta": amount - settled,
            "debt_delta": -settled,
        }
    )
    entry_id = post(session, state, grant, now)
    lot_id = create_lot(session, state, amount=amount, terms=terms, entry_id=entry_id, now=now)
    if settled:
        apply_draws(session, [Draw(lot_id, -settled)], entry_id=entry_id)
    return entry_id, lot_id


def hold_pins(session: Session, hold_id: int) -> list[Row]:
    """The lots a hold still pins, with how much, in the order they were drawn (burn order)."""
    pinned = func.sum(allocations.c.amount).label("pinned")
    query = (
        select(lots.c.id, lots.c.expires_at, pinned)
        .join(lots, lots.c.id == allocations.c.lot_id)
        .where(allocations.c.hold_id == hold_id)
        .group_by(lots.c.id, lots.c.expires_at, *BURN_ORDER)
        .having(pinned < 0)
        .order_by(*BURN_ORDER)
    )
    return list(session.exec(query).all())


def give_back_plan(pins: list[Row], amount: int) -> list[Draw]:
    """Return `amount` of a hold's pinned credits, last-pinned lot first.

    What the hold keeps (its capture) stays with the lots that come first in burn order.
    """
    returns = []
    for pin in reversed(pins):
        if amount == 0:
            break
        back = min(-pin.pinned, amount)
        returns.append(Draw(pin.id, back, pin.expires_at))
        amount -= back
    if amount:
        raise RuntimeError(f"the hold pins {amount} credits fewer than it reserved")
    return returns
