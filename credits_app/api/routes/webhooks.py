"""Routes: Stripe webhook deliveries, verified on the raw bytes before anything is written."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ConfigDict

from credits_app.api.errors import error_response
from credits_app.api.schemas import ResponseModel, error_responses
from credits_app.db import session_scope
from credits_app.observability import metrics
from credits_app.services.billing.webhook import WebhookOutcome, process_event, verify_event
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


@router.post(
    "/stripe",
    summary="Receive a Stripe event",
    response_model=WebhookResponse,
    responses=error_responses(),
)
async def stripe_webhook(request: Request) -> WebhookResponse | JSONResponse:
    """Verify `Stripe-Signature` (300 s tolerance) and apply the event exactly once.

    A missing, wrong or stale signature is a 400 and nothing is written. A failure before
    the commit is a 5xx, so Stripe delivers again; a repeated event answers 200.
    """
    payload = await request.body()
    with metrics.count_webhook() as counted:  # no outcome set: it failed (Stripe retries)
        event = verify_event(
            payload, request.headers.get("stripe-signature"), get_settings().stripe_webhook_secret
        )
        try:
            outcome = await run_in_threadpool(_process, event)
        except Unavailable:
            raise
        except Exception:  # any failure before the commit: nothing was written, so retry
            logger.exception("Stripe event %s failed; Stripe will retry", event["id"])
            return error_response(
                503, "webhook_failed", "the event could not be processed now; Stripe will retry"
            )
        counted.set(outcome.outcome)
    return WebhookResponse(
        received=True,
        event_id=outcome.event_id,
        duplicate=outcome.duplicate,
        handled=outcome.handled,
        outcome=outcome.outcome,
    )
