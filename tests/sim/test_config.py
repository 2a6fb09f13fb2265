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
    assert shown["webhook_secret"] == "whsec_sim_tests"
    assert shown["delivery_workers"] == 1 and shown["async_settle_seconds"] == 0
    assert shown["api_version"] == "2026-10-28.endive"
    assert shown["portal_proration_behavior"] == "create_prorations"
