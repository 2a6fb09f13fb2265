"""Analytics count money-backed flows right: bought, clawed back, given back, used, given.

Purchases, a refund and a won dispute go through the simulator and signed webhooks; the
flow report (a user's and everyone's) reads them from the ledger rollup.
"""

from __future__ import annotations

import uuid

from credits_app.services.analytics import day_range, flow_report, today, user_flow_report
from credits_app.services.ledger import spend_credits
from tests.support.cli import assert_check_ok


def _intent(world, session_id: str) -> str:
    return world.stripe.v1.checkout.sessions.retrieve(session_id).payment_intent


def test_bought_clawed_back_given_back_and_used_are_each_counted_once(world):
    buyer = world.new_user()
    world.new_user(credits=40)  # someone given credits (a grant), not bought
    refunded = _intent(world, world.buy(buyer, "price_sim_pro"))  # 500 credits
    disputed = _intent(world, world.buy(buyer, "price_sim_starter"))  # 100 credits
    with world.session() as session:
        spend_credits(
            session=session, user_id=buyer, amount=30, feature="chat",
            idempotency_key=uuid.uuid4().hex,
        )  # fmt: skip
    world.stripe.v1.refunds.create({"payment_intent": refunded, "amount": 500})  # a quarter
    won = world.sim.dispute(disputed)
    world.sim.wait_for_deliveries()
    world.sim.close_dispute(won["id"], "won")
    world.sim.wait_for_deliveries()
    days = day_range(now=today())

    with world.session() as session:
        mine = user_flow_report(session=session, user_id=buyer, days=days)
        everyone = flow_report(session=session, days=days)

    # 600 bought; 125 refunded and 100 disputed were clawed back, the dispute's 100 came
    # back when it was won: 125 clawed back in all.
    assert mine.totals == {
        "bought": 600, "given": 0, "used": 30, "expired": 0, "clawed_back": 125, "other": 0,
    }  # fmt: skip
    assert mine.by_day[-1].outstanding == 600 - 30 - 125
    assert everyone.totals == {
        "bought": 600, "given": 40, "used": 30, "expired": 0, "clawed_back": 125, "other": 0,
    }  # fmt: skip
    assert everyone.by_day[-1].outstanding == 600 + 40 - 30 - 125
    assert [d.outstanding for d in everyone.by_day[:-1]] == [0] * 29
    assert_check_ok(world.db_url)
