"""Buying a pack through the real backend and the simulator; replaying signed events."""

from __future__ import annotations

import json
import time

import httpx
import stripe
from sqlalchemy import Engine, text

from credits_app.stripe_sim.control import SimControl
from tests.support.processes import ADMIN_API_KEY, WEBHOOK_SECRET

# The simulator's demo Starter Pack: $5 for 100 credits (credits_app/stripe_sim/seed.py).
PACK = "price_sim_starter"
PACK_CREDITS = 100
# The feature a token must name to open a Checkout session (an AI feature's token may not).
BILLING_FEATURE = "billing"


def sync_catalogue(backend_url: str) -> None:
    """Import the simulator's prices through the admin API (an operator's first step)."""
    with httpx.Client(base_url=backend_url, timeout=30) as client:
        response = client.post("/api/billing/sync-prices", headers={"x-admin-key": ADMIN_API_KEY})
    assert response.status_code == 200, response.text


def start_checkout(backend_url: str, token: str, price_id: str = PACK) -> str:
    """Create a Checkout session through the app's API; return its id.

    `token` must be minted for `BILLING_FEATURE`.
    """
    with httpx.Client(base_url=backend_url, timeout=30) as client:
        response = client.post(
            "/api/billing/checkout-session",
            json={"priceId": price_id},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    return response.json()["id"]


def completed_event(sim_url: str, session_id: str) -> dict:
    """The simulator's `checkout.session.completed` event for a session."""
    client = stripe.StripeClient("sk_test_runtime", base_addresses={"api": sim_url})
    events = client.v1.events.list({"type": "checkout.session.completed", "limit": 100})
    for event in events.auto_paging_iter():
        if event["data"]["object"]["id"] == session_id:
            return event.to_dict()
    raise AssertionError(f"no checkout.session.completed for {session_id}")


def deliver(backend_url: str, event: dict) -> int:
    """POST `event` to the webhook, signed like Stripe signs it; return the status."""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    with httpx.Client(base_url=backend_url, timeout=30) as client:
        response = client.post(
            "/api/webhooks/stripe",
            content=payload.encode(),
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )
    return response.status_code


def grants_for(engine: Engine, source_ref: str) -> list[int]:
    """Amounts of every grant entry recorded for one Stripe object."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT amount FROM credit_ledger WHERE kind = 'grant' AND source_ref = :r"),
            {"r": source_ref},
        ).all()
    return [amount for (amount,) in rows]


def wait_for_grant(engine: Engine, source_ref: str, timeout: float = 60.0) -> list[int]:
    """Wait until a grant for `source_ref` is in the ledger; return the grants."""
    deadline = time.monotonic() + timeout
    while not (found := grants_for(engine, source_ref)):
        assert time.monotonic() < deadline, f"no grant for {source_ref}"
        time.sleep(0.1)
    return found


def pay(sim_url: str, session_id: str) -> None:
    """Pay a session on the simulator, which then delivers its events."""
    control = SimControl(sim_url)
    try:
        control.pay(session_id)
    finally:
        control.close()


def resend(sim_url: str, event_id: str) -> None:
    """Ask the simulator to deliver a stored event again."""
    control = SimControl(sim_url)
    try:
        control.resend(event_id)
    finally:
        control.close()
