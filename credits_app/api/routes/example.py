"""Route: the example AI feature, metered by a hold (reserve the estimate, charge the cost)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Generator
from dataclasses import asdict
from typing import Annotated

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import ConfigDict, Field, StrictStr
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from credits_app.api.deps import ClaimsDep
from credits_app.api.schemas import ApiModel, ResponseModel, error_responses
from credits_app.api.schemas.common import IdempotencyKey
from credits_app.services.ai import (
    EXAMPLE_FEATURE,
    AiEvent,
    run_example,
    stop_run,
    stream_example,
)
from credits_app.services.ai.pricing import MAX_PROMPT_CHARS
from credits_app.services.errors import Forbidden
from credits_app.services.ratelimit import check_spend_rate

router = APIRouter(prefix="/api/example", tags=["example"])
SSE_EXAMPLE = (
    'event: reserved\ndata: {"amount": 7, "hold_id": 12, "balance": 100, "available": 93}\n\n'
    'event: chunk\ndata: {"text": "Summary: "}\n\n'
    'event: finished\ndata: {"cost": 2, "estimate": 7, "balance": 98, "available": 98, ...}\n\n'
)
_END = object()


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
    """Reserve the estimated maximum, run the AI provider, charge what was delivered.

    Needs a token for feature `example-ai`. The charge is the real cost of the prompt and
    the output delivered, never more than the estimate. A provider that fails or times out
    (502 `provider_error` / 504 `provider_timeout`) costs nothing before any output; after
    some, the error carries that output (`result`) and its cost (`charged`). A retry with
    the same key returns the first outcome with `replayed: true` and is not charged again.

    The run's hold is settled only by the run: `POST /api/credits/holds/{id}/capture` or
    `/release` on it answers 403 `forbidden`.

    With `Accept: text/event-stream` the run streams as server-sent events instead:
    `reserved`, `chunk`..., then `finished` or `failed` (each `data:` is a JSON object;
    `failed` has `charged`, `unpaid` and `result`). A client that hangs up mid-stream is
    charged for the chunks sent to it before it did; one that got none pays nothing.
    """
    if claims.feature != EXAMPLE_FEATURE:
        raise Forbidden(f"this token is for feature {claims.feature!r}, not {EXAMPLE_FEATURE!r}")
    check_spend_rate(claims.user_id)
    if "text/event-stream" in request.headers.get("accept", ""):
        events = stream_example(
            user_id=claims.user_id, prompt=body.prompt, idempotency_key=body.idempotency_key
        )
        # Take the first event here, so request errors (402, 409, 422) are plain responses.
        return RunEventStream(events, next(events))
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


def _frame(event: AiEvent) -> str:
    data = {k: v for k, v in asdict(event).items() if k != "kind"}
    return f"event: {event.kind}\ndata: {json.dumps(data)}\n\n"


class RunEventStream(StreamingResponse):
    """A run's events as server-sent events; a client that hangs up pays for what it got.

    An event counts as delivered once it was handed to the connection. When the client goes
    away the run is stopped and charged for the chunks delivered; a chunk the run produced
    while the client was leaving, or whose sending failed, is not charged.
    """

    def __init__(self, events: Generator[AiEvent, None, None], first: AiEvent) -> None:
        self._events = events
        self._fetching = self._sending = False
        super().__init__(
            self._frames(first),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store"},
        )

    async def _frames(self, first: AiEvent) -> AsyncIterator[str]:
        event = first
        while event is not _END:
            self._sending = True
            yield _frame(event)  # resumed once the frame was sent
            self._sending, self._fetching = False, True
            event = await run_in_threadpool(next, self._events, _END)
            self._fetching = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream the run; however the response ends, settle the run before returning."""
        delivered = True
        try:
            await super().__call__(scope, receive, send)
        except BaseException:
            delivered = not self._sending  # the frame being sent did not go out
            raise
        finally:
            # Shielded: this also runs while the request is cancelled (the client hung up).
            with anyio.CancelScope(shield=True):
                await self.body_iterator.aclose()  # type: ignore[attr-defined]
                delivered = delivered and not self._fetching
                await run_in_threadpool(stop_run, self._events, last_delivered=delivered)
