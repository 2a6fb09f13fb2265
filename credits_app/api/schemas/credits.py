"""Schemas of /api/credits: spend and grant."""

from __future__ import annotations

from pydantic import ConfigDict, Field, StrictStr

from credits_app.api.schemas.common import (
    Amount,
    ApiModel,
    Feature,
    IdempotencyKey,
    ResponseModel,
    UserId,
)


class SpendRequest(ApiModel):
    """Spend credits of the token's user for the token's feature."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"amount": 10, "feature": "example-ai", "idempotencyKey": "req-7f3a"}]
        }
    )

    amount: Amount
    feature: Feature
    idempotency_key: IdempotencyKey


class GrantRequest(ApiModel):
    """Grant credits to a user (admin key)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"userId": 1, "amount": 500, "reason": "support credit", "idempotencyKey": "g-1"},
                {"userId": "1", "amount": 100, "reason": "promotional", "idempotencyKey": "g-2"},
            ]
        }
    )

    user_id: UserId
    amount: Amount
    reason: StrictStr = Field(
        min_length=1,
        max_length=255,
        pattern=r"^\s*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$",
        description="Why; shown in the user's history.",
    )
    idempotency_key: IdempotencyKey


class LedgerWriteResponse(ResponseModel):
    """The entry written (or replayed) and the balance right after it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"balance": 90, "available": 90, "entryId": 12, "replayed": False}]
        }
    )

    balance: int = Field(description="Credits after this entry.")
    available: int = Field(description="Balance minus credits reserved by active holds.")
    entry_id: int = Field(description="The ledger entry's id.")
    replayed: bool = Field(description="True when this key was seen before; nothing was written.")
