"""The admin user page's money side, from purchases made through the simulator.

A pack bought at Checkout, a plan subscribed to, a partial refund of the pack: the page
reads the exact balance, the lots each payment made, the subscription, each purchase with
its refund and the ledger entries they wrote (each a link to its trace), with the Stripe
Dashboard pages of every object. One API version is enough here: the page reads what the
webhooks stored, whichever version they came in.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from credits_app.models import CreditLot, LedgerEntry
from credits_app.services.admin_users import trace_entry, user_ledger, user_overview
from credits_app.state.admin_users import ledger_rows, overview_view, payment_rows, trace_view
from credits_app.state.format import when
from tests.billing.support import subscribe
from tests.support.cli import assert_check_ok
from tests.support.factories import make_user

TEST_DASHBOARD = "https://dashboard.stripe.com/test"


@pytest.fixture
def api_version() -> str:
    """The current API version only (`world` would run every scenario in two)."""
    return "2026-10-28.endive"


def _bought(world):
    """A user with a $5 pack (100 credits), a $15 monthly plan (1,000) and $2.50 refunded."""
    user_id = world.new_user()
    with world.session() as session:
        admin = make_user(session, is_admin=True)
    pack = world.buy(user_id, "price_sim_starter")
    subscription = subscribe(world, user_id, "price_sim_monthly")
    intent = world.stripe.v1.checkout.sessions.retrieve(pack).payment_intent
    refund = world.stripe.v1.refunds.create({"payment_intent": intent, "amount": 250})
    world.sim.wait_for_deliveries()
    return user_id, admin, pack, intent, subscription, refund.id


def test_the_user_page_shows_balance_lots_subscription_and_payments_with_refunds(world):
    user_id, admin, pack, intent, subscription, refund = _bought(world)
    invoice = world.stripe.v1.subscriptions.retrieve(subscription).latest_invoice
    [plan_payment] = world.stripe.v1.invoice_payments.list({"invoice": invoice}).data
    plan_intent = plan_payment.payment.payment_intent
    customer = world.stripe.v1.subscriptions.retrieve(subscription).customer
    with world.session() as session:
        found = user_overview(session=session, admin_user_id=admin.id, user_id=user_id)
        ledger = user_ledger(session=session, admin_user_id=admin.id, user_id=user_id)
        entries = session.exec(
            select(LedgerEntry).where(LedgerEntry.user_id == user_id).order_by(LedgerEntry.id)
        ).all()
        lots = session.exec(select(CreditLot).order_by(CreditLot.id)).all()
    bought, plan, clawback = entries

    # 100 + 1,000 bought, 50 of the pack's clawed back by the $2.50 refund (half of $5).
    assert (found.balance.balance, found.balance.available, found.balance.held) == (1050, 1050, 0)
    assert [(lot.id, lot.remaining, lot.category, lot.source) for lot in found.lots] == [
        (lots[0].id, 50, "paid", "purchase"),
        (lots[1].id, 1000, "paid", "plan_period"),
    ]
    assert found.customer_id == customer
    assert found.customer_url == f"{TEST_DASHBOARD}/customers/{customer}"
    [sub] = found.subscriptions
    assert (sub.id, sub.plan_name, sub.status, sub.cancel_at_period_end) == (
        subscription,
        "Monthly Plan",
        "active",
        False,
    )
    assert sub.url == f"{TEST_DASHBOARD}/subscriptions/{subscription}"
    assert found.payments_total == 2

    view = overview_view(found)
    assert view["balance"] == {
        "balance": "1,050",
        "available": "1,050",
        "held": "0",
        "debt": "0",
        "waiting": "0",
    }
    assert view["subscriptions"][0]["plan"] == "Monthly Plan"
    assert view["subscriptions"][0]["credits"] == "1,000 credits / month"
    assert view["subscriptions"][0]["cancel"] == ""
    plan_row, pack_row, refund_row = payment_rows(found.payments)
    assert plan_row == {
        "kind": "purchase",
        "what": "Invoice",
        "id": invoice,
        "url": f"{TEST_DASHBOARD}/invoices/{invoice}",
        "money": "$15.00",
        "credits": "1,000",
        "detail": f"payment {plan_intent}",
        "detail_url": f"{TEST_DASHBOARD}/payments/{plan_intent}",
        "at": plan_row["at"],
        "entry": f"/admin/entries/{plan.id}",
        "entries": f"#{plan.id} +1,000",
    }
    assert pack_row == {
        "kind": "purchase",
        "what": "Checkout",
        "id": pack,
        "url": f"{TEST_DASHBOARD}/search?query={pack}",
        "money": "$5.00",
        "credits": "100",
        "detail": f"payment {intent}",
        "detail_url": f"{TEST_DASHBOARD}/payments/{intent}",
        "at": pack_row["at"],
        "entry": f"/admin/entries/{bought.id}",
        "entries": f"#{bought.id} +100",
    }
    assert refund_row == {
        "kind": "refund",
        "what": "Refund",
        "id": refund,
        "url": f"{TEST_DASHBOARD}/refunds/{refund}",
        "money": "$2.50",
        "credits": "-50",
        "detail": "",
        "detail_url": "",
        "at": refund_row["at"],
        "entry": f"/admin/entries/{clawback.id}",
        "entries": f"#{clawback.id} -50",
    }

    # The ledger, newest first, labelled as the user's own history labels it.
    assert [(r["id"], r["what"], r["delta"], r["balance"], r["by"], r["href"]) for r in
            ledger_rows(ledger)] == [
        (str(clawback.id), "Refund", "-50", "1,050", "stripe_refund",
         f"/admin/entries/{clawback.id}"),
        (str(plan.id), "Plan credits", "+1,000", "1,100", "stripe_invoice",
         f"/admin/entries/{plan.id}"),
        (str(bought.id), "Purchase", "+100", "100", "stripe_checkout",
         f"/admin/entries/{bought.id}"),
    ]  # fmt: skip
    assert ledger.more is False
    assert_check_ok(world.db_url)


def test_a_purchase_entry_traces_to_its_checkout_payment_and_lot(world):
    user_id, admin, pack, intent, _subscription, refund = _bought(world)
    with world.session() as session:
        bought = session.exec(select(LedgerEntry).where(LedgerEntry.source_ref == pack)).one()
        clawback = session.exec(select(LedgerEntry).where(LedgerEntry.source_ref == refund)).one()
        lot = session.exec(select(CreditLot).where(CreditLot.entry_id == bought.id)).one()
        purchase = trace_view(
            trace_entry(session=session, admin_user_id=admin.id, entry_id=bought.id)
        )
        refunded = trace_view(
            trace_entry(session=session, admin_user_id=admin.id, entry_id=clawback.id)
        )

    assert purchase["label"] == "Purchase"
    assert purchase["user_href"] == f"/admin/users/{user_id}"
    assert purchase["stripe"] == [
        {"id": pack, "kind": "checkout session", "url": f"{TEST_DASHBOARD}/search?query={pack}"},
        {"id": intent, "kind": "payment", "url": f"{TEST_DASHBOARD}/payments/{intent}"},
    ]
    assert purchase["money"] == "Paid $5.00 for 100 credits"
    assert purchase["lots_created"] == [
        {"id": str(lot.id), "text": "100 paid (purchase), 50 left, expires never"}
    ]
    assert purchase["granted_via"] == ""
    # The events the simulator sent about the checkout session and its payment, each once.
    about = {pack, intent}
    listed = world.stripe.v1.events.list({"limit": 100})
    sent = sorted((e.id, e.type) for e in listed.data if e.data.object["id"] in about)
    assert sorted((e["id"], e["type"]) for e in purchase["events"]) == sent
    assert {e["outcome"] for e in purchase["events"]} <= {"applied", "ignored"}
    assert "checkout.session.completed" in {t for _, t in sent}
    assert refunded["label"] == "Refund"
    assert refunded["stripe"] == [
        {"id": refund, "kind": "refund", "url": f"{TEST_DASHBOARD}/refunds/{refund}"},
        {"id": intent, "kind": "payment", "url": f"{TEST_DASHBOARD}/payments/{intent}"},
    ]
    assert refunded["money"] == "Refund of 250 in minor units: 50 credits"
    assert refunded["lots_moved"] == [{"id": str(lot.id), "category": "paid", "amount": "-50"}]
    assert {"label": "When", "value": when(clawback.created_at)} in refunded["facts"]
    assert_check_ok(world.db_url)
