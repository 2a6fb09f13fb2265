"""Routes: spend credits with an access token, grant credits with the admin key."""

from __future__ import annotations

from fastapi import APIRouter

from credits_app.api.deps import AdminKeyDep, ClaimsDep, SessionDep
from credits_app.api.schemas import (
    GrantRequest,
    LedgerWriteResponse,
    SpendRequest,
    error_responses,
)
from credits_app.observability import metrics
from credits_app.services.admin_grants import grant_lot_credits
from credits_app.services.errors import Forbidden
from credits_app.services.ledger import LedgerResult, spend_credits
from credits_app.services.ratelimit import check_spend_rate

router = APIRouter(prefix="/api/credits", tags=["credits"])
GRANT_SOURCE = "admin_api"


def _written(result: LedgerResult) -> LedgerWriteResponse:
    return LedgerWriteResponse(
        balance=result.balance,
        available=result.available,
        entry_id=result.entry_id,
        replayed=result.replayed,
    )


@router.post(
    "/spend",
    summary="Spend credits",
    response_model=LedgerWriteResponse,
    responses=error_responses(401, 402, 403, 404, 409, 429),
)
def spend(body: SpendRequest, claims: ClaimsDep, session: SessionDep) -> LedgerWriteResponse:
    """Spend `amount` credits of the token's user for the token's feature, once per key.

    The body's `feature` must equal the token's. Any `userId` or `balance` in the body is
    ignored: the user is the token's. A retry with the same key returns the first result with
    `replayed: true`; the same key with other values is a 409.
    """
    if body.feature != claims.feature:
        raise Forbidden(f"this token is for feature {claims.feature!r}, not {body.feature!r}")
    check_spend_rate(claims.user_id)
    with metrics.count_spend() as outcome:
        result = spend_credits(
            session=session,
            user_id=claims.user_id,
            amount=body.amount,
            feature=body.feature,
            idempotency_key=body.idempotency_key,
        )
        outcome.set("replay" if result.replayed else "ok")
    return _written(result)


@router.post(
    "/grant",
    summary="Grant credits (admin)",
    response_model=LedgerWriteResponse,
    responses=error_responses(401, 404, 409),
)
def grant(body: GrantRequest, _admin: AdminKeyDep, session: SessionDep) -> LedgerWriteResponse:
    """Grant `amount` credits to `userId` with a reason, once per key (needs `x-admin-key`).

    `userId` is a JSON integer or a string of its digits (`"42"`, as the original system's
    clients send it); anything else is a 422 naming `userId`.

    The credits are one lot: `category` `paid` (the default) or `promotional`, and
    `expiresAt` (an ISO 8601 date and time with an offset, in the future) or never. A bad
    value is a 422 naming the field; the same key with another category or expiry is a 409.

    Answers 503 when the server has no ADMIN_API_KEY (the admin API is disabled).
    """
    result = grant_lot_credits(
        session=session,
        user_id=body.user_id,
        amount=body.amount,
        reason=body.reason,
        idempotency_key=body.idempotency_key,
        source=GRANT_SOURCE,
        category=body.category,
        expires_at=body.expires_at,
    )
    return _written(result)
