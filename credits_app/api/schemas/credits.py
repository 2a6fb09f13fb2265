"""Schemas of /api/credits: spend and grant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, PlainValidator, StrictStr
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticCustomError

from credits_app.api.schemas.common import (
    Amount,
    ApiModel,
    Feature,
    IdempotencyKey,
    ResponseModel,
    UserId,
)
from credits_app.services.admin_grants import EXPIRY_RULE, parse_expiry
from credits_app.services.errors import InvalidRequest


def _expiry(value: Any) -> datetime | None:
    """Read `expiresAt`: null, or an ISO 8601 date and time with an offset (no numbers)."""
    if value is None:
        return None
    try:
        return parse_expiry(value)
    except InvalidRequest as exc:
        raise PydanticCustomError("expires_at", exc.reason) from None


Expiry = Annotated[
    datetime | None,
    PlainValidator(_expiry),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
            "description": f"When the credits expire; {EXPIRY_RULE}, in the future. "
            "Null or absent: never.",
        }
    ),
]


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
                {
                    "userId": "1",
                    "amount": 100,
                    "reason": "launch promotion",
                    "idempotencyKey": "g-2",
                    "category": "promotional",
                    "expiresAt": "2030-12-31T23:59:59Z",
                },
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
    category: Literal["paid", "promotional"] | None = Field(
        default=None,
        description="`paid` (the default) or `promotional`; promotional credits are spent "
        "before paid ones that expire at the same time.",
    )
    expires_at: Expiry = None


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
