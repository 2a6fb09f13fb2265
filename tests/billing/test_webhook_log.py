"""The webhook event log: every signed delivery is logged with its outcome, and an admin
re-applies a failed one through the webhook's own exactly-once path.

Deliveries come from the simulator (signed as Stripe signs them) or are posted signed by the
test; the failures are real ones: Stripe unreachable while a plan's invoice is handled, or a
checkout of our Checkout for a price the catalogue does not have.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlmodel import select

from credits_app.models import StripeEvent, WebhookDelivery
from credits_app.services.billing import stripe_client
from credits_app.services.billing.webhook_log import (
    DeliveryFilters,
    list_deliveries,
    reapply,
)
from credits_app.services.errors import Forbidden, InvalidRequest, NotFound
from credits_app.settings import get_settings
from tests.billing.support import BillingWorld
from tests.support.cli import assert_check_ok
from tests.support.factories import make_user

MONTHLY_CREDITS = 1000  # price_sim_monthly
STARTER_CREDITS = 100  # price_sim_starter


@pytest.fixture
def api_version() -> str:
    """One API version: what is logged does not depend on the events' shape."""
    return "2026-10-28.endive"


def _dead_address() -> str:
    """A local address nothing listens on: connections to it are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def stripe_outage(world, monkeypatch):
    """`with stripe_outage() as where:` the app cannot reach Stripe (the simulator still
    delivers webhooks); `where` is the address it tries. Stripe is back afterwards."""

    @contextmanager
    def outage():
        dead = _dead_address()
        monkeypatch.setenv("STRIPE_API_BASE", dead)
        get_settings.cache_clear()
        stripe_client._client.cache_clear()
        try:
            yield dead
        finally:
            monkeypatch.setenv("STRIPE_API_BASE", world.sim.url)
            get_settings.cache_clear()
            stripe_client._client.cache_clear()

    return outage


def _deliveries(world: BillingWorld, **where) -> list[WebhookDelivery]:
    with world.session() as session:
        query = select(WebhookDelivery).order_by(WebhookDelivery.id)
        for name, value in where.items():
            query = query.where(getattr(WebhookDelivery, name) == value)
        return list(session.exec(query).all())


def _admin(world: BillingWorld) -> int:
    with world.session() as session:
        return make_user(session, is_admin=True).id


def _reapply(world: BillingWorld, delivery_id: int, admin_id: int):
    with world.session() as session:
        return reapply(session=session, delivery_id=delivery_id, admin_user_id=admin_id)


def _grants(world: BillingWorld, user_id: int) -> list[tuple[str, int, str]]:
    return [(e.kind, e.delta, e.source_ref) for e in world.entries(user_id)]


def _unpriced_checkout(world: BillingWorld, user_id: int) -> dict:
    """A paid checkout of our Checkout for a price the catalogue lacks: the handler refuses
    it with 503 until the price is fixed (credits follow money)."""
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "checkout.session.completed",
        "created": 1_780_000_000,
        "api_version": "2026-10-28.endive",
        "data": {
            "object": {
                "id": f"cs_test_{uuid.uuid4().hex[:12]}",
                "object": "checkout.session",
                "mode": "payment",
                "payment_status": "paid",
                "amount_subtotal": 500,
                "amount_total": 500,
                "currency": "usd",
                "metadata": {"user_id": str(user_id), "price_id": "price_not_in_catalogue"},
            }
        },
    }


def _foreign_checkout(world: BillingWorld) -> str:
    """Pay a session someone else sold on the same Stripe account; returns its id."""
    product = world.stripe.v1.products.create({"name": "T-shirt"})
    price = world.stripe.v1.prices.create(
        {"product": product.id, "unit_amount": 2500, "currency": "usd"}
    )
    created = world.stripe.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": "https://else.test/ok",
        }
    )
    world.sim.pay(created.id)
    world.sim.wait_for_deliveries()
    return created.id


def _plan_paid_while_stripe_is_down(world, stripe_outage) -> tuple[int, dict, str]:
    """A user pays a plan while the app cannot reach Stripe: (user, invoice.paid, where)."""
    world.sim.configure(retry_delays=[])  # one attempt each: the log shows just that
    user_id = world.new_user()
    checkout = world.checkout(user_id, "price_sim_monthly")
    assert checkout.status_code == 200, checkout.text
    with stripe_outage() as where:
        world.sim.pay(checkout.json()["id"])
        world.sim.wait_for_deliveries(timeout=60)
    [paid] = world.events("invoice.paid")
    return user_id, paid, where


def test_each_delivery_is_logged_with_its_type_object_and_outcome(world):
    user_id = world.new_user()
    session_id = world.buy(user_id, "price_sim_starter")
    [completed] = world.events("checkout.session.completed")
    [intent] = world.events("payment_intent.succeeded")

    world.sim.resend(completed["id"])  # Stripe delivers it again
    world.sim.wait_for_deliveries()
    foreign = _foreign_checkout(world)
    broken = _unpriced_checkout(world, user_id)
    answer = world.post_event(broken)

    pi_id = intent["data"]["object"]["id"]
    logged = [
        (d.type, d.object_id, d.outcome, d.error)
        for d in _deliveries(world)
        if d.object_id in (session_id, pi_id, foreign)
    ]
    assert logged == [
        ("payment_intent.succeeded", pi_id, "ignored", None),
        ("checkout.session.completed", session_id, "applied", None),
        ("checkout.session.completed", session_id, "duplicate", None),
        ("checkout.session.completed", foreign, "ignored", None),
    ]
    assert answer.status_code == 503
    cs_id = broken["data"]["object"]["id"]
    [failed] = _deliveries(world, event_id=broken["id"])
    assert (failed.type, failed.object_id, failed.outcome) == (
        "checkout.session.completed",
        cs_id,
        "failed",
    )
    assert failed.error == f"price price_not_in_catalogue of checkout {cs_id} has no credits"
    assert json.loads(failed.payload) == broken
    assert failed.api_version == "2026-10-28.endive"
    # Only a failed delivery keeps its event: nothing else needs it.
    assert {d.payload for d in _deliveries(world) if d.outcome != "failed"} == {None}
    assert len(_deliveries(world, event_id=completed["id"])) == 2
    assert world.balance(user_id).balance == STARTER_CREDITS
    assert_check_ok(world.db_url)


def test_a_bad_signature_is_not_logged(world):
    user_id = world.new_user()
    event = _unpriced_checkout(world, user_id)

    answers = [
        world.post_event(event, secret="whsec_someone_else").status_code,
        world.post_event(event, timestamp=1).status_code,
    ]

    assert answers == [400, 400]
    assert _deliveries(world) == []
    assert world.processed_events() == 0


def test_a_failed_delivery_is_reapplied_once_and_later_retries_are_duplicates(world, stripe_outage):
    admin_id = _admin(world)
    user_id, paid, where = _plan_paid_while_stripe_is_down(world, stripe_outage)

    [failed] = _deliveries(world, event_id=paid["id"])
    [stripes_delivery] = world.sim.deliveries(paid["id"])
    assert [a["status"] for a in stripes_delivery["attempts"]] == [503]  # as before the log
    assert (failed.outcome, failed.object_id) == ("failed", paid["data"]["object"]["id"])
    assert failed.error == (
        f"the payment provider at {where} (the simulator: is `make stripe-sim` running?) "
        "could not be reached to fetch a subscription"
    )
    assert world.entries(user_id) == []
    with world.session() as session:
        assert session.get(StripeEvent, paid["id"]) is None

    first = _reapply(world, failed.id, admin_id)
    again = _reapply(world, failed.id, admin_id)
    world.sim.resend(paid["id"])  # Stripe's late retry
    world.sim.wait_for_deliveries()

    assert (first.event_id, first.type, first.outcome, first.error) == (
        paid["id"],
        "invoice.paid",
        "applied",
        None,
    )
    assert again.outcome == "duplicate"
    logged = _deliveries(world, event_id=paid["id"])
    assert [(d.outcome, d.reapplied_by, d.reapply_of) for d in logged] == [
        ("failed", None, None),
        ("applied", admin_id, failed.id),
        ("duplicate", admin_id, failed.id),
        ("duplicate", None, None),
    ]
    assert [d.id for d in logged[1:3]] == [first.delivery_id, again.delivery_id]
    invoice = paid["data"]["object"]["id"]
    assert _grants(world, user_id) == [("grant", MONTHLY_CREDITS, invoice)]
    assert world.balance(user_id).balance == MONTHLY_CREDITS
    with world.session() as session:
        assert session.get(StripeEvent, paid["id"]).object_id == invoice
    assert_check_ok(world.db_url)


def test_a_reapply_racing_stripes_retry_grants_once(world, stripe_outage):
    admin_id = _admin(world)
    user_id, paid, _ = _plan_paid_while_stripe_is_down(world, stripe_outage)
    [failed] = _deliveries(world, event_id=paid["id"])
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def by_admin() -> None:
        start.wait()
        outcomes["admin"] = _reapply(world, failed.id, admin_id).outcome

    def by_stripe() -> None:
        start.wait()
        outcomes["stripe"] = world.post_event(json.loads(failed.payload)).json()["outcome"]

    threads = [threading.Thread(target=by_admin), threading.Thread(target=by_stripe)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(outcomes.values()) == ["applied", "duplicate"]
    logged = sorted(d.outcome for d in _deliveries(world, event_id=paid["id"]))
    assert logged == ["applied", "duplicate", "failed"]
    assert _grants(world, user_id) == [("grant", MONTHLY_CREDITS, paid["data"]["object"]["id"])]
    assert world.balance(user_id).balance == MONTHLY_CREDITS
    assert_check_ok(world.db_url)


def test_only_admins_list_or_reapply_and_only_failed_deliveries(world):
    admin_id = _admin(world)
    user_id = world.new_user()
    world.buy(user_id, "price_sim_starter")
    broken = _unpriced_checkout(world, user_id)
    assert world.post_event(broken).status_code == 503
    [failed] = _deliveries(world, event_id=broken["id"])
    [applied] = _deliveries(world, outcome="applied")
    before = [(d.id, d.outcome) for d in _deliveries(world)]

    with world.session() as session:
        with pytest.raises(Forbidden, match="only admins can see the webhook log"):
            list_deliveries(session=session, admin_user_id=user_id)
        with pytest.raises(Forbidden, match="only admins can re-apply webhook events"):
            reapply(session=session, delivery_id=failed.id, admin_user_id=user_id)
        with pytest.raises(Forbidden):
            reapply(session=session, delivery_id=failed.id, admin_user_id=999_999)
        with pytest.raises(InvalidRequest, match="was applied; only a failed one"):
            reapply(session=session, delivery_id=applied.id, admin_user_id=admin_id)
        with pytest.raises(NotFound):
            reapply(session=session, delivery_id=10**9, admin_user_id=admin_id)
        page = list_deliveries(
            session=session, admin_user_id=admin_id, filters=DeliveryFilters(outcome="failed")
        )

    assert [(r.id, r.event_id, r.can_reapply, r.processed_as) for r in page.rows] == [
        (failed.id, broken["id"], True, None)
    ]
    assert [(d.id, d.outcome) for d in _deliveries(world)] == before
    assert _grants(world, user_id)[0][:2] == ("grant", STARTER_CREDITS)
    assert world.balance(user_id).balance == STARTER_CREDITS
    assert_check_ok(world.db_url)


def test_a_log_that_cannot_be_written_changes_no_answer(world, caplog):
    user_id = world.new_user()
    with world.session() as session:  # the log table is gone: every log write fails
        session.execute(text("ALTER TABLE webhook_delivery RENAME TO webhook_delivery_away"))
        session.commit()
    try:
        session_id = world.buy(user_id, "price_sim_starter")
        broken = _unpriced_checkout(world, user_id)
        failed = world.post_event(broken)
    finally:
        with world.session() as session:
            session.execute(text("ALTER TABLE webhook_delivery_away RENAME TO webhook_delivery"))
            session.commit()

    [completed] = world.events("checkout.session.completed")
    [delivery] = world.sim.deliveries(completed["id"])
    assert [a["status"] for a in delivery["attempts"]] == [200]
    assert (failed.status_code, failed.json()["error"]["code"]) == (503, "unavailable")
    assert world.balance(user_id).balance == STARTER_CREDITS
    assert _grants(world, user_id) == [("grant", STARTER_CREDITS, session_id)]
    assert _deliveries(world) == []
    warnings = [r.getMessage() for r in caplog.records if "could not log" in r.getMessage()]
    assert f"could not log webhook delivery of {completed['id']} (applied): " in "\n".join(warnings)
    assert f"could not log webhook delivery of {broken['id']} (failed): " in "\n".join(warnings)
    assert_check_ok(world.db_url)
