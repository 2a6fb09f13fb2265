"""Release holds whose time ran out: for one user on demand, or for everyone in a sweep."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from credits_app.db import session_scope
from credits_app.models import HoldStatus, utcnow
from credits_app.services.holds.store import holds, locked_unit

logger = logging.getLogger(__name__)
SWEEP_BATCH_USERS = 200


def expire_user_holds(*, session: Session, user_id: int, now: datetime | None = None) -> int:
    """Release this user's due holds in one transaction; return how many expired.

    Raises:
        UserNotFound: When the user does not exist.
    """
    now = now or utcnow()
    # Look before locking, so a user with nothing due never takes the write lock.
    query = select(holds.c.id).where(
        holds.c.user_id == user_id,
        holds.c.status == HoldStatus.ACTIVE,
        holds.c.expires_at <= now,
    )
    due = session.exec(query.limit(1)).first()
    session.rollback()
    if due is None:
        return 0
    # locked_unit expires the due holds before running the body; the body reports the count.
    return locked_unit(session, user_id=user_id, now=now, body=lambda state: state.expired)


def expire_due_holds(*, session: Session, now: datetime | None = None) -> int:
    """Release every due hold of every user, one short transaction per user.

    Safe to run from several processes at once and alongside requests: each user's holds are
    expired under that user's account lock, and a hold resolves only once.

    Returns:
        How many holds this call expired.
    """
    now = now or utcnow()
    total = 0
    while True:
        query = (
            select(holds.c.user_id)
            .where(holds.c.status == HoldStatus.ACTIVE, holds.c.expires_at <= now)
            .distinct()
            .limit(SWEEP_BATCH_USERS)
        )
        users = list(session.exec(query).scalars())
        session.rollback()
        if not users:
            return total
        expired = sum(expire_user_holds(session=session, user_id=u, now=now) for u in users)
        if not expired:
            # Another sweeper took these between our read and our lock; do not spin.
            return total
        total += expired


async def sweep_holds_forever(interval_seconds: float = 30.0) -> None:
    """Run `expire_due_holds` every `interval_seconds` until cancelled (a lifespan task).

    Lazy expiry on each read and write keeps balances right without it; the sweep only
    tidies up holds of users who never come back.
    """

    def sweep_once() -> int:
        with session_scope() as session:
            return expire_due_holds(session=session)

    while True:
        try:
            expired = await asyncio.to_thread(sweep_once)
            if expired:
                logger.info("expired %d hold(s)", expired)
        except Exception:
            logger.exception("hold sweep failed; retrying in %s s", interval_seconds)
        await asyncio.sleep(interval_seconds)
