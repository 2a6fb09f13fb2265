import httpx
import pytest
import stripe

from credits_app.stripe_sim.config import SimConfig
from credits_app.stripe_sim.control import SimControlError

from .conftest import CURRENT_VERSION

OLD = "2024-06-20"
DAY = 86_400


def _subscribe(client, sim, quantity=1):
    customer = client.v1.customers.create({"email": "versions@example.com"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": "price_sim_monthly", "quantity": quantity}],
            "customer": customer.id,
            "subscription_data": {"metadata": {"user_id": "42"}},
        }
    )
    return client.v1.subscriptions.retrieve(sim.pay(session.id)["subscription"])


def _pack(client, sim, card="4242424242424242"):
    customer = client.v1.customers.create({"email": "versions-pack@example.com"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [{"price": "price_sim_pro", "quantity": 1}],
            "customer": customer.id,
        }
    )
    return client.v1.payment_intents.retrieve(sim.pay(session.id, card)["payment_intent"])


def _payload(event):
    """The event as delivered: a plain dict."""
    return event.to_dict()


def test_events_are_rendered_in_the_configured_version(client, sim, receiver):
    shown = sim.configure(api_version=OLD)
    client.v1.customers.create({"email": "old@example.com"})
    sim.wait_for_deliveries()

    assert shown["api_version"] == OLD
    assert [e.api_version for e in receiver.events()] == [OLD]


def test_an_unsupported_version_is_refused_and_nothing_changes(sim):
    with pytest.raises(SimControlError) as caught:
        sim.configure(api_version="2023-01-01", forward_to="")

    error = caught.value.body["error"]
    assert (caught.value.status, error["type"], error["param"]) == (
        400,
        "invalid_request_error",
        "api_version",
    )
    shown = sim.call("GET", "/_sim/config")
    assert shown["api_version"] == CURRENT_VERSION
    assert shown["forward_to"] != ""


def test_the_environment_chooses_the_events_version():
    assert SimConfig.from_env({"STRIPE_SIM_API_VERSION": OLD}).api_version == OLD
    assert SimConfig.from_env({}).api_version == CURRENT_VERSION
    with pytest.raises(ValueError, match="STRIPE_SIM_API_VERSION=1999-01-01 is not supported"):
        SimConfig.from_env({"STRIPE_SIM_API_VERSION": "1999-01-01"})


def test_a_2024_06_20_renewal_invoice_names_subscription_payment_and_typed_lines(
    client, sim, receiver
):
    sim.configure(api_version=OLD)
    subscription = _subscribe(client, sim)
    item = subscription["items"].data[0]
    sim.advance(10 * DAY)
    client.v1.subscriptions.update(subscription.id, {"items": [{"id": item.id, "quantity": 2}]})
    sim.advance_to(item.current_period_end)
    sim.wait_for_deliveries()

    paid = [e for e in receiver.events() if e.type == "invoice.paid"][-1]
    invoice = _payload(paid)["data"]["object"]
    [payment] = client.v1.invoice_payments.list({"invoice": invoice["id"]}).data
    intent = client.v1.payment_intents.retrieve(payment.payment.payment_intent)

    assert paid.api_version == OLD
    assert invoice["subscription"] == subscription.id
    assert invoice["subscription_details"] == {"metadata": {"user_id": "42"}}
    assert (invoice["payment_intent"], invoice["charge"]) == (intent.id, intent.latest_charge)
    assert (invoice["paid"], invoice["paid_out_of_band"]) == (True, False)
    assert not {"parent", "payments", "amount_overpaid"} & invoice.keys()
    lines = invoice["lines"]["data"]
    assert [line["type"] for line in lines] == ["invoiceitem", "invoiceitem", "subscription"]
    assert [line["proration"] for line in lines] == [True, True, False]
    assert [line["quantity"] for line in lines] == [1, 2, 2]
    assert lines[2]["amount"] == 3000
    assert [line["price"]["id"] for line in lines] == ["price_sim_monthly"] * 3
    assert [line["plan"]["interval"] for line in lines] == ["month"] * 3
    assert {line["subscription"] for line in lines} == {subscription.id}
    assert {line["subscription_item"] for line in lines} == {item.id}
    assert [bool(line["invoice_item"]) for line in lines] == [True, True, False]
    assert all(not {"parent", "pricing"} & line.keys() for line in lines)


