"""Payments the app did not sell are acknowledged with 200, recorded, and change nothing."""

from __future__ import annotations

from sqlmodel import select

from credits_app.models import LedgerEntry, StripeEvent
from tests.billing.support import GOOD_CARD
from tests.support.cli import assert_check_ok


def _foreign_checkout(world, price_id: str, **extra) -> str:
    """Pay a session someone else created on the same Stripe account (no metadata of ours)."""
    customer = world.stripe.v1.customers.create({"email": "someone@else.test"})
    created = world.stripe.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "customer": customer.id,
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": "https://else.test/ok",
            **extra,
        }
    )
    world.sim.pay(created.id, GOOD_CARD)
    world.sim.wait_for_deliveries()
    return created.id


def _foreign_price(world) -> str:
    product = world.stripe.v1.products.create({"name": "T-shirt"})
    return world.stripe.v1.prices.create(
        {"product": product.id, "unit_amount": 2500, "currency": "usd"}
    ).id


def _answers(world, event_type: str) -> list[int]:
    """The status of the first delivery attempt of each event of a type."""
    statuses = []
    for event in world.events(event_type):
        [delivery] = world.sim.deliveries(event["id"])
        statuses.append(delivery["attempts"][0]["status"])
    return statuses


def _outcomes(world) -> dict[str, str]:
    with world.session() as session:
        return {e.type: e.outcome for e in session.exec(select(StripeEvent)).all()}


def test_a_paid_session_for_something_else_is_acknowledged_and_grants_nothing(world):
    _foreign_checkout(world, _foreign_price(world))

    assert _answers(world, "checkout.session.completed") == [200]
    assert _outcomes(world)["checkout.session.completed"] == "ignored"
    assert world.count(LedgerEntry) == 0
    assert_check_ok(world.db_url)


def test_a_client_reference_without_our_metadata_names_no_user(world):
    victim = world.new_user()

    _foreign_checkout(world, "price_sim_pro", client_reference_id=str(victim))

    assert _answers(world, "checkout.session.completed") == [200]
    assert world.balance(victim).balance == 0
    assert world.count(LedgerEntry) == 0
    assert_check_ok(world.db_url)


def test_refunds_and_disputes_of_payments_we_did_not_sell_are_acknowledged(world):
    session_id = _foreign_checkout(world, _foreign_price(world))
    intent = world.stripe.v1.checkout.sessions.retrieve(session_id).payment_intent
    world.stripe.v1.refunds.create({"payment_intent": intent, "amount": 500})
    world.sim.dispute(intent)
    world.sim.wait_for_deliveries()

    answers = _answers(world, "charge.refunded") + _answers(world, "charge.dispute.created")
    assert answers == [200, 200]
    outcomes = _outcomes(world)
    assert (outcomes["charge.refunded"], outcomes["charge.dispute.created"]) == (
        "ignored",
        "ignored",
    )
    assert world.count(LedgerEntry) == 0
    assert_check_ok(world.db_url)
