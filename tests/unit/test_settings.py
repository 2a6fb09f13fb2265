"""Settings: original names honoured, production refuses placeholders, dev secrets persist."""

from __future__ import annotations

import pytest

from credits_app.settings import ConfigError, load_settings

STRONG = "s" * 20 + "0123456789abcdef"


def test_the_original_next_public_price_names_are_accepted(monkeypatch):
    monkeypatch.setenv("NEXT_PUBLIC_STRIPE_PRICE_STARTER", "price_abc")
    monkeypatch.setenv("STRIPE_PRICE_MONTHLY", "price_month")

    settings = load_settings()

    assert settings.featured_price_ids == {"starter": "price_abc", "monthly": "price_month"}


def test_payments_are_simulated_without_a_stripe_key(monkeypatch):
    settings = load_settings()

    assert settings.payments_mode == "simulated"
    assert settings.stripe_api_base == "http://127.0.0.1:12111"


def test_a_stripe_key_switches_to_real_stripe(monkeypatch):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_123")

    assert load_settings().payments_mode == "stripe"


def test_dev_mode_generates_secrets_that_survive_a_restart(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))

    first = load_settings()
    second = load_settings()

    assert len(first.access_token_secret) >= 32
    assert first.access_token_secret == second.access_token_secret
    assert first.stripe_webhook_secret == second.stripe_webhook_secret
    assert first.stripe_webhook_secret.startswith("whsec_")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "ACCESS_TOKEN_SECRET"),
        ({"ACCESS_TOKEN_SECRET": "your-secret-token-goes-here-xxxxxxxxxx"}, "ACCESS_TOKEN_SECRET"),
        ({"ACCESS_TOKEN_SECRET": "short"}, "ACCESS_TOKEN_SECRET"),
        (
            {"ACCESS_TOKEN_SECRET": STRONG, "ADMIN_API_KEY": "your-secret-admin-key"},
            "ADMIN_API_KEY",
        ),
        ({"ACCESS_TOKEN_SECRET": STRONG, "ADMIN_API_KEY": "too-short"}, "ADMIN_API_KEY"),
        ({"ACCESS_TOKEN_SECRET": STRONG, "STRIPE_SECRET_KEY": "sk_test_..."}, "STRIPE_SECRET_KEY"),
        (
            {"ACCESS_TOKEN_SECRET": STRONG, "STRIPE_SECRET_KEY": "sk_test_realkey123"},
            "STRIPE_WEBHOOK_SECRET",
        ),
    ],
)
def test_production_refuses_missing_or_placeholder_secrets(monkeypatch, env, named):
    monkeypatch.setenv("CREDITS_ENV", "prod")
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError) as error:
        load_settings()

    assert named in str(error.value)
    assert "\n" not in str(error.value)


def test_production_starts_with_real_secrets(monkeypatch):
    monkeypatch.setenv("CREDITS_ENV", "prod")
    monkeypatch.setenv("ACCESS_TOKEN_SECRET", STRONG)
    monkeypatch.setenv("ADMIN_API_KEY", "k7Qp2xZr9LmN4vB8")
    # What production also insists on (tests/security/test_browser_surface.py covers each).
    monkeypatch.setenv("ALLOW_SIMULATED_PAYMENTS", "1")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_" + STRONG)
    monkeypatch.setenv("ARGON2_TIME_COST", "3")
    monkeypatch.setenv("ARGON2_MEMORY_KIB", "65536")

    settings = load_settings()

    assert settings.is_production and settings.admin_api_key == "k7Qp2xZr9LmN4vB8"


def test_reflex_prod_mode_implies_production(monkeypatch):
    monkeypatch.setenv("REFLEX_ENV_MODE", "prod")

    with pytest.raises(ConfigError):
        load_settings()
