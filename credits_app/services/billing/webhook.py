"""Apply a verified Stripe event exactly once: event id and effect in one transaction.

First the handler's prepare phase asks Stripe for what it needs (no transaction is open, so
on SQLite no other writer waits for Stripe); then one short transaction records the event
id, writes the effect and commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from credits_app.db import per_statement_session
from credits_app.models import StripeEvent
from credits_app.services import balance_events
from credits_app.services.billing.handlers import HANDLERS, EventContext, Handler, Lookup
from credits_app.services.billing.stripe_client import STRIPE_API_VERSION
from credits_app.services.billing.webhook_verify import InvalidWebhook, verify_event

logger = logging.getLogger(__name__)
ATTEMPTS = 3
_versions_seen: set[str] = set()

__all__ = [
    "InvalidWebhook",
    "WebhookOutcome",
    "event_object_id",
    "process_event",
    "verify_event",
]


@dataclass(frozen=True)
class WebhookOutcome:
    """What became of one delivery.

    `duplicate` means it had been processed before; `outcome` is `applied`, `ignored` (an
    object the app did not sell, or an event type it does not use) or `duplicate`.
    """

    event_id: str
    type: str
    duplicate: bool
    handled: bool
    outcome: str = "applied"


def event_object_id(event: dict[str, Any]) -> str | None:
    """The id of the event's `data.object` (a checkout session, invoice, ...), if it has one."""
    found = ((event.get("data") or {}).get("object") or {}).get("id")
    return found[:255] if isinstance(found, str) and found else None


def note_api_version(version: Any) -> None:
    """Log, once per process and version, events rendered in a version other than ours."""
    if not isinstance(version, str) or version == STRIPE_API_VERSION or version in _versions_seen:
        return
    _versions_seen.add(version)
    if version[:10] < STRIPE_API_VERSION[:10]:
        logger.warning(
            "Stripe events arrive in API version %s, older than the %s this app pins. They "
            "are read in both shapes, but consider creating the webhook endpoint with "
            "api_version=%s (docs/billing.md).",
            version,
            STRIPE_API_VERSION,
            STRIPE_API_VERSION,
        )
    else:
        logger.warning(
            "Stripe events arrive in API version %s, which this app (pinned to %s) does not "
            "know; fields it cannot find are treated as absent.",
            version,
            STRIPE_API_VERSION,
        )


def process_event(*, session: Session, event: dict[str, Any]) -> WebhookOutcome:
    """Gather what the event needs, then record its id and apply its effect, at most once.

    A duplicate event id answers as already processed. Two deliveries racing each other
    (same event, or the same Stripe object under two event ids) collide on a unique key;
    the loser rolls back and tries again, and then sees the winner's work.

    Raises:
        Exception: Whatever failed before commit; nothing was written, so Stripe may retry.
    """
    note_api_version(event.get("api_version"))
    handler = HANDLERS.get(event["type"])
    with per_statement_session(session.get_bind()) as reader:
        if reader.get(StripeEvent, event["id"]) is not None:
            return WebhookOutcome(event["id"], event["type"], True, False, "duplicate")
        facts = handler.prepare(Lookup(event, reader)) if handler else None
    for attempt in range(1, ATTEMPTS + 1):
        try:
            ctx = _apply(session, event, handler, facts)
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
            return WebhookOutcome(event["id"], event["type"], True, False, "duplicate")
        for result in ctx.changed.values():
            balance_events.publish(
                balance_events.BalanceChanged(result.user_id, result.balance, result.available)
            )
        handled = handler is not None
        return WebhookOutcome(event["id"], event["type"], False, handled, ctx.outcome)
    raise AssertionError("unreachable")


def _apply(
    session: Session, event: dict[str, Any], handler: Handler | None, facts: Any
) -> EventContext | None:
    """One attempt; returns None (after rolling back) when the event id was seen already."""
    if session.get(StripeEvent, event["id"]) is not None:
        session.rollback()
        return None
    row = StripeEvent(
        id=event["id"],
        type=event["type"],
        stripe_created=event["created"],
        api_version=str(event.get("api_version") or "")[:32] or None,
        object_id=event_object_id(event),
    )
    session.add(row)
    session.flush()
    ctx = EventContext(session=session, event=event, facts=facts)
    if handler is not None:
        handler.apply(ctx)
    else:
        ctx.outcome, ctx.detail = "ignored", "an event type this app does not use"
    row.outcome, row.detail = ctx.outcome, ctx.detail
    session.add(row)
    session.commit()
    return ctx
