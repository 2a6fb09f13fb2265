"""Helpers for operations tests: read a Prometheus scrape, sign a Stripe event."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

ADMIN_KEY = "ops-admin-key-0123456789abcdef"
WEBHOOK_SECRET = "whsec_ops_tests_0123456789abcdef"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value (0 when the scrape does not have it yet)."""
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def changes(before: str, after: str, wanted: list[tuple[str, dict[str, str]]]) -> list[float]:
    """How much each wanted sample grew between two scrapes."""
    return [value(after, name, **labels) - value(before, name, **labels) for name, labels in wanted]


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    """The event's bytes and a valid Stripe-Signature header for them."""
    payload = json.dumps(event).encode()
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return payload, {"Stripe-Signature": f"t={timestamp},v1={digest.hexdigest()}"}


def event(event_type: str, obj: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A Stripe event of `event_type` about `obj`, under a fresh id."""
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "api_version": "2026-10-28.endive",
        "data": {"object": obj},
        **extra,
    }
