"""Buying a pack: checkout through the API, pay on the stand-in page, credits exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from credits_app.models import Customer, StripePayment
from credits_app.stripe_sim.control import SimControlError
from tests.billing.support import DECLINED_CARD, renamed
from tests.support.cli import assert_check_ok


def test_a_paid_pack_grants_its_credits_once(world):
    user_id = world.new_user()

    session_id = world.buy(user_id, "price_sim_starter")

    assert world.balance(user_id).balance == 100
    [grant] = world.entries(user_id)
    assert (grant.kind, grant.source, grant.source_ref) == ("grant", "stripe_checkout", session_id)
    checkout = world.stripe.v1.checkout.sessions.retrieve(session_id)
    assert checkout.mode == "payment"
    assert checkout.client_reference_id == str(user_id)
    assert checkout.metadata["user_id"] == str(user_id)
    assert checkout.metadata["price_id"] == "price_sim_starter"
    assert (
        checkout.success_url == "http://shop.test/credits/success?session_id={CHECKOUT_SESSION_ID}"
    )
    assert checkout.cancel_url == "http://shop.test/credits/cancel"
    with world.session() as session:
        payment = session.get(StripePayment, checkout.payment_intent)
    assert (payment.user_id, payment.credits, payment.amount) == (user_id, 100, 500)
    assert_check_ok(world.db_url)


def test_a_second_purchase_reuses_the_stripe_customer(world):
    user_id = world.new_user()

    first = world.buy(user_id, "price_sim_starter")
    second = world.buy(user_id, "price_sim_pro")

    customers = {world.stripe.v1.checkout.sessions.retrieve(s).customer for s in (first, second)}
    assert len(customers) == 1
    assert world.count(Customer) == 1
    assert world.balance(user_id).balance == 600
    assert_check_ok(world.db_url)


def test_replays_of_the_event_or_the_session_grant_nothing_more(world):
    user_id = world.new_user()
    world.buy(user_id, "price_sim_starter")
    [event] = world.events("checkout.session.completed")

    world.sim.resend(event["id"])
    world.sim.wait_for_deliveries()
    replayed = world.post_event(event)
    same_session = world.post_event(renamed(event))

    assert replayed.status_code == 200 and replayed.json()["duplicate"] is True
    assert same_session.status_code == 200 and same_session.json()["duplicate"] is False
    assert world.balance(user_id).balance == 100
    assert len(world.entries(user_id)) == 1
    assert_check_ok(world.db_url)


def test_ten_concurrent_deliveries_of_one_event_grant_once(world):
    user_id = world.new_user()
    world.sim.configure(forward_to="")  # we deliver it ourselves, ten times at once
    response = world.checkout(user_id, "price_sim_pro")
    world.sim.pay(response.json()["id"])
    [event] = world.events("checkout.session.completed")

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: world.post_event(event), range(10)))

    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
    assert sum(not a.json()["duplicate"] for a in answers) == 1
    assert world.balance(user_id).balance == 500
    assert len(world.entries(user_id)) == 1
    assert_check_ok(world.db_url)


def test_a_declined_card_grants_nothing(world):
    user_id = world.new_user()
    session_id = world.checkout(user_id, "price_sim_starter").json()["id"]

    with pytest.raises(SimControlError) as declined:
        world.sim.pay(session_id, DECLINED_CARD)
    assert declined.value.status == 402
    world.sim.wait_for_deliveries()

    assert world.balance(user_id).balance == 0
    assert world.count(StripePayment) == 0
    assert world.stripe.v1.checkout.sessions.retrieve(session_id).status == "open"
    assert_check_ok(world.db_url)


def test_a_delayed_payment_grants_when_it_succeeds_and_never_when_it_fails(world):
    user_id = world.new_user()
    settles = world.checkout(user_id, "price_sim_starter").json()["id"]
    fails = world.checkout(user_id, "price_sim_pro").json()["id"]

    world.sim.pay(settles, delayed=True)
    world.sim.pay(fails, delayed=True)
    world.sim.wait_for_deliveries()
    assert world.balance(user_id).balance == 0

    world.sim.settle(settles, "succeeded")
    world.sim.settle(fails, "failed")
    world.sim.wait_for_deliveries()

    assert world.balance(user_id).balance == 100
    assert [e.source_ref for e in world.entries(user_id)] == [settles]
    assert_check_ok(world.db_url)
