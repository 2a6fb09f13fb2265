"""Disputes: credits leave with the disputed money and come back with it, once each way."""

from __future__ import annotations

import uuid

from tests.billing.support import renamed
from tests.support.cli import assert_check_ok


def _buy_starter(world, user_id: int) -> str:
    """Buy the $5.00 starter pack (100 credits); return its payment intent."""
    session_id = world.buy(user_id, "price_sim_starter")
    return world.stripe.v1.checkout.sessions.retrieve(session_id).payment_intent


def _redeliver_all(world, *event_types: str) -> None:
    for event_type in event_types:
        for event in world.events(event_type):
            assert world.post_event(renamed(event)).status_code == 200


def test_an_inquiry_takes_nothing_until_the_bank_escalates_it_then_once(world):
    user_id = world.new_user()
    inquiry = world.sim.dispute(_buy_starter(world, user_id), inquiry=True)
    world.sim.wait_for_deliveries()
    assert inquiry["status"] == "warning_needs_response"
    assert world.balance(user_id).balance == 100

    world.sim.escalate(inquiry["id"])
    world.sim.wait_for_deliveries()
    _redeliver_all(world, "charge.dispute.updated", "charge.dispute.funds_withdrawn")

    assert world.balance(user_id).balance == 0
    clawbacks = [(e.kind, e.source_ref, e.amount) for e in world.entries(user_id)[1:]]
    assert clawbacks == [("clawback", inquiry["id"], 100)]
    assert_check_ok(world.db_url)


def test_an_escalated_inquiry_that_is_won_gives_the_credits_back_once(world):
    user_id = world.new_user()
    inquiry = world.sim.dispute(_buy_starter(world, user_id), inquiry=True)
    world.sim.wait_for_deliveries()  # the inquiry is seen as an inquiry first
    world.sim.escalate(inquiry["id"])
    world.sim.wait_for_deliveries()

    world.sim.close_dispute(inquiry["id"], "won")
    world.sim.wait_for_deliveries()
    _redeliver_all(world, "charge.dispute.funds_reinstated", "charge.dispute.closed")

    assert world.balance(user_id).balance == 100
    moves = [(e.kind, e.amount) for e in world.entries(user_id)]
    assert moves == [("grant", 100), ("clawback", 100), ("grant", 100)]
    assert_check_ok(world.db_url)


def test_an_inquiry_closed_without_escalation_never_moves_credits(world):
    user_id = world.new_user()
    inquiry = world.sim.dispute(_buy_starter(world, user_id), inquiry=True)
    world.sim.wait_for_deliveries()

    world.sim.close_dispute(inquiry["id"], "won")
    world.sim.wait_for_deliveries()

    assert world.stripe.v1.disputes.retrieve(inquiry["id"]).status == "warning_closed"
    assert [(e.kind, e.amount) for e in world.entries(user_id)] == [("grant", 100)]
    assert_check_ok(world.db_url)


def test_a_prevented_dispute_is_clawed_back_once_by_its_refund_alone(world):
    user_id = world.new_user()
    world.sim.dispute(_buy_starter(world, user_id), prevented=True)
    world.sim.wait_for_deliveries()

    assert world.balance(user_id).balance == 0
    moves = [(e.kind, e.source, e.amount) for e in world.entries(user_id)]
    assert moves == [("grant", "stripe_checkout", 100), ("clawback", "stripe_refund", 100)]
    assert_check_ok(world.db_url)


def test_refunds_and_a_dispute_of_one_payment_never_take_back_more_than_it_bought(world):
    user_id = world.new_user()
    intent = _buy_starter(world, user_id)
    world.stripe.v1.refunds.create({"payment_intent": intent, "amount": 250})
    world.sim.wait_for_deliveries()

    world.sim.dispute(intent, amount=500)  # the bank disputes the full $5.00 anyway
    world.sim.wait_for_deliveries()

    assert world.balance(user_id).balance == 0
    moves = [(e.kind, e.source, e.amount) for e in world.entries(user_id)]
    assert moves == [
        ("grant", "stripe_checkout", 100),
        ("clawback", "stripe_refund", 50),
        ("clawback", "stripe_dispute", 50),
    ]
    assert_check_ok(world.db_url)


def test_a_lost_dispute_keeps_its_clawback_whatever_arrives_late(world):
    user_id = world.new_user()
    dispute = world.sim.dispute(_buy_starter(world, user_id))
    world.sim.wait_for_deliveries()
    world.sim.close_dispute(dispute["id"], "lost")
    world.sim.wait_for_deliveries()

    for event in world.events("charge.dispute.created"):  # a late, repeated notice
        world.post_event({**event, "id": f"evt_late_{uuid.uuid4().hex[:12]}"})

    assert world.balance(user_id).balance == 0
    assert [(e.kind, e.amount) for e in world.entries(user_id)] == [
        ("grant", 100),
        ("clawback", 100),
    ]
    assert_check_ok(world.db_url)
