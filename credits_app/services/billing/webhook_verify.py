"""Check a webhook's Stripe-Signature on the raw bytes before anything else happens."""

from __future__ import annotations

import json
import time
from typing import Any

import stripe

from credits_app.services.errors import CreditsError, Unavailable

TOLERANCE_SECONDS = 300


class InvalidWebhook(CreditsError):
    """Raised when a delivery is unsigned, wrongly signed, stale, or not a Stripe event."""

    code = "invalid_signature"
    http_status = 400


def _timestamp(header: str) -> int | None:
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            return int(value)
    return None


def verify_event(
    payload: bytes, header: str | None, secret: str | None, *, now: float | None = None
) -> dict[str, Any]:
    """Verify the signature and freshness of a delivery and return the event as a dict.

    Args:
        payload: The request body exactly as received.
        header: The Stripe-Signature header.
        secret: STRIPE_WEBHOOK_SECRET.
        now: The current unix time (tests pass a fixed one).

    Raises:
        InvalidWebhook: When the header is missing, the signature does not match, the
            timestamp is more than 5 minutes old or in the future, or the body is not an event.
        Unavailable: When no webhook secret is configured.
    """
    if not secret:
        raise Unavailable("webhooks are not configured: STRIPE_WEBHOOK_SECRET is not set")
    if not header:
        raise InvalidWebhook("missing Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(f"signature verification failed: {exc.user_message}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidWebhook("the body is not UTF-8") from exc
    # The SDK only rejects old timestamps; a future one means a wrong clock or a forgery.
    timestamp = _timestamp(header)
    if timestamp is None or timestamp > (now or time.time()) + TOLERANCE_SECONDS:
        raise InvalidWebhook("signature timestamp is outside the tolerance zone")
    return _parse(payload)


def _parse(payload: bytes) -> dict[str, Any]:
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise InvalidWebhook("the body is not JSON") from exc
    valid = (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance((event.get("data") or {}).get("object"), dict)
    )
    if not valid:
        raise InvalidWebhook("the body is not a Stripe event")
    return event
