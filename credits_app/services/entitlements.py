"""What a user is entitled to right now: credits and their lots, holds, plan, recent usage."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from credits_app.models import utcnow
from credits_app.services.accounts import balance_of
from credits_app.services.history import spent_by_feature
from credits_app.services.holds import active_holds
from credits_app.services.lots import LotView, NextExpiry, live_lots, next_expiry

USAGE_WINDOW_DAYS = 30
SUBSCRIPTIONS_MODULE = "credits_app.services.billing.subscriptions"


@dataclass(frozen=True)
class HoldView:
    """An active hold as the API shows it."""

    id: int
    feature: str
    amount: int
    expires_at: datetime


@dataclass(frozen=True)
class Entitlements:
    """A user's credits, holds, subscription (a billing `SubscriptionView` or None), usage.

    `lots` are the lots with credits left that have not ended, in burn order (their
    `remaining` excludes credits reserved by active holds); `next_expiry` is the soonest
    moment some of them expire, with how many credits expire then.
    """

    user_id: int
    balance: int
    available: int
    debt: int
    holds: list[HoldView]
    subscription: Any | None
    spent_by_feature: dict[str, int]
    period_days: int
    lots: list[LotView]
    next_expiry: NextExpiry | None


def active_hold_views(*, session: Session, user_id: int) -> list[HoldView]:
    """Return the user's holds that still reserve credits (expired ones are not listed).

    The holds service decides what is active, so `holds` agrees with `available`.
    """
    return [
        HoldView(h.hold_id, h.feature, h.amount, h.expires_at)
        for h in active_holds(session=session, user_id=user_id)
    ]


def _active_subscription(session: Session, user_id: int) -> Any | None:
    """Ask billing for the active subscription; None while billing is not installed."""
    try:
        module = importlib.import_module(SUBSCRIPTIONS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name and SUBSCRIPTIONS_MODULE.startswith(exc.name):
            return None
        raise
    return module.active_subscription(session=session, user_id=user_id)


def entitlements_of(
    *, session: Session, user_id: int, days: int = USAGE_WINDOW_DAYS
) -> Entitlements:
    """Collect what the user has now.

    Raises:
        UserNotFound: When the user does not exist.
    """
    balance = balance_of(session=session, user_id=user_id)
    lots = live_lots(session, user_id, utcnow())
    return Entitlements(
        user_id=user_id,
        balance=balance.balance,
        available=balance.available,
        debt=balance.debt,
        holds=active_hold_views(session=session, user_id=user_id),
        subscription=_active_subscription(session, user_id),
        spent_by_feature=spent_by_feature(session=session, user_id=user_id, days=days),
        period_days=days,
        lots=lots,
        next_expiry=next_expiry(lots),
    )
