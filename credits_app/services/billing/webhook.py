"""Apply a verified Stripe event exactly once: event id and effect in one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from credits_app.models import StripeEvent
from credits_app.services import balance_events
from credits_app.services.billing.handlers import HANDLERS
from credits_app.services.billing.handlers.context import EventContext
from credits_app.services.billing.webhook_verify import InvalidWebhook, verify_event

logger = logging.getLogger(__name__)
ATTEMPTS = 3

__all__ = ["InvalidWebhook", "WebhookOutcome", "process_event", "verify_event"]


@dataclass(frozen=True)
class WebhookOutcome:
    """What became of one delivery; `duplicate` means it had been processed before."""

    event_id: str
    type: str
    duplicate: bool
    handled: bool


def process_event(*, session: Session, event: dict[str, Any]) -> WebhookOutcome:
    """Record the event id and apply its effect in one transaction, at most once.

    A duplicate event id answers as already processed. Two deliveries racing each other
    (same event, or the same Stripe object under two event ids) collide on a unique key;
    the loser rolls back and tries again, and then sees the winner's work.

    Raises:
        Exception: Whatever failed before commit; nothing was written, so Stripe may retry.
    """
    handler = HANDLERS.get(event["type"])
    for attempt in range(1, ATTEMPTS + 1):
        try:
            ctx = _apply(session, event, handler)
        except IntegrityError:
            session.rollback()
            logger.info("event %s collided with a concurrent delivery", event["id"])
            if attempt == ATTEMPTS:
                raise
            continue
        except BaseException:
            session.rollback()
            raise
        if ctx is None:
            return WebhookOutcome(event["id"], event["type"], duplicate=True, handled=False)
        for result in ctx.changed.values():
            balance_events.publish(
                balance_events.BalanceChanged(result.user_id, result.balance, result.available)
            )
        return WebhookOutcome(event["id"], event["type"], False, handled=handler is not None)
    raise AssertionError("unreachable")


def _apply(session: Session, event: dict[str, Any], handler) -> EventContext | None:
    """One attempt; returns None (after rolling back) when the event id was seen already."""
    if session.get(StripeEvent, event["id"]) is not None:
        session.rollback()
        return None
    session.add(StripeEvent(id=event["id"], type=event["type"], stripe_created=event["created"]))
    session.flush()
    ctx = EventContext(session=session, event=event)
    if handler is not None:
        handler(ctx)
    session.commit()
    return ctx
