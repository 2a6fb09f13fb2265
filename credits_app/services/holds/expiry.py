"""What ran out: holds past their time and lots past their expiry, for one user or everyone.

Every write already expires the user's due holds and lots first (lazily, under the account
lock); this module does it on demand and in a sweep, for users who never come back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, union
from sqlmodel import Session

from credits_app.db import session_scope
from credits_app.models import CreditLot, HoldStatus, utcnow
from credits_app.services.holds.store import holds, locked_unit

logger = logging.getLogger(__name__)
lots = CreditLot.__table__
SWEEP_BATCH_USERS = 200


def _due_holds(now: datetime):
    return select(holds.c.user_id.label("user_id")).where(
        holds.c.status == HoldStatus.ACTIVE, holds.c.expires_at <= now
    )


def _due_lots(now: datetime):
    return select(lots.c.user_id.label("user_id")).where(
        lots.c.remaining > 0, lots.c.expires_at <= now
    )


def _expire_for(session: Session, user_id: int, now: datetime, due) -> tuple[int, int]:
    """(holds, lots) expired for one user, in one transaction; nothing if nothing is due."""
    # Look before locking, so a user with nothing due never takes the write lock.
    found = session.exec(due.where(due.selected_columns.user_id == user_id).limit(1)).first()
    session.rollback()
    if found is None:
        return 0, 0
    # The locked unit expires what is due before its body runs; the body reports the counts.
    return locked_unit(
        session, user_id=user_id, now=now, body=lambda state: (state.expired, state.lapsed)
    )


def expire_user_holds(*, session: Session, user_id: int, now: datetime | None = None) -> int:
    """Release this user's due holds (and expire due lots) now; return how many holds expired.

    Raises:
        UserNotFound: When the user does not exist.
    """
    return _expire_for(session, user_id, now or utcnow(), _due_holds(now or utcnow()))[0]


def _sweep(session: Session, now: datetime, due) -> tuple[int, int]:
    """Expire what is due for every user `due` names: (holds, lots) expired in all.

    Each user's transaction expires whatever ran out for them, so both counts include what
    a user's lock found, whichever query named the user.
    """
    held = lapsed = 0
    while True:
        users = list(session.exec(due.distinct().limit(SWEEP_BATCH_USERS)).scalars())
        session.rollback()
        if not users:
            return held, lapsed
        done = [_expire_for(session, u, now, due) for u in users]
        if not any(h or lots for h, lots in done):
            # Another sweeper took these between our read and our lock; do not spin.
            return held, lapsed
        held += sum(h for h, _ in done)
        lapsed += sum(lots for _, lots in done)


def expire_due_holds(*, session: Session, now: datetime | None = None) -> int:
    """Release every due hold of every user, one short transaction per user.

    Safe to run from several processes at once and alongside requests: each user's holds are
    expired under that user's account lock, and a hold resolves only once.

    Returns:
        How many holds this call expired.
    """
    now = now or utcnow()
    return _sweep(session, now, _due_holds(now))[0]


def expire_due_lots(*, session: Session, now: datetime | None = None) -> int:
    """Expire every lot whose time ran out, one short transaction per user.

    Each lot expires once (its `expire` entry is keyed by the lot), however many sweepers
    and requests race for it.

    Returns:
        How many lots this call expired (rollover lots that were due at once included).
    """
    now = now or utcnow()
    return _sweep(session, now, _due_lots(now))[1]


def expire_due(*, session: Session, now: datetime | None = None) -> tuple[int, int]:
    """Expire every due hold and lot of every user: (holds, lots), counted exactly.

    One transaction per user with anything due ends both, so a lot that ran out for a user
    whose hold ran out too is counted as well.
    """
    now = now or utcnow()
    return _sweep(session, now, union(_due_holds(now), _due_lots(now)).subquery().select())


async def sweep_holds_forever(
    interval_seconds: float = 30.0, housekeeping: Callable[[], object] | None = None
) -> None:
    """Run `expire_due` every `interval_seconds` until cancelled (a lifespan task).

    Lazy expiry on each read and write keeps balances right without it; the sweep writes
    the expiries of users who never come back, so their tabs and the ledger show them.

    Args:
        interval_seconds: The pause between two sweeps.
        housekeeping: Run after each sweep, in a thread, its failures logged apart (the app
            passes the webhook log's pruning, which decides itself when it is due).
    """

    def sweep_once() -> tuple[int, int]:
        with session_scope() as session:
            return expire_due(session=session)

    while True:
        try:
            held, lapsed = await asyncio.to_thread(sweep_once)
            if held or lapsed:
                logger.info("expired %d hold(s) and %d lot(s)", held, lapsed)
        except Exception:
            logger.exception("expiry sweep failed; retrying in %s s", interval_seconds)
        if housekeeping is not None:
            try:
                await asyncio.to_thread(housekeeping)
            except Exception:
                logger.exception("housekeeping after the sweep failed; retrying later")
        await asyncio.sleep(interval_seconds)
