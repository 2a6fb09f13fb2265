"""The client points at the simulator without keys and at Stripe itself with a secret key."""

from __future__ import annotations

import pytest

from credits_app.services.billing import stripe_client
from credits_app.services.billing.stripe_client import SIMULATED_KEY, get_stripe_client
from credits_app.settings import get_settings


@pytest.fixture
def fresh_settings(monkeypatch):
    """Clear cached settings and clients before and after the test."""

    def apply(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        stripe_client._client.cache_clear()

    yield apply
    get_settings.cache_clear()
    stripe_client._client.cache_clear()


def test_without_keys_the_sdk_talks_to_the_simulator_with_a_test_key(fresh_settings):
    fresh_settings()

    client = get_stripe_client()

    assert client._requestor.base_addresses["api"] == "http://127.0.0.1:12111"
    assert client._requestor.api_key == SIMULATED_KEY


def test_with_a_secret_key_the_sdk_talks_to_stripe(fresh_settings):
    fresh_settings(STRIPE_SECRET_KEY="sk_test_real_account", STRIPE_WEBHOOK_SECRET="whsec_x")

    client = get_stripe_client()

    assert get_settings().payments_mode == "stripe"
    assert client._requestor.base_addresses["api"] == "https://api.stripe.com"
    assert client._requestor.api_key == "sk_test_real_account"
