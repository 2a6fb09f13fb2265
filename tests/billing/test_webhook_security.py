"""The webhook refuses anything not signed by Stripe just now, and writes nothing for it."""

from __future__ import annotations

import json
import time

import pytest

from credits_app.models import LedgerEntry, StripeEvent
from tests.billing.support import sign
from tests.support.cli import assert_check_ok


@pytest.fixture
def paid_event(world):
    """A genuine `checkout.session.completed` for a paid pack, not delivered to the app."""
    world.sim.configure(forward_to="")
    user_id = world.new_user()
    world.sim.pay(world.checkout(user_id, "price_sim_starter").json()["id"])
    [event] = world.events("checkout.session.completed")
    return event


def _post(world, payload: bytes, headers: dict[str, str]):
    return world.http.post("/api/webhooks/stripe", content=payload, headers=headers)


def _assert_rejected(world, response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_signature"
    assert world.count(StripeEvent) == 0
    assert world.count(LedgerEntry) == 0


def test_a_missing_signature_is_rejected(world, paid_event):
    _assert_rejected(world, _post(world, json.dumps(paid_event).encode(), {}))


def test_a_signature_with_another_secret_is_rejected(world, paid_event):
    payload = json.dumps(paid_event).encode()
    header = sign(payload, secret="whsec_someone_else")
    _assert_rejected(world, _post(world, payload, {"Stripe-Signature": header}))


def test_a_garbled_signature_header_is_rejected(world, paid_event):
    payload = json.dumps(paid_event).encode()
    _assert_rejected(world, _post(world, payload, {"Stripe-Signature": "t=abc,v1=zzz"}))


def test_a_stale_timestamp_is_rejected(world, paid_event):
    payload = json.dumps(paid_event).encode()
    header = sign(payload, timestamp=int(time.time()) - 301)
    _assert_rejected(world, _post(world, payload, {"Stripe-Signature": header}))


def test_a_timestamp_from_the_future_is_rejected(world, paid_event):
    payload = json.dumps(paid_event).encode()
    header = sign(payload, timestamp=int(time.time()) + 3600)
    _assert_rejected(world, _post(world, payload, {"Stripe-Signature": header}))


def test_a_tampered_body_is_rejected(world, paid_event):
    payload = json.dumps(paid_event).encode()
    header = sign(payload)
    tampered = payload.replace(b'"paid"', b'"paid" ', 1)
    _assert_rejected(world, _post(world, tampered, {"Stripe-Signature": header}))
    assert_check_ok(world.db_url)


def test_a_signed_body_that_is_not_an_event_is_rejected(world):
    payload = b'{"hello": "world"}'
    _assert_rejected(world, _post(world, payload, {"Stripe-Signature": sign(payload)}))


def test_an_unknown_event_type_is_acknowledged_and_changes_nothing(world, paid_event):
    unknown = {**paid_event, "id": "evt_unknown_type", "type": "customer.tax_id.created"}

    response = world.post_event(unknown)

    assert response.status_code == 200
    assert (response.json()["handled"], response.json()["outcome"]) == (False, "ignored")
    assert world.post_event(unknown).json()["outcome"] == "duplicate"
    assert world.count(StripeEvent) == 1
    assert world.count(LedgerEntry) == 0
    assert_check_ok(world.db_url)


def test_a_failure_before_commit_is_a_5xx_and_the_retry_applies_it(world):
    """A price without includedCredits cannot grant: 503, nothing written; fixed, it grants."""
    world.sim.configure(forward_to="")
    user_id = world.new_user()
    product = world.stripe.v1.products.create({"name": "Mystery Pack"})
    price = world.stripe.v1.prices.create(
        {"product": product.id, "unit_amount": 300, "currency": "usd"}
    )
    event = _completed_for(world, user_id, price.id)

    failed = world.post_event(event)
    assert failed.status_code == 503, failed.text
    assert failed.json()["error"]["code"] == "unavailable"
    assert (world.count(StripeEvent), world.count(LedgerEntry)) == (0, 0)

    world.stripe.v1.prices.update(price.id, {"metadata": {"includedCredits": "42"}})
    retried = world.post_event(event)

    assert retried.status_code == 200
    # The session charged $5.00 (it bought the starter pack); at the fixed price's rate of
    # 42 credits per $3.00 that buys 70.
    assert world.balance(user_id).balance == 70
    assert_check_ok(world.db_url)


def _completed_for(world, user_id: int, price_id: str) -> dict:
    """A genuine paid checkout event whose metadata names `price_id` (not in our catalogue)."""
    world.sim.pay(world.checkout(user_id, "price_sim_starter").json()["id"])
    [event] = world.events("checkout.session.completed")
    event["data"]["object"]["metadata"]["price_id"] = price_id
    return event
