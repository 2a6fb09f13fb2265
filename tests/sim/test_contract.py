"""Everything the simulator serves matches the stripe SDK's types for its pinned version."""

import json

import httpx
import pytest

from tests.support.stripe_contract import (
    check_legacy_object,
    check_object,
    validate_request_params,
)

DAY = 86_400
PENDING_REFUND_CARD = "4000000000007726"
FAILING_REFUND_CARD = "4000000000005126"
# Every event type the scenario below must produce, so a gap in it fails loudly.
SCENARIO_EVENTS = {
    "customer.created",
    "customer.updated",
    "price.created",
    "product.created",
    "checkout.session.completed",
    "checkout.session.expired",
    "payment_intent.succeeded",
    "charge.succeeded",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoiceitem.created",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_succeeded",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "charge.dispute.closed",
}


def _customer(client, email="contract@example.com"):
    return client.v1.customers.create({"email": email, "metadata": {"user_id": "7"}})


def _plan(client, sim, price="price_sim_monthly", **subscription_data):
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": price, "quantity": 1}],
            "customer": _customer(client).id,
            "subscription_data": {"metadata": {"user_id": "7"}, **subscription_data},
            "success_url": "https://app.test/ok?session_id={CHECKOUT_SESSION_ID}",
        }
    )
    return client.v1.subscriptions.retrieve(sim.pay(session.id)["subscription"])


def _pack(client, sim, card="4242424242424242"):
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [{"price": "price_sim_pro", "quantity": 2}],
            "customer": _customer(client).id,
            "payment_intent_data": {"metadata": {"user_id": "7"}},
        }
    )
    return sim.pay(session.id, card)["payment_intent"]


def _switch(client, subscription, price, behaviour, quantity=1):
    item = subscription["items"].data[0].id
    return client.v1.subscriptions.update(
        subscription.id,
        {
            "items": [{"id": item, "price": price, "quantity": quantity}],
            "proration_behavior": behaviour,
        },
    )


def _scenario(client, sim):
    """Packs, plans, switches with each proration behaviour, a trial, customer balance,
    refunds (pending, failed), disputes (inquiry, escalation, won, lost, prevented), an
    expired session and a cancellation."""
    product = client.v1.products.create({"name": "Max Plan", "metadata": {"includedCredits": "9"}})
    premium = client.v1.prices.create(
        {
            "currency": "usd",
            "unit_amount": 3000,
            "recurring": {"interval": "month"},
            "product": product.id,
        }
    )
    for behaviour in ("create_prorations", "always_invoice", "none"):
        subscription = _plan(client, sim)
        sim.advance(5 * DAY)
        _switch(client, subscription, premium.id, behaviour, quantity=2)
    yearly = _switch(client, _plan(client, sim), "price_sim_yearly", "create_prorations")
    _switch(client, yearly, "price_sim_monthly", "create_prorations")
    client.v1.customers.balance_transactions.create(
        yearly.customer, {"amount": -700, "currency": "usd", "description": "Goodwill"}
    )
    _plan(client, sim, trial_period_days=3)
    client.v1.subscriptions.cancel(_plan(client, sim).id)
    client.v1.refunds.create({"payment_intent": _pack(client, sim), "amount": 300})
    client.v1.refunds.create({"payment_intent": _pack(client, sim, PENDING_REFUND_CARD)})
    failing = client.v1.refunds.create({"payment_intent": _pack(client, sim, FAILING_REFUND_CARD)})
    sim.fail_refund(failing.id)
    inquiry = sim.dispute(_pack(client, sim), inquiry=True)
    sim.escalate(inquiry["id"])
    sim.close_dispute(inquiry["id"], "won")
    sim.close_dispute(sim.dispute(_pack(client, sim))["id"], "lost")
    sim.close_dispute(sim.dispute(_pack(client, sim), inquiry=True)["id"], "lost")
    sim.dispute(_pack(client, sim), prevented=True)
    expired = client.v1.checkout.sessions.create(
        {"mode": "payment", "line_items": [{"price": "price_sim_starter", "quantity": 1}]}
    )
    client.v1.checkout.sessions.expire(expired.id)
    sim.advance(40 * DAY)  # renewals with pending prorations, trial end, pending refund
    sim.wait_for_deliveries()


