"""Shared schema pieces: the camelCase base model, strict field types, the error body."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic.alias_generators import to_camel

from credits_app.services.validation import MAX_AMOUNT, MAX_KEY_LENGTH


class ApiModel(BaseModel):
    """Base of every request body: camelCase on the wire, unknown fields ignored (never obeyed)."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=False, validate_by_alias=True, extra="ignore"
    )


class ResponseModel(BaseModel):
    """Base of every response body: built in Python by field name, sent in camelCase."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True
    )


# JSON integers only: "10", true and 1.0 are refused, not coerced.
Amount = Annotated[
    StrictInt,
    Field(ge=1, le=MAX_AMOUNT, description="Whole credits, a JSON integer (1..10^9)."),
]
UserId = Annotated[StrictInt, Field(ge=1, le=2**31 - 1, description="The user's id.")]
Feature = Annotated[
    StrictStr,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$",
        description="A feature name, e.g. `example-ai`.",
    ),
]
IdempotencyKey = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$",
        description="Unique per operation; a retry with the same key replays the result.",
    ),
]


class ErrorDetail(BaseModel):
    """The error: a stable code, a readable message, and code-specific fields."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable machine-readable code, e.g. `insufficient_credits`.")
    message: str = Field(description="A sentence a person can read.")


class ErrorBody(BaseModel):
    """Every error response: `{"error": {"code", "message", ...}}`."""

    error: ErrorDetail


GENERIC_EXAMPLE = {"code": "...", "message": "..."}
ERROR_EXAMPLES: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("Malformed body", {"code": "invalid_request", "message": "body: is not valid JSON"}),
    401: ("Missing or invalid credentials", {"code": "unauthorized", "message": "..."}),
    402: (
        "Not enough credits",
        {"code": "insufficient_credits", "message": "...", "balance": 3, "required": 10},
    ),
    403: ("Not allowed", {"code": "forbidden", "message": "this token is for another feature"}),
    404: ("Not found", {"code": "not_found", "message": "no user with id 42"}),
    409: (
        "Idempotency key reused with other values",
        {"code": "idempotency_conflict", "message": "...", "fields": ["amount"]},
    ),
    410: ("Gone", {"code": "hold_expired", "message": "...", "holdId": 3}),
    413: ("Body too large", {"code": "payload_too_large", "message": "..."}),
    422: (
        "Invalid field",
        {"code": "invalid_request", "message": "amount: ...", "field": "amount"},
    ),
    429: ("Too many requests", {"code": "rate_limited", "message": "...", "retryAfter": 12}),
    503: ("Database or admin API unavailable", {"code": "unavailable", "message": "..."}),
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the error body and an example.

    400, 413, 422 and 503 are added to every endpoint: any request can be malformed,
    too large, or meet a database outage.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 400, 413, 422, 503}):
        description, example = ERROR_EXAMPLES.get(status, ("Error", GENERIC_EXAMPLE))
        responses[status] = {
            "model": ErrorBody,
            "description": description,
            "content": {"application/json": {"example": {"error": example}}},
        }
    return responses
