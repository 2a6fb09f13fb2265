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
    spent_by_feature: dict[str, int] = Field(description="Credits spent per feature.")
    period_days: int = Field(description="The window of `spentByFeature`, in days.")
