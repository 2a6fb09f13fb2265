import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import stripe

from credits_app.stripe_sim.config import LiveKeyRefused, SimConfig
from credits_app.stripe_sim.control import SimControl, SimControlError
from credits_app.stripe_sim.testing import start_in_thread

from .conftest import WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parents[2]


def _subscribe(client, sim):
    customer = client.v1.customers.create({"email": "portal@example.com"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": "price_sim_monthly", "quantity": 1}],
            "customer": customer.id,
            "success_url": "https://app.test/ok",
        }
    )
    return sim.pay(session.id)["subscription"]


def test_deliveries_can_be_filtered_and_awaited_per_event(client, sim, receiver):
    sim.configure(retry_delays=[0.3])
    receiver.respond_with(500)
    first = client.v1.customers.create({"email": "one@example.com"})
    second = client.v1.customers.create({"email": "two@example.com"})
    events = client.v1.events.list({"type": "customer.created"}).data
    [first_event] = [e for e in events if e.data.object.id == first.id]

    settled = sim.wait_for_deliveries(event_id=first_event.id)
    [delivery] = sim.deliveries(first_event.id)

    assert settled == {"drained": True, "pending": 0, "delivered": 1, "failed": 0}
    assert [a["status"] for a in delivery["attempts"]] == [500, 200]
    assert len(sim.deliveries()) == 2
    sim.wait_for_deliveries()
    assert {e.data.object.id for e in receiver.events()} == {first.id, second.id}


def test_concurrent_delivery_workers_deliver_every_event(client, sim, receiver):
    sim.configure(delivery_workers=4)
    created = {client.v1.customers.create({"email": f"c{n}@x.test"}).id for n in range(12)}
    sim.wait_for_deliveries()

    assert {event.data.object.id for event in receiver.events()} == created
    assert all(d["delivered"] for d in sim.deliveries())


def test_config_rejects_bad_values_in_stripe_error_shape(sim):
    with pytest.raises(SimControlError) as bad_delays:
        sim.configure(retry_delays=["soon"])
    with pytest.raises(SimControlError) as bad_workers:
        sim.configure(delivery_workers=0)

    assert bad_delays.value.status == 400
    assert bad_delays.value.body["error"]["param"] == "retry_delays"
    assert bad_workers.value.body["error"]["param"] == "delivery_workers"


def test_portal_cancel_now_deletes_the_subscription(client, sim, stripe_sim, receiver):
    subscription_id = _subscribe(client, sim)
    customer = client.v1.subscriptions.retrieve(subscription_id).customer
    portal = client.v1.billing_portal.sessions.create(
        {"customer": customer, "return_url": "https://app.test/account"}
    )

    page = httpx.get(portal.url)
    cancel = httpx.post(
        f"{portal.url}/subscriptions/{subscription_id}/cancel_now", follow_redirects=True
    )
    sim.wait_for_deliveries()

    assert "Cancel now" in page.text and "Cancel at period end" in page.text
    assert [r.status_code for r in cancel.history] == [303]
    assert "Your plan was canceled." in cancel.text and "no active subscriptions" in cancel.text
    assert client.v1.subscriptions.retrieve(subscription_id).status == "canceled"
    assert receiver.types()[-1] == "customer.subscription.deleted"


def test_subscription_items_carry_the_plan_view_of_their_price(client, sim):
    subscription = client.v1.subscriptions.retrieve(_subscribe(client, sim))
    item = subscription["items"].data[0]

    client.v1.subscriptions.update(
        subscription.id, {"items": [{"id": item.id, "price": "price_sim_yearly"}]}
    )
    switched = client.v1.subscriptions.retrieve(subscription.id)["items"].data[0]

    assert (item.plan.id, item.plan.interval, item.plan.amount) == (
        "price_sim_monthly",
        "month",
        1500,
    )
    assert (switched.plan.id, switched.plan.interval) == ("price_sim_yearly", "year")


