"""Reading lots for people: what is left in each, and what expires next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from credits_app.models import utcnow
from credits_app.services.accounts import accounts
from credits_app.services.lots.store import BURN_ORDER, lots


@dataclass(frozen=True)
class LotView:
    """A lot with credits left, as the dashboard and the API show it."""

    id: int
    amount: int
    remaining: int
    category: str
    priority: int
    source: str
    effective_at: datetime
    expires_at: datetime | None

    @property
    def waiting(self) -> bool:
        """Whether the lot starts later."""
        return self.effective_at > utcnow()


@dataclass(frozen=True)
class NextExpiry:
    """The soonest moment some credits expire, and how many expire then."""

    at: datetime
    credits: int


def live_lots(session: Session, user_id: int, now: datetime | None = None) -> list[LotView]:
    """The user's lots that still have credits and have not ended, in burn order."""
    now = now or utcnow()
    query = (
        select(
            lots.c.id,
            lots.c.amount,
            lots.c.remaining,
            lots.c.category,
            lots.c.priority,
            lots.c.source,
            lots.c.effective_at,
            lots.c.expires_at,
        )
        .join(accounts, accounts.c.id == lots.c.account_id)
        .where(
            accounts.c.user_id == user_id,
            lots.c.remaining > 0,
            lots.c.expires_at.is_(None) | (lots.c.expires_at > now),
        )
        .order_by(*BURN_ORDER)
    )
    return [LotView(**row._mapping) for row in session.exec(query)]


def next_expiry(views: list[LotView]) -> NextExpiry | None:
    """The soonest expiry among `views` with the credits it takes (None if none expire)."""
    dated = [v for v in views if v.expires_at is not None]
    if not dated:
        return None
    at = min(v.expires_at for v in dated)
    return NextExpiry(at, sum(v.remaining for v in dated if v.expires_at == at))
