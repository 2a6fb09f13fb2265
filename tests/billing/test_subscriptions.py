"""Plans: the first invoice and every renewal grant once; cancel stops grants; order is safe."""

from __future__ import annotations

from credits_app.models import Subscription
from credits_app.services.billing.subscriptions import active_subscription
from tests.billing.support import DECLINED_CARD, renamed
from tests.support.cli import assert_check_ok

MONTH = 31 * 24 * 3600


def _subscribe(world, user_id: int) -> str:
    session_id = world.buy(user_id, "price_sim_monthly")
    return world.stripe.v1.checkout.sessions.retrieve(session_id).subscription


def _row(world, subscription_id: str) -> Subscription:
    with world.session() as session:
        return session.get(Subscription, subscription_id)


def test_first_invoice_and_two_renewals_grant_then_cancel_stops_grants(world):
    user_id = world.new_user()
    subscription_id = _subscribe(world, user_id)
    assert world.balance(user_id).balance == 1000
    with world.session() as session:
        view = active_subscription(session=session, user_id=user_id)
    assert (view.id, view.status, view.plan_name) == (subscription_id, "active", "Monthly Plan")
    assert (view.interval, view.included_credits) == ("month", 1000)

    world.sim.advance(MONTH)
    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()
    assert world.balance(user_id).balance == 3000
    reasons = [e.reason for e in world.entries(user_id)]
    assert ["first period" in reasons[0], "renewal" in reasons[1], "renewal" in reasons[2]] == [
        True
    ] * 3

    world.stripe.v1.subscriptions.cancel(subscription_id)
    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()

    assert world.balance(user_id).balance == 3000
    assert _row(world, subscription_id).status == "canceled"
    with world.session() as session:
        assert active_subscription(session=session, user_id=user_id) is None
    assert_check_ok(world.db_url)


def test_a_second_plan_is_refused_with_a_pointer_to_the_portal(world):
    user_id = world.new_user()
    _subscribe(world, user_id)

    refused = world.checkout(user_id, "price_sim_yearly")
    portal = world.http.post("/api/billing/portal-link", headers=world.bearer(user_id))

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "already_subscribed"
    assert refused.json()["error"]["portal"] == "/api/billing/portal-link"
    assert portal.status_code == 303
    assert portal.headers["location"].startswith(world.sim.url)
    assert world.checkout(user_id, "price_sim_starter").status_code == 200  # packs still fine
    assert_check_ok(world.db_url)


def test_a_failed_renewal_marks_the_plan_past_due_and_grants_nothing(world):
    user_id = world.new_user()
    subscription_id = _subscribe(world, user_id)
    customer = world.stripe.v1.subscriptions.retrieve(subscription_id).customer

    world.sim.set_card(customer, DECLINED_CARD)
    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()

    assert world.balance(user_id).balance == 1000
    assert _row(world, subscription_id).status == "past_due"
    assert_check_ok(world.db_url)


def test_subscription_events_in_reverse_order_leave_the_newest_state(world):
    user_id = world.new_user()
    world.sim.configure(forward_to="")  # collect the events, then deliver them backwards
    session_id = world.checkout(user_id, "price_sim_monthly").json()["id"]
    world.sim.pay(session_id)
    subscription_id = world.stripe.v1.checkout.sessions.retrieve(session_id).subscription
    world.stripe.v1.subscriptions.update(subscription_id, {"cancel_at_period_end": True})
    world.stripe.v1.subscriptions.cancel(subscription_id)
    events = world.events("customer.subscription.created")
    events += world.events("customer.subscription.updated")
    events += world.events("customer.subscription.deleted")
    events += world.events("invoice.paid")
    events.sort(key=lambda e: (e["created"], e["id"]), reverse=True)

    answers = [world.post_event(event).status_code for event in events]

    assert set(answers) == {200}
    row = _row(world, subscription_id)
    assert row.status == "canceled"
    assert world.balance(user_id).balance == 1000
    assert_check_ok(world.db_url)


def test_an_older_snapshot_never_overwrites_a_newer_state(world):
    user_id = world.new_user()
    subscription_id = _subscribe(world, user_id)
    world.stripe.v1.subscriptions.cancel(subscription_id)
    world.sim.wait_for_deliveries()
    [created] = world.events("customer.subscription.created")
    [deleted] = world.events("customer.subscription.deleted")
    stale = {**created, "id": "evt_stale_snapshot", "created": deleted["created"] - 1}

    answer = world.post_event(stale)

    assert answer.status_code == 200
    assert _row(world, subscription_id).status == "canceled"
    assert_check_ok(world.db_url)


def test_a_switch_to_another_interval_bills_the_new_period_once(world):
    user_id = world.new_user()
    subscription_id = _subscribe(world, user_id)
    item = world.stripe.v1.subscriptions.retrieve(subscription_id)["items"]["data"][0]["id"]

    world.stripe.v1.subscriptions.update(
        subscription_id, {"items": [{"id": item, "price": "price_sim_yearly"}]}
    )
    world.sim.wait_for_deliveries()

    switch = [
        e
        for e in world.events("invoice.paid")
        if e["data"]["object"]["billing_reason"] == "subscription_update"
    ]
    assert len(switch) == 1
    # The switch bills the yearly period in full (+15,000) and credits the unused month,
    # which takes its 1,000 credits back.
    assert world.balance(user_id).balance == 1000 - 1000 + 15000
    assert world.post_event(renamed(switch[0])).status_code == 200  # same invoice, new event id
    assert world.balance(user_id).balance == 1000 - 1000 + 15000
    assert _row(world, subscription_id).price_id == "price_sim_yearly"
    assert_check_ok(world.db_url)


def test_after_the_simulator_forgets_everything_a_user_can_buy_again(world):
    user_id = world.new_user()
    old_subscription = _subscribe(world, user_id)

    world.sim.reset()  # like restarting `make run`: customers and subscriptions are gone
    world.sim.configure(forward_to=f"{world.api_url}/api/webhooks/stripe")
    portal = world.http.get("/api/billing/portal-link", headers=world.bearer(user_id))
    new_subscription = _subscribe(world, user_id)

    assert portal.status_code == 404
    assert _row(world, old_subscription).status == "canceled"
    with world.session() as session:
        assert active_subscription(session=session, user_id=user_id).id == new_subscription
    assert world.balance(user_id).balance == 2000
    assert_check_ok(world.db_url)