def _all(stripe_sim, path, **params):
    answer = httpx.get(
        f"{stripe_sim.url}{path}",
        params={"limit": 100, **params},
        headers={"Authorization": "Bearer sk_test_contract"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _delivered(receiver):
    """Every delivered event as the JSON that was signed (the SDK would coerce decimals)."""
    receiver.events()  # verifies every signature
    return [json.loads(delivery.body) for delivery in receiver.deliveries]


def test_every_event_of_the_scenario_matches_the_sdk_classes(client, sim, receiver):
    _scenario(client, sim)

    events = _delivered(receiver)
    problems = {
        (event["type"], problem)
        for event in events
        for problem in check_object(event["data"]["object"]) + check_object(event)
    }

    assert {event["type"] for event in events} >= SCENARIO_EVENTS
    assert sorted(problems) == []


def test_every_resource_and_list_the_simulator_serves_matches_the_sdk_classes(
    client, sim, stripe_sim
):
    _scenario(client, sim)
    customers = client.v1.customers.list({"limit": 100}).data
    customer = next(c.id for c in customers if c.balance)
    invoice = client.v1.invoices.list({"limit": 1}).data[0].id
    session = client.v1.checkout.sessions.list({"limit": 1}).data[0].id
    lists = {
        "/v1/products": "product",
        "/v1/prices": "price",
        "/v1/customers": "customer",
        "/v1/checkout/sessions": "checkout.session",
        f"/v1/checkout/sessions/{session}/line_items": "item",
        "/v1/subscriptions": "subscription",
        "/v1/invoices": "invoice",
        f"/v1/invoices/{invoice}/lines": "line_item",
        "/v1/invoice_payments": "invoice_payment",
        "/v1/invoiceitems": "invoiceitem",
        "/v1/payment_intents": "payment_intent",
        "/v1/charges": "charge",
        "/v1/refunds": "refund",
        "/v1/disputes": "dispute",
        "/v1/events": "event",
        f"/v1/customers/{customer}/balance_transactions": "customer_balance_transaction",
    }
    problems = []
    for path, kind in lists.items():
        listed = _all(stripe_sim, path, **({"status": "all"} if "subscriptions" in path else {}))
        assert listed["data"], f"{path} listed nothing"
        assert {item["object"] for item in listed["data"]} == {kind}
        assert listed.keys() == {"object", "data", "has_more", "url"}
        problems += [p for item in listed["data"] for p in check_object(item)]
        first = listed["data"][0]
        if "/v1/invoices/" not in path and "/line_items" not in path:
            problems += check_object(_all(stripe_sim, f"{path}/{first['id']}"), path=path)
    portal = client.v1.billing_portal.sessions.create({"customer": customer}).to_dict()
    found = _all(stripe_sim, "/v1/customers/search", query="metadata['user_id']:'7'")
    expanded = _all(stripe_sim, f"/v1/invoices/{invoice}", **{"expand[]": "payments"})
    problems += check_object(portal) + check_object(expanded)
    problems += [p for item in found["data"] for p in check_object(item)]

    assert problems == []


def test_events_in_2024_06_20_carry_the_old_fields_and_no_basil_ones(client, sim, receiver):
    sim.configure(api_version="2024-06-20")
    _scenario(client, sim)

    events = _delivered(receiver)
    types = {event["type"] for event in events}
    problems = [
        f"{event['type']}: {problem}"
        for event in events
        for problem in check_legacy_object(event["data"]["object"])
    ]

    assert problems == []
    assert {"invoice.paid", "invoiceitem.created", "charge.refund.updated"} <= types
    assert not types & {"refund.created", "refund.updated", "refund.failed"}
    assert {event["api_version"] for event in events} == {"2024-06-20"}


def test_the_legacy_check_catches_a_basil_field_and_a_missing_old_one():
    invoice = {
        "object": "invoice",
        "id": "in_1",
        "parent": None,
        "subscription": "sub_1",
        "lines": {"object": "list", "data": [{"object": "line_item", "id": "il_1"}]},
    }

    problems = check_legacy_object(invoice)

    assert "invoice.parent: basil-only field" in problems
    assert "invoice.payment_intent: missing legacy field" in problems
    assert "invoice.lines.data[0].type: missing legacy field" in problems
    assert "invoice.subscription: missing legacy field" not in problems


def test_every_request_sent_through_the_sdk_is_known_to_the_sdk(client, sim):
    _scenario(client, sim)

    requests = sim.requests("/v1/")
    problems = {
        f"{r['method']} {r['path']}: {p}"
        for r in requests
        for p in validate_request_params(r["method"], r["path"], r["params"])
    }

    assert len(requests) >= 40
    assert problems == set()


def test_a_made_up_param_is_caught(client, sim):
    client.v1.customers.create({"email": "x@example.com", "favourite_colour": "blue"})
    client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": "price_sim_monthly", "quantity": 1, "seats": 3}],
            "subscription_data": {"trial_period_days": 3, "trial_days": 3},
        }
    )

    customer, session = sim.requests("/v1/")

    assert validate_request_params("POST", customer["path"], customer["params"]) == [
        "favourite_colour: not a param of CustomerCreateParams"
    ]
    assert validate_request_params("POST", session["path"], session["params"]) == [
        "line_items[0].seats: not a param of SessionCreateParamsLineItem",
        "subscription_data.trial_days: not a param of SessionCreateParamsSubscriptionData",
    ]
    assert validate_request_params("POST", "/v1/made_up", {}) == [
        "POST /v1/made_up: no SDK method sends this request"
    ]


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        ({"object": "refund", "id": "re_1", "colour": "red"}, "refund.colour: not in the SDK"),
        ({"object": "refund", "id": "re_1"}, "refund.amount: missing"),
        (
            {"object": "dispute", "evidence": {"enhanced_evidence": None}},
            "dispute.evidence.enhanced_evidence: null but not Optional",
        ),
    ],
)
def test_the_object_check_names_the_dotted_path_of_each_problem(obj, problem):
    assert problem in check_object(obj)
