"""Routes: Stripe webhook deliveries, verified on the raw bytes before anything is written.

Each verified delivery is processed, then logged (`webhook_delivery`) in a transaction of
its own; a log that cannot be written is a warning, never a different answer to Stripe.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ConfigDict

from credits_app.api.errors import DATABASE_DOWN, error_response
from credits_app.api.schemas import ResponseModel, error_responses
from credits_app.db import session_scope
from credits_app.models import utcnow
from credits_app.observability import metrics
from credits_app.services.billing.webhook import (
    InvalidWebhook,
    WebhookOutcome,
    process_event,
    verify_event,
)
from credits_app.services.billing.webhook_log import failure_text, log_delivery
from credits_app.services.errors import Unavailable
from credits_app.settings import get_settings

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])
logger = logging.getLogger(__name__)


class WebhookResponse(ResponseModel):
    """The event was processed now (`duplicate` false) or before (`duplicate` true).

    `outcome` is `applied`; `ignored` when the event is about something this app did not
    sell (or is of a type it does not use); or `duplicate`.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "received": True,
                    "eventId": "evt_1a2b3c",
                    "duplicate": False,
                    "handled": True,
                    "outcome": "applied",
                }
            ]
        }
    )

    received: bool
    event_id: str
    duplicate: bool
    handled: bool
    outcome: str


def _process(event: dict) -> WebhookOutcome:
    with session_scope() as session:
        return process_event(session=session, event=event)


async def _log(event: dict, payload: bytes, received_at: datetime, started: float, **how) -> None:
    """Log the delivery in the webhook log (its own transaction; never raises)."""
    await run_in_threadpool(
        log_delivery,
        event=event,
        received_at=received_at,
        duration_ms=round((time.perf_counter() - started) * 1000),
        payload=payload.decode("utf-8", "replace"),
        **how,
    )


@router.post(
    "/stripe",
    summary="Receive a Stripe event",
    response_model=WebhookResponse,
    responses=error_responses(),
)
async def stripe_webhook(request: Request) -> WebhookResponse | JSONResponse:
    """Verify `Stripe-Signature` (300 s tolerance) and apply the event exactly once.

    A missing, wrong or stale signature is a 400 and nothing is written (not even to the
    webhook log). A failure before the commit is a 5xx, so Stripe delivers again; a repeated
    event answers 200. Every verified delivery is then logged for `/admin/webhooks`.
    """
    payload = await request.body()
    with metrics.count_webhook() as counted:  # no outcome set: it failed (Stripe retries)
        try:
            event = verify_event(
                payload,
                request.headers.get("stripe-signature"),
                get_settings().stripe_webhook_secret,
            )
        except InvalidWebhook as exc:
            logger.info("Stripe webhook rejected: %s", exc.message)
            raise
        received_at, started = utcnow(), time.perf_counter()
        try:
            outcome = await run_in_threadpool(_process, event)
        except Exception as exc:  # any failure before the commit: nothing was written, so retry
            if not isinstance(exc, DATABASE_DOWN):  # the log lives in that same database
                error = failure_text(exc)
                await _log(event, payload, received_at, started, outcome="failed", error=error)
            if isinstance(exc, Unavailable):
                raise
            logger.exception("Stripe event %s failed; Stripe will retry", event["id"])
            return error_response(
                503, "webhook_failed", "the event could not be processed now; Stripe will retry"
            )
        await _log(event, payload, received_at, started, outcome=outcome.outcome)
        counted.set(outcome.outcome)
    return WebhookResponse(
        received=True,
        event_id=outcome.event_id,
        duplicate=outcome.duplicate,
        handled=outcome.handled,
        outcome=outcome.outcome,
    )
