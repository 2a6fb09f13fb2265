"""Lots whose time ran out: one `expire` entry per lot, and rollover into the next period.

Expiry happens under the account lock, lazily at the start of every write (so a spend can
never draw from an expired lot, and a balance is right before any sweeper runs), and for
users who never come back by the sweeper and `python -m credits_app expire-lots`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, bindparam, select
from sqlmodel import Session

from credits_app.models import EntryKind, LotSource
from credits_app.services.accounts import rollover_of
from credits_app.services.journal import AccountState, Movement, post
from credits_app.services.lots.store import Draw, LotTerms, apply_draws, grant_lot, lots

LOT_SOURCE = "lot"
ROLLOVER_SOURCE = "rollover"

_DUE_COLUMNS = (
    lots.c.id,
    lots.c.remaining,
    lots.c.effective_at,
    lots.c.expires_at,
    lots.c.category,
    lots.c.priority,
    lots.c.funded_by,
    lots.c.rollover_max,
)


def lot_ref(lot_id: int) -> str:
    """The `source_ref` of a lot's (first) expiry entry."""
    return f"lot:{lot_id}"


def expire_lot(
    session: Session, state: AccountState, lot: Row, now: datetime, *, ref: str | None = None
) -> int:
    """Expire what is left in one lot (no commit); return the entry id.

    `ref` tells a later expiry of the same lot (credits a hold gave back after it ended)
    from its first one, so each happens exactly once.
    """
    ref = ref or lot_ref(lot.id)
    move = Movement(
        kind=EntryKind.EXPIRE,
        amount=lot.remaining,
        key=f"expire-{ref}",
        source=LOT_SOURCE,
        source_ref=ref,
        delta=-lot.remaining,
        reason=f"Credits expired (lot {lot.id})",
    )
    entry_id = post(session, state, move, now)
    apply_draws(session, [Draw(lot.id, -lot.remaining)], entry_id=entry_id)
    return entry_id


def _roll_over(session: Session, state: AccountState, lot: Row, now: datetime) -> None:
    """Carry up to `rollover_max` unused credits of an ended plan period into a new lot.

    The new lot starts when the old one ended and lasts as long as the old one did; it does
    not roll over again.
    """
    credits, ends = rollover_of(lot)
    if credits <= 0:
        return
    terms = LotTerms(
        source=LotSource.ROLLOVER,
        category=lot.category,
        priority=lot.priority,
        effective_at=lot.expires_at,
        expires_at=ends,
        funded_by=lot.funded_by,
    )
    move = Movement(
        kind=EntryKind.GRANT,
        amount=credits,
        key=f"rollover:{lot.id}",
        source=ROLLOVER_SOURCE,
        source_ref=lot_ref(lot.id),
        reason=f"Rolled over from lot {lot.id}",
    )
    grant_lot(session, state, move, terms, now)


_DUE = (
    select(*_DUE_COLUMNS)
    .where(
        lots.c.account_id == bindparam("account"),
        lots.c.remaining > 0,
        lots.c.expires_at <= bindparam("now"),
    )
    .order_by(lots.c.expires_at, lots.c.id)
)


def expire_due_lots(session: Session, state: AccountState, now: datetime) -> int:
    """Expire every lot of this locked account whose time ran out (no commit).

    A plan period's lot rolls over what its price allows into a new lot first; that lot may
    itself be due already when the user was away for longer, and expires in turn.

    Returns:
        How many lots expired.
    """
    count = 0
    while True:
        due = state.conn(session).execute(_DUE, {"account": state.id, "now": now}).all()
        if not due:
            return count
        for lot in due:
            expire_lot(session, state, lot, now)
            _roll_over(session, state, lot, now)
            count += 1


def expire_returned(
    session: Session, state: AccountState, returns: list[Draw], entry_id: int, now: datetime
) -> None:
    """Expire at once what `entry_id` gave back to lots that ended meanwhile (no commit)."""
    for back in returns:
        if back.expires_at is not None and back.expires_at <= now:
            lot = session.exec(select(*_DUE_COLUMNS).where(lots.c.id == back.lot_id)).one()
            if lot.remaining > 0:
                expire_lot(session, state, lot, now, ref=f"{lot_ref(lot.id)}:after:{entry_id}")
