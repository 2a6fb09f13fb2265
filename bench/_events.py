"""Stripe-shaped checkout events for the webhook benchmark, and the pack they buy."""

from __future__ import annotations

import json
import random
import time
import uuid

import _common  # noqa: F401  (makes the project importable when run as a script)
from sqlmodel import Session

from credits_app.db import make_engine
from credits_app.models import Price, Product

PRICE_ID = "price_bench_pack"
PACK_CREDITS = 100


def add_pack(url: str) -> None:
    """Put one credit pack in the catalogue, so handlers never ask Stripe for the price."""
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(Product(id="prod_bench", name="Bench pack"))
        session.flush()
        session.add(
            Price(
                id=PRICE_ID,
                product_id="prod_bench",
                kind="pack",
                unit_amount=1000,
                currency="usd",
                included_credits=PACK_CREDITS,
            )
        )
        session.commit()
    engine.dispose()


def make_event(user_id: int, tag: str, n: int) -> bytes:
    """A paid pack checkout event, shaped like Stripe's."""
    checkout = {
        "id": f"cs_bench_{tag}_{n}",
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": str(user_id),
        "customer": None,
        "metadata": {"user_id": str(user_id), "price_id": PRICE_ID},
        "payment_intent": f"pi_bench_{tag}_{n}",
        "amount_subtotal": 1000,
        "amount_total": 1000,
        "currency": "usd",
    }
    event = {
        "id": f"evt_bench_{tag}_{n}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
        "data": {"object": checkout},
    }
    return json.dumps(event).encode()


def deliveries(users: list[int], events: int, duplicate_share: float) -> list[bytes]:
    """Unique events plus duplicates of a random share, each duplicate right after its original."""
    tag = uuid.uuid4().hex[:8]
    out = []
    for n in range(events):
        payload = make_event(users[n % len(users)], tag, n)
        out += [payload, payload] if random.random() < duplicate_share else [payload]
    return out
