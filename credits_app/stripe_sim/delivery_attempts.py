"""One webhook delivery and its attempts: the signed POST and the record of each try."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .signing import sign_payload

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


@dataclass
class Delivery:
    """One event on its way to one URL, with every attempt made so far."""

    number: int
    event_id: str
    event_type: str
    url: str
    payload: bytes
    secret: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    failed: bool = False
    due: float = 0.0

    def summary(self) -> dict[str, Any]:
        """JSON-friendly view for `GET /_sim/deliveries`."""
        last = self.attempts[-1] if self.attempts else {}
        pending = not (self.delivered or self.failed)
        return {
            "id": self.number,
            "event": self.event_id,
            "type": self.event_type,
            "url": self.url,
            "attempt_count": len(self.attempts),
            "attempts": list(self.attempts),
            "last_status": last.get("status"),
            "delivered": self.delivered,
            "failed": self.failed,
            "pending": pending,
            "next_attempt_in": max(0.0, self.due - time.monotonic()) if pending else None,
        }


def post(client: httpx.Client, delivery: Delivery, timeout: float) -> dict[str, Any]:
    """POST a delivery's payload, freshly signed, and describe how the endpoint answered.

    Returns:
        `{"attempted_at", "status" (None on a connection error), "error", "duration_ms",
        "response_body"}`.
    """
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Stripe-Signature": sign_payload(delivery.payload, delivery.secret, timestamp),
    }
    started = time.monotonic()
    attempt: dict[str, Any] = {"attempted_at": timestamp, "status": None, "error": None}
    try:
        response = client.post(
            delivery.url,
            content=delivery.payload,
            headers=headers,
            timeout=timeout,
        )
        attempt["status"] = response.status_code
        attempt["response_body"] = response.text[:500]
    except httpx.HTTPError as exc:
        attempt["error"] = f"{type(exc).__name__}: {exc}"
    attempt["duration_ms"] = round((time.monotonic() - started) * 1000)
    return attempt