def test_a_2024_06_20_subscription_carries_its_period_at_the_top(client, sim, receiver):
    sim.configure(api_version=OLD)
    subscription = _subscribe(client, sim)
    item = subscription["items"].data[0]

    sim.advance_to(item.current_period_end)
    sim.wait_for_deliveries()
    renewed = client.v1.subscriptions.retrieve(subscription.id)["items"].data[0]
    updated = _payload(receiver.events()[-1])

    assert updated["type"] == "customer.subscription.updated"
    obj = updated["data"]["object"]
    assert (obj["current_period_start"], obj["current_period_end"]) == (
        renewed.current_period_start,
        renewed.current_period_end,
    )
    assert "current_period_end" not in obj["items"]["data"][0]
    previous = updated["data"]["previous_attributes"]
    assert (previous["current_period_start"], previous["current_period_end"]) == (
        item.current_period_start,
        item.current_period_end,
    )


def test_before_2024_10_28_card_refund_changes_arrive_as_charge_refund_updated(
    client, sim, receiver
):
    sim.configure(api_version=OLD)
    intent = _pack(client, sim, card="4000000000005126")
    sim.wait_for_deliveries()
    receiver.clear()

    refund = client.v1.refunds.create({"payment_intent": intent.id, "amount": 500})
    sim.fail_refund(refund.id)
    sim.wait_for_deliveries()
    events = receiver.events()

    assert [e.type for e in events] == ["charge.refunded", "charge.refund.updated"]
    changed = _payload(events[1])["data"]
    assert (changed["object"]["id"], changed["object"]["status"]) == (refund.id, "failed")
    assert changed["previous_attributes"]["status"] == "succeeded"
    assert "refunds" not in _payload(events[0])["data"]["object"]


def test_before_2022_11_15_a_charge_embeds_at_most_ten_refunds(client, sim, receiver):
    sim.configure(api_version="2022-08-01")
    intent = _pack(client, sim)
    made = [
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 100}) for _ in range(11)
    ]
    sim.wait_for_deliveries()

    last = [e for e in receiver.events() if e.type == "charge.refunded"][-1]
    refunds = _payload(last)["data"]["object"]["refunds"]

    assert (refunds["has_more"], refunds["total_count"]) == (True, 11)
    assert [r["id"] for r in refunds["data"]] == [r.id for r in reversed(made)][:10]
    assert refunds["url"] == f"/v1/charges/{intent.latest_charge}/refunds"
    succeeded = [e for e in receiver.events() if e.type == "payment_intent.succeeded"][-1]
    charges = _payload(succeeded)["data"]["object"]["charges"]
    assert [c["id"] for c in charges["data"]] == [intent.latest_charge]


def test_responses_follow_the_request_stripe_version_header(client, sim, stripe_sim):
    subscription = _subscribe(client, sim)
    url = f"{stripe_sim.url}/v1/invoices/{subscription.latest_invoice}"
    auth = {"Authorization": "Bearer sk_test_versions"}

    old = httpx.get(url, headers={**auth, "Stripe-Version": OLD})
    plain = httpx.get(url, headers=auth)
    bad = httpx.get(url, headers={**auth, "Stripe-Version": "yesterday"})

    assert old.headers["stripe-version"] == OLD
    assert old.json()["subscription"] == subscription.id and "parent" not in old.json()
    assert plain.headers["stripe-version"] == CURRENT_VERSION
    assert plain.json()["parent"]["subscription_details"]["subscription"] == subscription.id
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "Invalid Stripe API version: yesterday"


def test_an_event_keeps_the_version_it_was_rendered_in(client, sim):
    sim.configure(api_version=OLD)
    subscription = _subscribe(client, sim)
    sim.configure(api_version=CURRENT_VERSION)

    [created] = client.v1.events.list({"type": "invoice.created"}).data

    assert created.api_version == OLD
    assert created.data.object["subscription"] == subscription.id
    assert "parent" not in created.data.object


def test_the_sdk_reads_old_version_responses_when_asked_for_them(stripe_sim, client, sim):
    subscription = _subscribe(client, sim)
    old_client = stripe.StripeClient(
        "sk_test_old", base_addresses={"api": stripe_sim.url}, stripe_version=OLD
    )

    fetched = old_client.v1.subscriptions.retrieve(subscription.id)

    item = subscription["items"].data[0]
    assert fetched["current_period_end"] == item.current_period_end
    assert "current_period_end" not in fetched["items"].data[0]
