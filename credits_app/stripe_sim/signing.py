"""Webhook signatures in Stripe's `Stripe-Signature: t=...,v1=...` scheme."""

from __future__ import annotations

import hashlib
import hmac


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """Compute the `Stripe-Signature` header value for a payload.

    Args:
        payload: The exact request body bytes.
        secret: The endpoint's `whsec_...` signing secret, used verbatim as the HMAC key.
        timestamp: Unix seconds (real time, because receivers check it against their clock).

    Returns:
        `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<payload>">`.
    """
    signed = str(timestamp).encode() + b"." + payload
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
