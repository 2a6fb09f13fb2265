import pytest

from credits_app.stripe_sim.__main__ import build_config, parse_args
from credits_app.stripe_sim.config import SimConfig


def test_environment_configures_the_simulator():
    config = SimConfig.from_env(
        {
            "STRIPE_API_BASE": "http://127.0.0.1:4321",
            "STRIPE_WEBHOOK_SECRET": "whsec_env",
            "STRIPE_SIM_FORWARD_TO": "http://127.0.0.1:8000/api/webhooks/stripe",
            "STRIPE_SIM_RETRY_DELAYS": "0.1, 2",
            "STRIPE_SIM_DELIVERY_WORKERS": "3",
            "STRIPE_SIM_ASYNC_SETTLE_SECONDS": "0",
        }
    )

    assert (config.host, config.port) == ("127.0.0.1", 4321)
    assert config.webhook_secret == "whsec_env"
    assert config.forward_to == "http://127.0.0.1:8000/api/webhooks/stripe"
    assert config.retry_delays == (0.1, 2.0)
    assert (config.delivery_workers, config.async_settle_seconds) == (3, 0.0)


def test_defaults_generate_a_secret_and_use_stripe_mocks_port():
    first, second = SimConfig.from_env({}), SimConfig.from_env({})

    assert first.api_base == "http://127.0.0.1:12111" and first.forward_to == ""
    assert first.webhook_secret.startswith("whsec_")
    assert first.webhook_secret != second.webhook_secret
    assert len(first.control_token) >= 32
    assert first.control_token != second.control_token
    assert first.trusted_hosts == {"127.0.0.1", "localhost", "::1"}


def test_the_environment_chooses_the_token_and_more_host_names():
    config = SimConfig.from_env(
        {
            "STRIPE_API_BASE": "http://sim.local:12111",
            "STRIPE_SIM_CONTROL_TOKEN": "a-stable-token-for-scripts",
            "STRIPE_SIM_ALLOWED_HOSTS": "Docker.Host, [fd00::1]",
        }
    )

    assert config.control_token == "a-stable-token-for-scripts"
    assert config.trusted_hosts == {
        "127.0.0.1",
        "localhost",
        "::1",
        "docker.host",
        "fd00::1",
        "sim.local",
    }
    assert "a-stable-token" not in repr(config)


def test_a_short_token_is_refused():
    with pytest.raises(ValueError, match="at least 16 characters"):
        SimConfig.from_env({"STRIPE_SIM_CONTROL_TOKEN": "letmein"})


def test_flags_override_the_environment(monkeypatch):
    monkeypatch.setenv("STRIPE_API_BASE", "http://localhost:12111")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_env")
    monkeypatch.setenv("STRIPE_SIM_FORWARD_TO", "http://env.test/hook")

    args = parse_args(
        ["--port", "9999", "--forward-to", "http://flag.test/hook", "--webhook-secret", "whsec_f"]
    )
    config = build_config(args)

    assert config.api_base == "http://localhost:9999"
    assert (config.forward_to, config.webhook_secret) == ("http://flag.test/hook", "whsec_f")


def test_config_helper_shows_the_live_settings(sim, receiver):
    shown = sim.call("GET", "/_sim/config")

    assert shown["forward_to"] == receiver.url
    # The secret is never shown; this one is too short for even its last characters.
    assert (shown["webhook_secret_set"], shown["webhook_secret_hint"]) == (True, "whsec_...")
    assert "webhook_secret" not in shown and "sim_tests" not in str(shown)
    assert shown["delivery_workers"] == 1 and shown["async_settle_seconds"] == 0
    assert shown["api_version"] == "2026-10-28.endive"
    assert shown["portal_proration_behavior"] == "create_prorations"
