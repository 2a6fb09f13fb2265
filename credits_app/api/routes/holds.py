"""Routes: reserve credits, then capture the real cost or release the hold (Bearer token)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import ConfigDict, Field, StrictInt

from credits_app.api.deps import ClaimsDep, SessionDep
from credits_app.api.schemas import ApiModel, ResponseModel, error_responses
from credits_app.api.schemas.common import Amount, Feature, IdempotencyKey
from credits_app.observability import metrics
from credits_app.services.errors import Forbidden
from credits_app.services.holds import (
    DEFAULT_TTL_SECONDS,
    MAX_TTL_SECONDS,
    SettleResult,
    capture,
    release,
    reserve,
)
from credits_app.services.ratelimit import check_rate

router = APIRouter(prefix="/api/credits", tags=["holds"])
HoldId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The hold's id from reserve.")]


class ReserveRequest(ApiModel):
    """Reserve up to `amount` credits for a feature for `ttlSeconds` (default 300)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "amount": 25,
                    "feature": "example-ai",
                    "idempotencyKey": "job-42",
                    "ttlSeconds": 120,
                }
            ]
        }
    )
    amount: Amount
    feature: Feature
    idempotency_key: IdempotencyKey
    ttl_seconds: Annotated[StrictInt, Field(ge=1, le=MAX_TTL_SECONDS)] = DEFAULT_TTL_SECONDS


class CaptureRequest(ApiModel):
    """Charge `amount` (at most the reserved credits); the rest goes back."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount": 12, "idempotencyKey": "job-42-capture"}]}
    )
    amount: Amount
    idempotency_key: IdempotencyKey


class ReleaseRequest(ApiModel):
    """Give every reserved credit back."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"idempotencyKey": "job-42-release"}]}
    )
    idempotency_key: IdempotencyKey


class ReserveResponse(ResponseModel):
    """The hold and the balance right after it was made."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "holdId": 7,
                    "reserved": 25,
                    "balance": 100,
                    "available": 75,
                    "expiresAt": "2026-01-01T12:02:00Z",
                    "replayed": False,
                }
            ]
        }
    )
    hold_id: int
    reserved: int
    balance: int
    available: int
    expires_at: datetime
    replayed: bool


class SettleResponse(ResponseModel):
    """How the hold resolved, and the balance right after."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "holdId": 7,
                    "status": "captured",
                    "captured": 12,
                    "released": 13,
                    "balance": 88,
                    "available": 88,
                    "entryId": 31,
                    "replayed": False,
                }
            ]
        }
    )
    hold_id: int
    status: str
    captured: int
    released: int
    balance: int
    available: int
    entry_id: int
    replayed: bool


def _settled(result: SettleResult) -> SettleResponse:
    return SettleResponse(
        hold_id=result.hold_id,
        status=result.status,
        captured=result.captured,
        released=result.released,
        balance=result.balance,
        available=result.available,
        entry_id=result.entry_id,
        replayed=result.replayed,
    )


@router.post(
    "/reserve",
    summary="Reserve credits (hold)",
    response_model=ReserveResponse,
    responses=error_responses(401, 402, 403, 404, 409, 429),
)
def reserve_credits(
    body: ReserveRequest, claims: ClaimsDep, session: SessionDep
) -> ReserveResponse:
    """Hold `amount` credits of the token's user: `available` drops, `balance` does not.

    The body's `feature` must equal the token's. Capture or release the hold before
    `expiresAt`; after that it is released automatically. A retry with the same key returns
    the same hold with `replayed: true`.

    A user has at most MAX_ACTIVE_HOLDS_PER_USER (100) active holds: past that, 409
    `too_many_holds` with `limit` and `active`. Reserves count against
    RATE_LIMIT_RESERVE_PER_MINUTE (429 `rate_limited`).
    """
    if body.feature != claims.feature:
        raise Forbidden(f"this token is for feature {claims.feature!r}, not {body.feature!r}")
    check_rate("reserve", claims.user_id)
    with metrics.count_hold("reserve") as outcome:
        hold = reserve(
            session=session,
            user_id=claims.user_id,
            amount=body.amount,
            feature=body.feature,
            idempotency_key=body.idempotency_key,
            ttl_seconds=body.ttl_seconds,
        )
        outcome.set("replay" if hold.replayed else "ok")
    return ReserveResponse(
        hold_id=hold.hold_id,
        reserved=hold.reserved,
        balance=hold.balance,
        available=hold.available,
        expires_at=hold.expires_at,
        replayed=hold.replayed,
    )


@router.post(
    "/holds/{hold_id}/capture",
    summary="Capture a hold",
    response_model=SettleResponse,
    responses=error_responses(401, 403, 404, 409, 410, 429),
)
def capture_hold(
    hold_id: HoldId, body: CaptureRequest, claims: ClaimsDep, session: SessionDep
) -> SettleResponse:
    """Charge `amount` (at most the reserved credits) and release the rest, once.

    Errors: 404 when the hold is not the token user's; 403 `forbidden` when it was reserved
    for another feature than the token's, or by an AI run (`/api/example/use-credits`):
    only that run settles its hold, charging the output it delivered, and nothing changes;
    409 `hold_not_active` when it was already captured or released; 410 `hold_expired`;
    422 `amount_exceeds_hold`; 429 `rate_limited` past RATE_LIMIT_SETTLE_PER_MINUTE (captures
    and releases together).
    """
    check_rate("settle", claims.user_id)
    with metrics.count_hold("capture") as outcome:
        result = capture(
            session=session,
            user_id=claims.user_id,
            hold_id=hold_id,
            amount=body.amount,
            idempotency_key=body.idempotency_key,
            feature=claims.feature,
        )
        outcome.set("replay" if result.replayed else "ok")
    return _settled(result)


@router.post(
    "/holds/{hold_id}/release",
    summary="Release a hold",
    response_model=SettleResponse,
    responses=error_responses(401, 403, 404, 409, 410, 429),
)
def release_hold(
    hold_id: HoldId, body: ReleaseRequest, claims: ClaimsDep, session: SessionDep
) -> SettleResponse:
    """Give all reserved credits back; nothing is charged. Errors as for capture.

    An AI run's hold cannot be released here (403 `forbidden`, nothing changes): its output
    would otherwise be free.
    """
    check_rate("settle", claims.user_id)
    with metrics.count_hold("release") as outcome:
        result = release(
            session=session,
            user_id=claims.user_id,
            hold_id=hold_id,
            idempotency_key=body.idempotency_key,
            feature=claims.feature,
        )
        outcome.set("replay" if result.replayed else "ok")
    return _settled(result)
