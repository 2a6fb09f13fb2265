"""The catalogue syncs from Stripe (all pages); checkout and portal refuse what they must."""

from __future__ import annotations

import json

from credits_app.models import Price
from credits_app.services.tokens import generate_access_token
from tests.billing.support import ADMIN_KEY
from tests.support.cli import assert_check_ok, run_cli

DEMO_PRICES = {
    "price_sim_starter",
    "price_sim_pro",
    "price_sim_enterprise",
    "price_sim_monthly",
    "price_sim_yearly",
}


def _sync(world):
    return world.http.post("/api/billing/sync-prices", headers={"x-admin-key": ADMIN_KEY})


def test_the_public_catalogue_fills_itself_in_simulated_mode(world):
    response = world.http.get("/api/billing/prices")

    assert response.status_code == 200
    prices = {p["id"]: p for p in response.json()["prices"]}
    assert set(prices) == DEMO_PRICES
    assert prices["price_sim_starter"] == {
        "id": "price_sim_starter",
        "productName": "Starter Pack",
        "kind": "pack",
        "interval": None,
        "unitAmount": 500,
        "currency": "usd",
        "includedCredits": 100,
        "featured": False,
    }
    assert (prices["price_sim_yearly"]["kind"], prices["price_sim_yearly"]["interval"]) == (
        "plan",
        "year",
    )


def test_sync_reads_every_page_skips_prices_without_credits_and_deactivates_removed(world):
    product = world.stripe.v1.products.create({"name": "Bulk"})
    for n in range(101):  # more than one page of 100
        world.stripe.v1.prices.create(
            {
                "product": product.id,
                "unit_amount": 1000 + n,
                "currency": "usd",
                "metadata": {"includedCredits": str(n + 1)},
            }
        )
    bare = world.stripe.v1.prices.create(
        {"product": product.id, "unit_amount": 1, "currency": "usd"}
    )

    first = _sync(world)
    world.stripe.v1.prices.update("price_sim_pro", {"active": False})
    second = _sync(world)

    assert first.status_code == 200, first.text
    assert len(first.json()["imported"]) == 106
    assert first.json()["skipped"] == [
        {"priceId": bare.id, "reason": "no includedCredits in the price metadata"}
    ]
    assert second.json()["deactivated"] == ["price_sim_pro"]
    with world.session() as session:
        assert session.get(Price, "price_sim_pro").active is False
    assert "price_sim_pro" not in {
        p["id"] for p in world.http.get("/api/billing/prices").json()["prices"]
    }
    refused = world.checkout(world.new_user(), "price_sim_pro")
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "priceId"


def test_sync_needs_the_admin_key(world):
    assert world.http.post("/api/billing/sync-prices").status_code == 401
    wrong = world.http.post("/api/billing/sync-prices", headers={"x-admin-key": "nope"})
    assert wrong.status_code == 401


def test_the_cli_syncs_and_featured_prices_come_from_settings(world, monkeypatch):
    result = run_cli(
        world.db_url,
        "sync-prices",
        "--json",
        env={"STRIPE_PRICE_PRO": "price_sim_pro", "STRIPE_PRICE_MONTHLY": "price_missing"},
    )

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary["imported"]) == DEMO_PRICES
    assert summary["missing_featured"] == ["price_missing"]
    monkeypatch.setenv("STRIPE_PRICE_PRO", "price_sim_pro")
    from credits_app.settings import get_settings

    get_settings.cache_clear()
    featured = [
        p["id"] for p in world.http.get("/api/billing/prices").json()["prices"] if p["featured"]
    ]
    assert featured == ["price_sim_pro"]


def test_checkout_refuses_unknown_prices_and_missing_tokens(world):
    user_id = world.new_user()

    unknown = world.checkout(user_id, "price_nope")
    wrong_type = world.http.post(
        "/api/billing/checkout-session", json={"priceId": 5}, headers=world.bearer(user_id)
    )
    anonymous = world.http.post("/api/billing/checkout-session", json={"priceId": "price_sim_pro"})

    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "priceId"
    assert wrong_type.status_code == 422
    assert anonymous.status_code == 401


def test_a_plan_checkout_subscribes_with_the_user_in_metadata(world):
    user_id = world.new_user()

    response = world.checkout(user_id, "price_sim_monthly")

    checkout = world.stripe.v1.checkout.sessions.retrieve(response.json()["id"])
    assert response.json()["url"] == checkout.url
    assert (checkout.mode, checkout.client_reference_id) == ("subscription", str(user_id))
    assert checkout.metadata["price_id"] == "price_sim_monthly"


def test_the_portal_needs_a_customer_and_returns_to_the_configured_url(world):
    user_id = world.new_user()
    headers = world.bearer(user_id)

    before = world.http.get("/api/billing/portal-link", headers=headers)
    world.buy(user_id, "price_sim_starter")
    after = world.http.get("/api/billing/portal-link", headers=headers)

    assert before.status_code == 404
    assert before.json()["error"]["code"] == "not_found"
    assert after.status_code == 303
    portal_id = after.headers["location"].rstrip("/").rsplit("/", 1)[-1]
    page = world.http.get(after.headers["location"])
    assert page.status_code == 200
    assert "http://shop.test/dashboard" in page.text, portal_id
    assert_check_ok(world.db_url)


def test_a_token_for_another_feature_can_neither_buy_nor_open_the_portal(world):
    user_id = world.new_user()
    world.buy(user_id, "price_sim_starter")
    ai_token = {"Authorization": f"Bearer {generate_access_token(user_id, 'example-ai')}"}
    sessions_before = len(world.stripe.v1.checkout.sessions.list({"limit": 100}).data)

    checkout = world.http.post(
        "/api/billing/checkout-session", json={"priceId": "price_sim_pro"}, headers=ai_token
    )
    portal_get = world.http.get("/api/billing/portal-link", headers=ai_token)
    portal_post = world.http.post("/api/billing/portal-link", headers=ai_token)

    for response in (checkout, portal_get, portal_post):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        assert "'billing'" in response.json()["error"]["message"]
    assert len(world.stripe.v1.checkout.sessions.list({"limit": 100}).data) == sessions_before
    assert world.sim.requests("/v1/billing_portal") == []
    assert world.balance(user_id).balance == 100
    assert_check_ok(world.db_url)
