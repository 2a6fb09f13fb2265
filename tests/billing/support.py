"""Helpers for billing tests: buy through the API, sign events, read the ledger."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import stripe
from sqlalchemy import func, select
from sqlmodel import Session
from sqlmodel import select as sm_select

from credits_app.db import engine_for
from credits_app.models import LedgerEntry, StripeEvent
from credits_app.services.accounts import Balance, balance_of
from credits_app.services.billing.customers import customer_id_of
from credits_app.services.tokens import generate_access_token
from credits_app.stripe_sim.control import SimControl
from tests.support.factories import make_user

WEBHOOK_SECRET = "whsec_billing_tests_0123456789"
ADMIN_KEY = "billing-admin-key-0123456789abcdef"
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for `payload`, computed as Stripe does."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class BillingWorld:
    """Everything a billing test talks to."""

    db_url: str
    api_url: str
    sim: SimControl
    stripe: stripe.StripeClient
    http: httpx.Client
    api_version: str = "2026-10-28.endive"

    @property
    def legacy(self) -> bool:
        """Whether events come in a version before 2025-03-31."""
        return self.api_version < "2025-03-31"

    def session(self) -> Session:
        """A new session on the test database (close it, or use `with`)."""
        return Session(engine_for(self.db_url), expire_on_commit=False)

    def new_user(self, credits: int = 0) -> int:
        """Create a user and return its id."""
        with self.session() as session:
            return make_user(session, credits=credits).id

    def bearer(self, user_id: int) -> dict[str, str]:
        """Authorization header for this user."""
        return {"Authorization": f"Bearer {generate_access_token(user_id, 'billing')}"}

    def checkout(self, user_id: int, price_id: str) -> httpx.Response:
        """POST /api/billing/checkout-session as this user."""
        return self.http.post(
            "/api/billing/checkout-session",
            json={"priceId": price_id},
            headers=self.bearer(user_id),
        )

    def buy(self, user_id: int, price_id: str, card: str = GOOD_CARD) -> str:
        """Check out and pay on the stand-in page; returns the session id once delivered."""
        response = self.checkout(user_id, price_id)
        assert response.status_code == 200, response.text
        session_id = response.json()["id"]
        self.sim.pay(session_id, card)
        self.sim.wait_for_deliveries()
        return session_id

    def balance(self, user_id: int) -> Balance:
        """The user's balance row."""
        with self.session() as session:
            return balance_of(session=session, user_id=user_id)

    def entries(self, user_id: int) -> list[Any]:
        """The user's ledger entries, oldest first."""
        with self.session() as session:
            query = sm_select(LedgerEntry).where(LedgerEntry.user_id == user_id)
            return list(session.exec(query.order_by(LedgerEntry.id)).all())

    def count(self, model: Any) -> int:
        """Rows in a table."""
        with self.session() as session:
            return session.execute(select(func.count()).select_from(model)).scalar_one()

    def events(self, event_type: str) -> list[dict[str, Any]]:
        """The simulator's events of a type, newest first, as the raw JSON Stripe sends."""
        response = httpx.get(
            f"{self.sim.url}/v1/events",
            params={"type": event_type, "limit": 100},
            headers={"Authorization": "Bearer sk_test_billing_tests"},
        )
        response.raise_for_status()
        return response.json()["data"]

    def post_event(self, event: dict[str, Any], **sign_options: Any) -> httpx.Response:
        """Deliver an event to the webhook ourselves, correctly signed unless told otherwise."""
        payload = json.dumps(event).encode()
        headers = {"Stripe-Signature": sign(payload, **sign_options)}
        return self.http.post("/api/webhooks/stripe", content=payload, headers=headers)

    def processed_events(self) -> int:
        """How many event ids the app recorded."""
        return self.count(StripeEvent)


def renamed(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of an event under a new id (as if Stripe sent the same object again)."""
    return {**event, "id": f"evt_{uuid.uuid4().hex[:24]}", **changes}


# The demo catalogue's prices: (unit amount in cents, credits per unit).
RATES = {
    "price_sim_starter": (500, 100),
    "price_sim_pro": (2000, 500),
    "price_sim_enterprise": (6000, 2000),
    "price_sim_monthly": (1500, 1000),
    "price_sim_yearly": (15000, 15000),
}


def add_plan(world: BillingWorld, key: str, amount: int, credits: int, interval: str) -> str:
    """Create a recurring price in the simulator, import it, and return its id."""
    product = world.stripe.v1.products.create({"name": f"Plan {key}"})
    price = world.stripe.v1.prices.create(
        {
            "product": product.id,
            "unit_amount": amount,
            "currency": "usd",
            "recurring": {"interval": interval},
            "metadata": {"includedCredits": str(credits)},
        }
    )
    synced = world.http.post("/api/billing/sync-prices", headers={"x-admin-key": ADMIN_KEY})
    assert synced.status_code == 200, synced.text
    RATES[price.id] = (amount, credits)
    return price.id


def subscribe(world: BillingWorld, user_id: int, price_id: str) -> str:
    """Buy a plan through the app and return the subscription id."""
    session_id = world.buy(user_id, price_id)
    return world.stripe.v1.checkout.sessions.retrieve(session_id).subscription


def switch(
    world: BillingWorld,
    subscription_id: str,
    price_id: str | None = None,
    behaviour: str = "create_prorations",
    quantity: int | None = None,
) -> None:
    """Change a subscription's price or quantity as the portal would, and let events land."""
    item = world.stripe.v1.subscriptions.retrieve(subscription_id)["items"]["data"][0]["id"]
    change: dict[str, Any] = {"id": item}
    if price_id:
        change["price"] = price_id
    if quantity:
        change["quantity"] = quantity
    world.stripe.v1.subscriptions.update(
        subscription_id, {"items": [change], "proration_behavior": behaviour}
    )
    world.sim.wait_for_deliveries()


def paid_invoices(world: BillingWorld, subscription_id: str) -> list[Any]:
    """The subscription's paid invoices as Stripe has them, oldest first.

    Invoices made within one second are ordered by their number (a per-customer sequence).
    """
    listed = world.stripe.v1.invoices.list({"subscription": subscription_id, "limit": 100})
    paid = [i for i in listed.auto_paging_iter() if i.status == "paid"]
    return sorted(paid, key=lambda i: (i.created, i.number))


def credits_bought(invoice: Any) -> int:
    """What an invoice's money buys: each line at its price's rate, rounded down."""
    total = 0
    for line in invoice.lines.data:
        unit, credits = RATES[line.pricing.price_details.price]
        total += (line.amount * credits) // unit
    return total


def start_trial(world, user_id: int, price_id: str = "price_sim_monthly", days: int = 7) -> str:
    """A plan checkout with a trial, as an operator could configure it; returns the
    subscription id once its events landed."""
    first = world.checkout(user_id, "price_sim_starter")  # creates the user's customer
    assert first.status_code == 200, first.text
    with world.session() as session:
        customer = customer_id_of(session=session, user_id=user_id)
    metadata = {"user_id": str(user_id), "price_id": price_id, "included_credits": "1000"}
    created = world.stripe.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "customer": customer,
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": "http://shop.test/credits/success",
            "metadata": metadata,
            "subscription_data": {"metadata": metadata, "trial_period_days": days},
        }
    )
    world.sim.pay(created.id)
    world.sim.wait_for_deliveries()
    return world.stripe.v1.checkout.sessions.retrieve(created.id).subscription
