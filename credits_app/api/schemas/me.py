"""Schemas of /api/me: entitlements."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from credits_app.api.schemas.common import ResponseModel


class HoldOut(ResponseModel):
    """An active hold: credits reserved for work in progress."""

    id: int
    feature: str
    amount: int
    expires_at: datetime


class LotOut(ResponseModel):
    """A lot with credits left: credits granted together, with their own window and category."""

    id: int
    amount: int = Field(description="Credits the lot was granted with.")
    remaining: int = Field(
        description="Credits left in it (credits reserved by active holds are not counted)."
    )
    category: str = Field(description="`paid` or `promotional`.")
    source: str = Field(
        description="Where it came from: purchase, plan_period, admin, promotion, trial, "
        "rollover, restore or migrated."
    )
    priority: int = Field(description="Lower priorities are spent first.")
    effective_at: datetime = Field(description="When its credits became (or become) spendable.")
    expires_at: datetime | None = Field(description="When they expire; null: never.")


class NextExpiryOut(ResponseModel):
    """The soonest moment some credits expire, and how many expire then."""

    at: datetime
    credits: int


class SubscriptionOut(ResponseModel):
    """The user's active subscription."""

    id: str
    status: str
    price_id: str | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False


class PlanOut(ResponseModel):
    """The plan of the active subscription."""

    name: str | None = None
    price_id: str | None = None
    interval: str | None = None
    included_credits: int | None = None


class EntitlementsResponse(ResponseModel):
    """What the token's user has: credits, holds, plan, and recent usage."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "userId": 1,
                    "balance": 120,
                    "available": 100,
                    "debt": 0,
                    "holds": [
                        {
                            "id": 3,
                            "feature": "example-ai",
                            "amount": 20,
                            "expiresAt": "2026-01-01T12:00:00Z",
                        }
                    ],
                    "subscription": None,
                    "plan": None,
                    "spentByFeature": {"example-ai": 30},
                    "periodDays": 30,
                    "nextExpiry": {"at": "2026-12-31T00:00:00Z", "credits": 30},
                    "lots": [
                        {
                            "id": 7,
                            "amount": 50,
                            "remaining": 30,
                            "category": "promotional",
                            "source": "admin",
                            "priority": 0,
                            "effectiveAt": "2026-11-01T09:30:00Z",
                            "expiresAt": "2026-12-31T00:00:00Z",
                        },
                        {
                            "id": 4,
                            "amount": 100,
                            "remaining": 70,
                            "category": "paid",
                            "source": "purchase",
                            "priority": 0,
                            "effectiveAt": "2026-10-12T16:02:11Z",
                            "expiresAt": None,
                        },
                    ],
                }
            ]
        }
    )

    user_id: int
    balance: int = Field(description="Credits in the account.")
    available: int = Field(description="Balance minus credits held by active holds.")
    debt: int = Field(description="Credits owed after a refund of already spent credits.")
    holds: list[HoldOut]
    subscription: SubscriptionOut | None = Field(description="Null without an active plan.")
    plan: PlanOut | None = Field(description="Null without an active plan.")
    spent_by_feature: dict[str, int] = Field(
        description="Credits spent per feature over the last `periodDays` UTC days, today included."
    )
    period_days: int = Field(description="The window of `spentByFeature`, in days.")
    next_expiry: NextExpiryOut | None = Field(
        description="The soonest moment some credits expire and how many; null if none do."
    )
    lots: list[LotOut] = Field(
        description="Lots with credits left that have not ended, in burn order (the order "
        "credits are spent in)."
    )
