"""Refunds and disputes claw back the paid-for share once; spent credits become debt."""

from __future__ import annotations

import uuid

from credits_app.services.ledger import spend_credits
from tests.support.cli import assert_check_ok


def _intent(world, session_id: str) -> str:
    return world.stripe.v1.checkout.sessions.retrieve(session_id).payment_intent


def _spend(world, user_id: int, amount: int) -> None:
    with world.session() as session:
        spend_credits(
            session=session,
            user_id=user_id,
            amount=amount,
            feature="test",
            idempotency_key=uuid.uuid4().hex,
        )


def test_a_partial_refund_then_the_rest_claws_back_each_share_once(world):
    user_id = world.new_user()
    intent = _intent(world, world.buy(user_id, "price_sim_pro"))  # $20.00, 500 credits

    world.stripe.v1.refunds.create({"payment_intent": intent, "amount": 500})
    world.sim.wait_for_deliveries()
    assert world.balance(user_id).balance == 375

    world.stripe.v1.refunds.create({"payment_intent": intent})
    world.sim.wait_for_deliveries()
    assert world.balance(user_id).balance == 0

    for event in world.events("charge.refunded") + world.events("refund.created"):
        world.post_event({**event, "id": f"evt_again_{uuid.uuid4().hex[:12]}"})
    assert world.balance(user_id).balance == 0
    clawbacks = [e for e in world.entries(user_id) if e.kind == "clawback"]
    assert [e.amount for e in clawbacks] == [125, 375]
    assert_check_ok(world.db_url)


def test_a_refund_of_spent_credits_records_debt_that_the_next_grant_settles(world):
    user_id = world.new_user()
    intent = _intent(world, world.buy(user_id, "price_sim_starter"))  # $5.00, 100 credits
    _spend(world, user_id, 80)

    world.stripe.v1.refunds.create({"payment_intent": intent})
    world.sim.wait_for_deliveries()
    after_refund = world.balance(user_id)
    world.buy(user_id, "price_sim_starter")
    after_grant = world.balance(user_id)

    assert (after_refund.balance, after_refund.debt) == (0, 80)
    assert (after_grant.balance, after_grant.debt) == (20, 0)
    assert_check_ok(world.db_url)


def test_a_dispute_claws_back_and_a_won_dispute_gives_the_credits_back(world):
    user_id = world.new_user()
    won = world.sim.dispute(_intent(world, world.buy(user_id, "price_sim_starter")))
    world.sim.wait_for_deliveries()
    assert world.balance(user_id).balance == 0

    world.sim.close_dispute(won["id"], "won")
    world.sim.wait_for_deliveries()
    assert world.balance(user_id).balance == 100

    lost = world.sim.dispute(_intent(world, world.buy(user_id, "price_sim_pro")))
    world.sim.wait_for_deliveries()
    world.sim.close_dispute(lost["id"], "lost")
    world.sim.wait_for_deliveries()

    assert world.balance(user_id).balance == 100
    kinds = [(e.kind, e.source, e.amount) for e in world.entries(user_id)]
    assert kinds == [
        ("grant", "stripe_checkout", 100),
        ("clawback", "stripe_dispute", 100),
        ("grant", "stripe_dispute", 100),
        ("grant", "stripe_checkout", 500),
        ("clawback", "stripe_dispute", 500),
    ]
    assert_check_ok(world.db_url)


def test_a_refunded_renewal_claws_back_its_plan_credits(world):
    user_id = world.new_user()
    session_id = world.buy(user_id, "price_sim_monthly")
    invoice = world.stripe.v1.checkout.sessions.retrieve(session_id).invoice
    [payment] = world.stripe.v1.invoice_payments.list({"invoice": invoice}).data

    world.stripe.v1.refunds.create({"payment_intent": payment.payment.payment_intent})
    world.sim.wait_for_deliveries()

    assert world.balance(user_id).balance == 0
    assert_check_ok(world.db_url)


def test_a_refund_that_fails_later_gives_the_credits_back_once(world):
    user_id = world.new_user()
    intent = _intent(world, world.buy(user_id, "price_sim_pro"))  # $20.00, 500 credits
    refund = world.stripe.v1.refunds.create({"payment_intent": intent, "amount": 1000})
    world.sim.wait_for_deliveries()
    assert world.balance(user_id).balance == 250

    world.sim.fail_refund(refund.id)  # refund.failed, or charge.refund.updated before 2024-10-28
    world.sim.wait_for_deliveries()
    assert world.balance(user_id).balance == 500
    failure_events = world.events("charge.refund.updated" if world.legacy else "refund.failed")
    for event in failure_events:
        assert (
            world.post_event({**event, "id": f"evt_again_{uuid.uuid4().hex[:12]}"}).status_code
            == 200
        )
    world.stripe.v1.refunds.create({"payment_intent": intent, "amount": 500})
    world.sim.wait_for_deliveries()

    assert len(failure_events) == 1
    # Given back once; the failed refund no longer counts: $5 of $20 takes back 125.
    assert world.balance(user_id).balance == 500 - 125
    assert_check_ok(world.db_url)


def test_a_refund_that_arrives_before_its_purchase_is_retried_and_claws_back(world):
    user_id = world.new_user()
    world.sim.configure(forward_to="")  # the purchase's delivery is lost for now
    try:
        session_id = world.buy(user_id, "price_sim_starter")  # $5.00, 100 credits
        intent = _intent(world, session_id)
        world.stripe.v1.refunds.create({"payment_intent": intent})
    finally:
        world.sim.configure(forward_to=f"{world.api_url}/api/webhooks/stripe")
    purchase = next(
        e
        for e in world.events("checkout.session.completed")
        if e["data"]["object"]["id"] == session_id
    )
    refund = next(
        e
        for e in world.events("charge.refunded")
        if e["data"]["object"]["payment_intent"] == intent
    )

    early = world.post_event(refund)
    assert early.status_code == 503  # Stripe delivers it again later
    assert world.post_event(purchase).status_code == 200
    assert world.balance(user_id).balance == 100
    assert world.post_event(refund).status_code == 200  # Stripe's retry

    assert world.balance(user_id).balance == 0
    assert_check_ok(world.db_url)
