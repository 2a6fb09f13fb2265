"""An admin re-applies a failed delivery: its verified event goes through `process_event` again.

Exactly-once still holds because nothing here writes an effect: `process_event` records the
event id and the effect in one transaction, as for any delivery. If the event was applied
meanwhile (Stripe retried it), or is applied at the same moment, the re-application is a
`duplicate` and grants nothing.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from credits_app.models import WebhookDelivery, utcnow
from credits_app.services.billing.webhook import process_event
from credits_app.services.billing.webhook_log.record import failure_text, log_delivery
from credits_app.services.errors import InvalidRequest, NotFound
from credits_app.services.users import require_admin_to

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReapplyResult:
    """How a re-application ended.

    Attributes:
        delivery_id: The log row of this re-application (None if it could not be written).
        outcome: `applied`, `duplicate` (applied before: nothing was done twice),
            `ignored`, or `failed` (then `error` says why, and it may be re-applied again).
    """

    delivery_id: int | None
    event_id: str
    type: str
    outcome: str
    error: str | None = None


def _stored_event(delivery: WebhookDelivery) -> dict[str, Any]:
    """The verified event a failed delivery kept.

    Raises:
        InvalidRequest: When it kept none, or not that event.
    """
    if not delivery.payload:
        raise InvalidRequest("delivery", f"{delivery.id} keeps no event to re-apply")
    try:
        event = json.loads(delivery.payload)
    except ValueError:
        event = None
    valid = (
        isinstance(event, dict)
        and event.get("id") == delivery.event_id
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance((event.get("data") or {}).get("object"), dict)
    )
    if not valid:
        raise InvalidRequest("delivery", f"{delivery.id} keeps an event that cannot be read")
    return event


def reapply(*, session: Session, delivery_id: int, admin_user_id: int) -> ReapplyResult:
    """Run a failed delivery's event through the webhook's own path again, and log it.

    The re-application is logged as a new delivery (`reapplied_by` the admin, `reapply_of`
    the failed one); the failed row stays as it was.

    Raises:
        Forbidden: When `admin_user_id` is not an admin.
        NotFound: When there is no such delivery (or it was pruned).
        InvalidRequest: When it did not fail, or keeps no event.
    """
    require_admin_to(session=session, user_id=admin_user_id, action="re-apply webhook events")
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no webhook delivery {delivery_id}")
    if delivery.outcome != "failed":
        raise InvalidRequest(
            "delivery", f"{delivery_id} was {delivery.outcome}; only a failed one can be re-applied"
        )
    event, payload = _stored_event(delivery), delivery.payload
    # The handler may ask Stripe first: no transaction (on SQLite, no write lock) stays open.
    session.rollback()
    received_at, started = utcnow(), time.perf_counter()
    error = None
    try:
        outcome = process_event(session=session, event=event).outcome
    except Exception as exc:  # as at the endpoint: nothing was written, it may be run again
        outcome, error = "failed", failure_text(exc)
        logger.warning("re-applying Stripe event %s failed: %s", event["id"], error)
    logged = log_delivery(
        session.get_bind(),
        event=event,
        outcome=outcome,
        received_at=received_at,
        duration_ms=round((time.perf_counter() - started) * 1000),
        error=error,
        payload=payload,
        reapplied_by=admin_user_id,
        reapply_of=delivery_id,
    )
    logger.info(
        "admin %s re-applied webhook delivery %s (event %s): %s",
        admin_user_id,
        delivery_id,
        event["id"],
        outcome,
    )
    return ReapplyResult(logged, event["id"], event["type"], outcome, error)
