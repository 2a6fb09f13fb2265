"""Shared schema pieces: the camelCase base model, strict field types, the error body."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictInt, StrictStr
from pydantic.alias_generators import to_camel
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticCustomError

from credits_app.services.validation import MAX_AMOUNT, MAX_KEY_LENGTH, MAX_USER_ID


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
USER_ID_RULE = f"must be a JSON integer or a string of digits from 1 to {MAX_USER_ID}"
_USER_ID_DIGITS = re.compile(r"[1-9][0-9]{0,9}")  # ASCII only: no sign, space or leading 0
# The same set as a JSON Schema pattern, so clients and the fuzzer know the exact range.
USER_ID_PATTERN = (
    r"^(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
    r"|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
    r"|21474836[0-3][0-9]|214748364[0-7])$"
)


def parse_user_id(value: Any) -> int:
    """Return the user id `value` names: a JSON integer, or a string of its digits.

    The original system's clients send user ids as strings (`"userId": "42"`).

    Raises:
        PydanticCustomError: For anything else: bools, floats, signs, spaces, leading zeros,
            non-ASCII digits, or a number outside 1..2^31-1.
    """
    if type(value) is int and 1 <= value <= MAX_USER_ID:
        return value
    if isinstance(value, str) and _USER_ID_DIGITS.fullmatch(value):
        number = int(value)
        if number <= MAX_USER_ID:
            return number
    raise PydanticCustomError("user_id", USER_ID_RULE)


UserId = Annotated[
    int,
    PlainValidator(parse_user_id),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_USER_ID},
                {"type": "string", "pattern": USER_ID_PATTERN},
            ],
            "description": "The user's id: a JSON integer, or a string of its digits.",
        }
    ),
]
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
