"""Read a user's holds; expired-but-unswept holds never count as active."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from credits_app.models import HoldStatus, utcnow
from credits_app.services.holds.store import holds


@dataclass(frozen=True)
class HoldView:
    """One hold as shown to its user."""

    hold_id: int
    feature: str
    amount: int
    status: str
    created_at: datetime
    expires_at: datetime


def active_holds(*, session: Session, user_id: int, now: datetime | None = None) -> list[HoldView]:
    """Return the user's holds that still reserve credits, oldest first."""
    now = now or utcnow()
    query = (
        select(holds)
        .where(
            holds.c.user_id == user_id,
            holds.c.status == HoldStatus.ACTIVE,
            holds.c.expires_at > now,
        )
        .order_by(holds.c.id)
    )
    return [
        HoldView(h.id, h.feature, h.amount, h.status, h.created_at, h.expires_at)
        for h in session.exec(query)
    ]


@dataclass(frozen=True)
class HoldRecord:
    """A hold's outcome so far, with the output the paid-for work produced (if kept).

    `outcome` is how that work ended (`finished`, or why it stopped early), when recorded.
    """

    hold_id: int
    feature: str
    amount: int
    status: str
    captured: int | None
    result: str | None
    outcome: str | None = None


def hold_record(*, session: Session, user_id: int, hold_id: int) -> HoldRecord | None:
    """Return the user's hold with its outcome, or None if there is no such hold of theirs."""
    query = select(holds).where(holds.c.id == hold_id, holds.c.user_id == user_id)
    h = session.exec(query).one_or_none()
    if h is None:
        return None
    return HoldRecord(h.id, h.feature, h.amount, h.status, h.captured, h.result, h.outcome)


def save_result(
    *, session: Session, user_id: int, hold_id: int, result: str, outcome: str | None = None
) -> None:
    """Keep what a hold's work produced and how it ended, so a retry with the key replays it."""
    query = update(holds).where(holds.c.id == hold_id, holds.c.user_id == user_id)
    session.exec(query.values(result=result, outcome=outcome))
    session.commit()
