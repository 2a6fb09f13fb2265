"""One subscription per user: open plan checkouts are expired, a second paid plan is undone."""

from __future__ import annotations

import pytest

from credits_app.models import Subscription
from credits_app.services.billing.customers import customer_id_of
from credits_app.stripe_sim.control import SimControlError
from tests.billing.support import subscribe
from tests.support.cli import assert_check_ok


def _plan_session_outside_the_app(world, user_id: int, price_id: str) -> str:
    """A plan checkout with our metadata that the app's own checkout did not create (as if
    opened in a race with another one)."""
    with world.session() as session:
        customer = customer_id_of(session=session, user_id=user_id)
    metadata = {"user_id": str(user_id), "price_id": price_id, "included_credits": "0"}
    return world.stripe.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "customer": customer,
            "client_reference_id": str(user_id),
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": "http://shop.test/credits/success",
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
        }
    ).id


def test_opening_a_second_plan_checkout_expires_the_first(world):
    user_id = world.new_user()
    first = world.checkout(user_id, "price_sim_monthly").json()["id"]

    second = world.checkout(user_id, "price_sim_yearly").json()["id"]

    assert world.stripe.v1.checkout.sessions.retrieve(first).status == "expired"
    with pytest.raises(SimControlError):
        world.sim.pay(first)
    world.sim.pay(second)
    world.sim.wait_for_deliveries()
    assert world.balance(user_id).balance == 15000
    assert world.count(Subscription) == 1
    assert_check_ok(world.db_url)


def test_completing_a_plan_checkout_expires_the_other_open_ones(world):
    user_id = world.new_user()
    mine = world.checkout(user_id, "price_sim_monthly").json()["id"]
    other = _plan_session_outside_the_app(world, user_id, "price_sim_yearly")

    world.sim.pay(mine)
    world.sim.wait_for_deliveries()

    assert world.stripe.v1.checkout.sessions.retrieve(other).status == "expired"
    assert world.balance(user_id).balance == 1000
    assert_check_ok(world.db_url)


def test_a_second_plan_paid_anyway_is_canceled_and_refunded(world):
    user_id = world.new_user()
    kept = subscribe(world, user_id, "price_sim_monthly")  # $15.00, 1,000 credits
    newer_session = _plan_session_outside_the_app(world, user_id, "price_sim_yearly")
    world.sim.advance(60)  # newer by a minute (within one second, the lower id is kept)

    world.sim.pay(newer_session)
    world.sim.wait_for_deliveries()

    newer = world.stripe.v1.checkout.sessions.retrieve(newer_session).subscription
    assert world.stripe.v1.subscriptions.retrieve(newer).status == "canceled"
    assert world.stripe.v1.subscriptions.retrieve(kept).status == "active"
    [refund] = world.stripe.v1.refunds.list({"limit": 10}).data
    assert (refund.amount, refund.metadata["reason"]) == (15000, "duplicate_subscription")
    # The yearly plan's 15,000 credits came and went with its money.
    assert world.balance(user_id).balance == 1000
    with world.session() as session:
        assert session.get(Subscription, newer).status == "canceled"
        assert session.get(Subscription, kept).status == "active"
    assert_check_ok(world.db_url)
