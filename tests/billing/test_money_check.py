"""`python -m credits_app check` sees money: a credit no payment paid for is reported."""

from __future__ import annotations

import pytest

from credits_app.models import StripeRefund
from credits_app.services.ledger import post_grant
from tests.support.cli import assert_check_ok, run_cli


def _hand_made_grant(world, user_id: int, source: str, ref: str, amount: int) -> None:
    with world.session() as session:
        post_grant(
            session,
            user_id=user_id,
            amount=amount,
            reason="added by hand",
            idempotency_key=f"hand-made-{ref}",
            source=source,
            source_ref=ref,
        )
        session.commit()


def _problems(world) -> str:
    result = run_cli(world.db_url, "check")
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout


@pytest.mark.ledger_corrupted("adds credits that no payment paid for")
def test_check_reports_a_payment_over_granted_by_a_hand_made_grant(world):
    user_id = world.new_user()
    session_id = world.buy(user_id, "price_sim_starter")  # $5.00, 100 credits
    assert_check_ok(world.db_url)

    _hand_made_grant(world, user_id, "stripe_invoice", session_id, 100)

    problems = _problems(world)
    assert f"purchase {session_id}: grant of 200 credits, but its money buys 100" in problems
    assert f"Stripe object {session_id} has 2 grant entries; it may have one" in problems


@pytest.mark.ledger_corrupted("adds credits for a Stripe object nobody paid")
def test_check_reports_credits_for_a_purchase_that_was_never_paid(world):
    user_id = world.new_user()

    _hand_made_grant(world, user_id, "stripe_checkout", "cs_never_paid", 500)

    problems = _problems(world)
    assert (
        "grant of 500 credits for stripe_checkout cs_never_paid, which no recorded payment "
        "paid for" in problems
    )


@pytest.mark.ledger_corrupted("gives a refund's credits back although it did not fail")
def test_check_reports_a_refund_given_back_that_never_failed(world):
    user_id = world.new_user()
    session_id = world.buy(user_id, "price_sim_pro")  # $20.00, 500 credits
    intent = world.stripe.v1.checkout.sessions.retrieve(session_id).payment_intent
    refund = world.stripe.v1.refunds.create({"payment_intent": intent})
    world.sim.wait_for_deliveries()
    with world.session() as session:
        assert session.get(StripeRefund, refund.id).credits == 500

    _hand_made_grant(world, user_id, "stripe_refund", refund.id, 500)

    assert f"stripe_refund {refund.id}: holds back 0 credits, its row says 500" in _problems(world)
