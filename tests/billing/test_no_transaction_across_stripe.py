"""No transaction is open while Stripe answers: checkout, portal and webhook re-fetches.

On SQLite a writing transaction holds the database's only write lock: before this was
fixed, a spend waited 2.7 s behind a slow Stripe call during checkout.
"""

from __future__ import annotations

import queue
import threading

import pytest

from credits_app.models import Subscription
from credits_app.services.billing import stripe_client
from credits_app.settings import get_settings
from tests.billing.stripe_gate import StripeGate, open_transactions
from tests.support.cli import assert_check_ok


@pytest.fixture
def gate(world, monkeypatch):
    """Route the app's Stripe calls through a gate that holds each one.

    Events are not delivered meanwhile: a webhook's own short write could otherwise be
    caught holding the lock at the moment we look.
    """
    world.sim.configure(forward_to="")
    gate = StripeGate(world.sim.url)
    monkeypatch.setenv("STRIPE_API_BASE", gate.url)
    get_settings.cache_clear()
    stripe_client._client.cache_clear()
    yield gate
    gate.close()
    get_settings.cache_clear()
    stripe_client._client.cache_clear()


def _while_each_call_is_held(world, gate: StripeGate, action) -> tuple[list[str], list]:
    """Run `action` in a thread; at every Stripe call it makes, look for held locks."""
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(action()))
    worker.start()
    seen: list[str] = []
    while worker.is_alive():
        try:
            call = gate.arrived.get(timeout=0.5)
        except queue.Empty:
            continue
        seen += [f"{call}: {problem}" for problem in open_transactions(world.db_url)]
        gate.release()
    worker.join()
    return seen, outcome


def test_checkout_keeps_no_transaction_open_while_stripe_answers(world, gate):
    user_id = world.new_user()

    held, [response] = _while_each_call_is_held(
        world, gate, lambda: world.checkout(user_id, "price_sim_monthly")
    )

    assert response.status_code == 200, response.text
    assert held == []
    assert_check_ok(world.db_url)


def test_the_portal_keeps_no_transaction_open_while_stripe_answers(world, gate):
    user_id = world.new_user()
    _, [checkout] = _while_each_call_is_held(
        world, gate, lambda: world.checkout(user_id, "price_sim_starter")
    )
    world.sim.pay(checkout.json()["id"])

    held, [response] = _while_each_call_is_held(
        world,
        gate,
        lambda: world.http.get("/api/billing/portal-link", headers=world.bearer(user_id)),
    )

    assert response.status_code == 303
    assert held == []
    assert_check_ok(world.db_url)


def test_a_webhook_refetch_keeps_no_transaction_open_while_stripe_answers(world, gate):
    user_id = world.new_user()
    _, [checkout] = _while_each_call_is_held(
        world, gate, lambda: world.checkout(user_id, "price_sim_monthly")
    )
    world.sim.pay(checkout.json()["id"])
    [created] = world.events("customer.subscription.created")
    [paid] = world.events("invoice.paid")

    held, answers = _while_each_call_is_held(
        world, gate, lambda: [world.post_event(e).status_code for e in (created, paid)]
    )

    assert answers == [[200, 200]]
    assert held == []
    subscription_id = created["data"]["object"]["id"]
    with world.session() as session:
        assert session.get(Subscription, subscription_id).status == "active"
    assert world.balance(user_id).balance == 1000
    assert_check_ok(world.db_url)