def test_start_in_thread_refuses_a_live_key_in_the_environment(monkeypatch):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_from_env")

    with pytest.raises(LiveKeyRefused):
        start_in_thread(SimConfig())
    with pytest.raises(LiveKeyRefused):
        start_in_thread(SimConfig(secret_key="sk_live_explicit"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_command_line_serves_the_api_and_forwards_signed_events(stripe_sim, receiver):
    del stripe_sim  # resets the shared simulator so none of its deliveries reach `receiver`
    port = _free_port()
    token = "a-token-chosen-by-the-caller"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STRIPE_SIM_CONTROL_TOKEN": token}
    env.pop("STRIPE_SECRET_KEY", None)
    command = [
        sys.executable,
        "-m",
        "credits_app.stripe_sim",
        *("--port", str(port), "--forward-to", receiver.url),
        *("--webhook-secret", WEBHOOK_SECRET, "--log-level", "warning"),
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/_sim/health")
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        client = stripe.StripeClient("sk_test_cli", base_addresses={"api": base})
        customer = client.v1.customers.create({"email": "cli@example.com"})
        price = client.v1.prices.retrieve("price_sim_pro")
        drained = SimControl(base, token=token).wait_for_deliveries()
    finally:
        process.terminate()
        process.wait(10)

    assert drained["delivered"] == 1
    assert [e.data.object.id for e in receiver.events()] == [customer.id]
    assert price.metadata["includedCredits"] == "500"


def _pack(client):
    customer = client.v1.customers.create({"email": "async@example.com"})
    return client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [{"price": "price_sim_pro", "quantity": 1}],
            "customer": customer.id,
            "success_url": "https://app.test/ok",
        }
    )


def test_delayed_payment_with_a_declining_card_fails_later(client, sim, receiver):
    session = _pack(client)

    pending = sim.pay(session.id, "4000 0000 0000 0002", delayed=True)
    settled = sim.advance(60)
    sim.wait_for_deliveries()

    assert (pending["status"], pending["payment_status"]) == ("complete", "unpaid")
    assert settled["settled_sessions"] == [session.id]
    assert receiver.types()[-4:] == [
        "checkout.session.completed",
        "payment_intent.payment_failed",
        "charge.failed",
        "checkout.session.async_payment_failed",
    ]
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "unpaid"
    with pytest.raises(SimControlError):
        sim.settle(session.id)


def test_delayed_payment_settles_by_itself_after_the_configured_delay(client, sim, receiver):
    sim.configure(async_settle_seconds=0.2)
    session = _pack(client)

    sim.pay(session.id, delayed=True)
    deadline = time.monotonic() + 10
    while client.v1.checkout.sessions.retrieve(session.id).payment_status != "paid":
        assert time.monotonic() < deadline, "the delayed payment never settled"
        time.sleep(0.05)
    sim.wait_for_deliveries()

    assert receiver.types()[-1] == "checkout.session.async_payment_succeeded"
    intent = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).payment_intent
    )
    assert (intent.status, intent.amount_received) == ("succeeded", 2000)


def test_malformed_parameters_get_400_in_stripe_shape(client, sim):
    with pytest.raises(stripe.InvalidRequestError) as hash_for_string:
        client.v1.customers.create({"email": {"nested": "x"}})  # type: ignore[dict-item]
    with pytest.raises(stripe.InvalidRequestError) as nested_metadata:
        client.v1.customers.create({"metadata": {"a": {"b": "c"}}})  # type: ignore[dict-item]
    with pytest.raises(SimControlError) as too_far:
        sim.advance(100 * 366 * 86_400)

    assert (hash_for_string.value.http_status, hash_for_string.value.param) == (400, "email")
    assert nested_metadata.value.param == "metadata[a]"
    assert too_far.value.status == 400 and too_far.value.body["error"]["param"] == "seconds"
    assert client.v1.customers.list().data == []
