import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import stripe

from credits_app.stripe_sim.app import create_app
from credits_app.stripe_sim.config import LiveKeyRefused, SimConfig

ROOT = Path(__file__).resolve().parents[2]


def test_live_key_refuses_to_start_with_exit_code_2():
    env = {**os.environ, "STRIPE_SECRET_KEY": "sk_live_not_really", "PYTHONPATH": str(ROOT)}

    result = subprocess.run(
        [sys.executable, "-m", "credits_app.stripe_sim"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "live" in result.stderr


def test_app_factory_refuses_live_config():
    with pytest.raises(LiveKeyRefused):
        create_app(SimConfig(secret_key="sk_live_abc"))


def test_live_bearer_key_gets_authentication_error(stripe_sim):
    live = stripe.StripeClient("sk_live_abc", base_addresses={"api": stripe_sim.url})

    with pytest.raises(stripe.AuthenticationError) as caught:
        live.v1.prices.list()

    assert caught.value.http_status == 401
    assert "live" in caught.value.user_message


def test_missing_api_key_gets_authentication_error(stripe_sim):
    response = httpx.get(f"{stripe_sim.url}/v1/prices")

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_legacy_module_level_configuration_works(stripe_sim, monkeypatch):
    monkeypatch.setattr(stripe, "api_key", "sk_test_legacy")
    monkeypatch.setattr(stripe, "api_base", stripe_sim.url)

    price = stripe.Price.retrieve("price_sim_starter")
    customer = stripe.Customer.create(email="legacy@example.com")

    assert price.unit_amount == 500
    assert stripe.Customer.retrieve(customer.id).email == "legacy@example.com"


def test_unknown_path_answers_in_stripe_error_shape(stripe_sim):
    response = httpx.get(
        f"{stripe_sim.url}/v1/teleporters", headers={"Authorization": "Bearer sk_test_x"}
    )

    assert response.status_code == 404
    assert "Unrecognized request URL (GET: /v1/teleporters)" in response.json()["error"]["message"]
