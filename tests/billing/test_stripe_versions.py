"""Stripe API versions: ours is pinned on every call; events in other versions are read
right and logged once; what the app sends is what the SDK's typed params know."""

from __future__ import annotations

import logging

from credits_app.services.billing import stripe_client, webhook
from credits_app.services.billing.stripe_client import STRIPE_API_VERSION
from tests.billing.support import renamed, subscribe, switch
from tests.support.cli import assert_check_ok
from tests.support.stripe_contract import validate_request_params


def test_every_call_names_our_api_version_whatever_the_sdk_defaults_to(world, monkeypatch):
    monkeypatch.setattr("stripe._api_version._ApiVersion.CURRENT", "2099-01-01.unknown")
    stripe_client._client.cache_clear()
    user_id = world.new_user()

    world.buy(user_id, "price_sim_starter")
    subscription_id = subscribe(world, user_id, "price_sim_monthly")
    assert (
        world.http.get("/api/billing/portal-link", headers=world.bearer(user_id)).status_code == 303
    )
    switch(world, subscription_id, "price_sim_yearly", "always_invoice")

    requests = world.sim.requests()
    sent = {(r["method"], r["path"].split("/")[2]) for r in requests}
    assert {("POST", "customers"), ("POST", "checkout"), ("POST", "billing_portal")} <= sent
    assert {r["stripe_version"] for r in requests} == {STRIPE_API_VERSION}
    problems = [
        f"{r['method']} {r['path']}: {problem}"
        for r in requests
        for problem in validate_request_params(r["method"], r["path"], r["params"])
    ]
    assert problems == []
    assert_check_ok(world.db_url)


def test_events_in_an_older_version_are_logged_once(world, monkeypatch, caplog):
    user_id = world.new_user()
    world.buy(user_id, "price_sim_starter")
    [event] = world.events("checkout.session.completed")
    old = {**event, "api_version": "2023-10-16"}
    monkeypatch.setattr(webhook, "_versions_seen", set())

    with caplog.at_level(logging.WARNING, logger=webhook.__name__):
        answers = [world.post_event(renamed(old)).status_code for _ in range(3)]
        world.post_event(renamed({**event, "api_version": "2031-01-01.future"}))

    assert answers == [200, 200, 200]
    warnings = [r.getMessage() for r in caplog.records if r.name == webhook.__name__]
    assert len(warnings) == 2
    assert "2023-10-16" in warnings[0] and "older" in warnings[0]
    assert "2031-01-01.future" in warnings[1] and "does not know" in warnings[1]
    assert world.balance(user_id).balance == 100
    assert_check_ok(world.db_url)


def test_a_charge_whose_embedded_refunds_are_incomplete_has_all_of_them_listed(world):
    user_id = world.new_user()
    session_id = world.buy(user_id, "price_sim_pro")  # $20.00, 500 credits
    intent = world.stripe.v1.checkout.sessions.retrieve(session_id).payment_intent
    world.sim.configure(forward_to="")
    refunds = [
        world.stripe.v1.refunds.create({"payment_intent": intent, "amount": 100}).to_dict()
        for _ in range(11)
    ]
    latest = max(world.events("charge.refunded"), key=lambda e: e["created"])
    charge = latest["data"]["object"]
    # Before 2022-11-15 a charge embedded at most ten refunds and said `has_more`.
    charge["refunds"] = {"object": "list", "data": refunds[:10], "has_more": True}
    world.sim.configure(forward_to=f"{world.api_url}/api/webhooks/stripe")

    assert world.post_event(renamed(latest)).status_code == 200

    assert charge["amount_refunded"] == 1100
    # $11.00 of $20.00 takes back 275 of the 500 credits, over all eleven refunds.
    assert world.balance(user_id).balance == 225
    clawbacks = [e for e in world.entries(user_id) if e.kind == "clawback"]
    assert len(clawbacks) == 11
    assert_check_ok(world.db_url)
