"""Credits given back by Stripe (a won dispute, a failed refund) read as restores in the ledger
and its CSV, each in a lot of its own that names where it came from."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from credits_app.models import CreditLot
from credits_app.services.history import ledger_history
from credits_app.services.ledger_export import ledger_csv
from credits_app.services.ledger_labels import describe
from tests.billing.conftest import API_VERSIONS
from tests.support.cli import assert_check_ok

# The labels do not depend on how Stripe renders events; one version keeps this short.
pytestmark = pytest.mark.parametrize("api_version", [API_VERSIONS["current"]])


def _intent(world, session_id: str) -> str:
    return world.stripe.v1.checkout.sessions.retrieve(session_id).payment_intent


def _ledger(world, user_id: int) -> list[tuple[str, int, tuple]]:
    with world.session() as session:
        rows = ledger_history(session=session, user_id=user_id, with_lots=True)
    return [(describe(e), e.delta, e.lots) for e in reversed(rows)]


def _lots(world, user_id: int) -> list[CreditLot]:
    with world.session() as session:
        query = select(CreditLot).where(CreditLot.user_id == user_id).order_by(CreditLot.id)
        return list(session.exec(query).all())


def test_a_won_dispute_is_a_restore_in_a_lot_of_its_own(world):
    user_id = world.new_user()
    intent = _intent(world, world.buy(user_id, "price_sim_starter"))  # 100 credits
    dispute = world.sim.dispute(intent)
    world.sim.wait_for_deliveries()
    world.sim.close_dispute(dispute["id"], "won")
    world.sim.wait_for_deliveries()

    bought, restored = _lots(world, user_id)
    assert (restored.source, restored.amount, restored.remaining) == ("restore", 100, 100)
    assert restored.funded_by == bought.funded_by
    assert _ledger(world, user_id) == [
        ("Purchase", 100, ((bought.id, 100),)),
        ("Dispute reversal", -100, ((bought.id, -100),)),
        ("Dispute won: credits restored", 100, ((restored.id, 100),)),
    ]
    with world.session() as session:
        rows = list(csv.DictReader(io.StringIO(ledger_csv(session=session, user_id=user_id))))
    assert [(r["description"], r["lots"]) for r in rows] == [
        ("Dispute won: credits restored", f"{restored.id}:100"),
        ("Dispute reversal", f"{bought.id}:-100"),
        ("Purchase", f"{bought.id}:100"),
    ]
    assert_check_ok(world.db_url)


def test_a_failed_refund_gives_the_credits_back_as_a_restore(world):
    user_id = world.new_user()
    intent = _intent(world, world.buy(user_id, "price_sim_pro"))  # $20.00, 500 credits
    refund = world.stripe.v1.refunds.create({"payment_intent": intent, "amount": 1000})
    world.sim.wait_for_deliveries()
    world.sim.fail_refund(refund.id)
    world.sim.wait_for_deliveries()

    bought, restored = _lots(world, user_id)
    assert (restored.source, restored.amount) == ("restore", 250)
    assert _ledger(world, user_id) == [
        ("Purchase", 500, ((bought.id, 500),)),
        ("Refund", -250, ((bought.id, -250),)),
        ("Refund failed: credits restored", 250, ((restored.id, 250),)),
    ]
    assert_check_ok(world.db_url)
