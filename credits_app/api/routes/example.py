"""Route: the example AI feature, metered by a hold (reserve the estimate, charge the cost)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from itertools import chain
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import ConfigDict, Field, StrictStr

from credits_app.api.deps import ClaimsDep
from credits_app.api.schemas import ApiModel, ResponseModel, error_responses
from credits_app.api.schemas.common import IdempotencyKey
from credits_app.services.ai import EXAMPLE_FEATURE, AiEvent, run_example, stream_example
from credits_app.services.ai.pricing import MAX_PROMPT_CHARS
from credits_app.services.errors import Forbidden
from credits_app.services.ratelimit import check_spend_rate

router = APIRouter(prefix="/api/example", tags=["example"])
SSE_EXAMPLE = (
    'event: reserved\ndata: {"amount": 7, "hold_id": 12, "balance": 100, "available": 93}\n\n'
    'event: chunk\ndata: {"text": "Summary: "}\n\n'
    'event: finished\ndata: {"cost": 2, "estimate": 7, "balance": 98, "available": 98, ...}\n\n'
)


class UseCreditsRequest(ApiModel):
    """The text to analyse (or the prompt for an OpenAI-compatible provider)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "prompt": "The new dashboard is great, but exports are slow.",
                    "idempotencyKey": "ai-run-1",
                }
            ]
        }
    )
    prompt: Annotated[StrictStr, Field(min_length=1, max_length=MAX_PROMPT_CHARS)]
    idempotency_key: IdempotencyKey


class UseCreditsResponse(ResponseModel):
    """The output, what it cost (never more than `estimate`) and the balance after."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "result": "Summary:\n- The new dashboard is great, but exports are slow.",
                    "cost": 2,
                    "estimate": 7,
                    "balance": 98,
                    "available": 98,
                    "holdId": 12,
                    "replayed": False,
                }
            ]
        }
    )
    result: str
    cost: int
    estimate: int
    balance: int
    available: int
    hold_id: int
    replayed: bool


@router.post(
    "/use-credits",
    summary="Run the example AI feature",
    response_model=UseCreditsResponse,
    responses={
        200: {"content": {"text/event-stream": {"example": SSE_EXAMPLE}}},
        **error_responses(401, 402, 403, 404, 409, 429, 502, 504),
    },
)
def use_credits(
    body: UseCreditsRequest, claims: ClaimsDep, request: Request
) -> UseCreditsResponse | StreamingResponse:
    """Reserve the estimated maximum, run the AI provider, charge the real cost.

    Needs a token for feature `example-ai`. A failed or timed-out provider costs nothing
    (502 `provider_error` / 504 `provider_timeout`). A retry with the same key returns the
    first result with `replayed: true` and is not charged again.

    With `Accept: text/event-stream` the run streams as server-sent events instead:
    `reserved`, `chunk`..., then `finished` or `failed` (each `data:` is a JSON object).
    """
    if claims.feature != EXAMPLE_FEATURE:
        raise Forbidden(f"this token is for feature {claims.feature!r}, not {EXAMPLE_FEATURE!r}")
    check_spend_rate(claims.user_id)
    if "text/event-stream" in request.headers.get("accept", ""):
        return _stream(claims.user_id, body)
    outcome = run_example(
        user_id=claims.user_id, prompt=body.prompt, idempotency_key=body.idempotency_key
    )
    return UseCreditsResponse(
        result=outcome.result,
        cost=outcome.cost,
        estimate=outcome.estimate,
        balance=outcome.balance,
        available=outcome.available,
        hold_id=outcome.hold_id,
        replayed=outcome.replayed,
    )


def _sse(events: Iterator[AiEvent]) -> Iterator[str]:
    for event in events:
        data = {k: v for k, v in asdict(event).items() if k != "kind"}
        yield f"event: {event.kind}\ndata: {json.dumps(data)}\n\n"


def _stream(user_id: int, body: UseCreditsRequest) -> StreamingResponse:
    events = stream_example(
        user_id=user_id, prompt=body.prompt, idempotency_key=body.idempotency_key
    )
    # Take the first event here, so request errors (402, 409, 422) are still plain responses.
    first = next(events)
    return StreamingResponse(
        _sse(chain([first], events)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store"},
    )
