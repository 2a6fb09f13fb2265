"""The Stripe simulator and the dev backend, attacked as a web page the developer visits would.

A page on another origin can send "simple" requests to 127.0.0.1 without any CORS check: a
form post, or `fetch(..., {mode: "no-cors"})` with a text/plain body. It cannot add custom
headers (that needs a preflight nobody answers), and DNS rebinding lets it read answers only
under its own host name. Each test below replays one of those requests and asserts that it
changes nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import stripe

from credits_app.runtime import dev
from credits_app.runtime.ports import free_port
from credits_app.settings import PROJECT_ROOT, get_settings
from credits_app.stripe_sim.config import SimConfig
from credits_app.stripe_sim.control import SimControl
from credits_app.stripe_sim.testing import RunningSimulator, start_in_thread

SECRET = "whsec_security0123456789abcdef0123456789wxyz"
OWN_HOOK = "http://127.0.0.1:9/own/webhook"
EVIL_HOOK = "https://evil.example/collect"
EVIL_ORIGIN = "https://evil.example"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSimulator]:
    simulator = start_in_thread(SimConfig(webhook_secret=SECRET, forward_to=OWN_HOOK))
    yield simulator
    simulator.stop()


@pytest.fixture
def control(running: RunningSimulator) -> Iterator[SimControl]:
    """The test client, which carries the control token by itself."""
    client = SimControl(running.url)
    client.reset()
    client.configure(forward_to=OWN_HOOK, webhook_secret=SECRET)
    yield client
    client.close()


@pytest.fixture
def client(running: RunningSimulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_security", base_addresses={"api": running.url}, max_network_retries=0
    )


def _token(running: RunningSimulator) -> dict[str, str]:
    return {"X-Sim-Token": running.config.control_token}


def _session(client: stripe.StripeClient, price: str = "price_sim_starter", mode="payment"):
    return client.v1.checkout.sessions.create(
        {
            "mode": mode,
            "line_items": [{"price": price, "quantity": 1}],
            "customer_email": "victim@example.com",
            "success_url": "http://localhost:3000/billing/success",
        }
    )


def test_a_cross_site_form_post_cannot_redirect_signed_events(running, control):
    # <form method="post" action="http://127.0.0.1:12111/_sim/config?forward_to=..."> with no
    # fields: the settings ride in the query string and the body is empty.
    answer = httpx.post(
        f"{running.url}/_sim/config",
        params={"forward_to": EVIL_HOOK},
        headers={"Content-Type": FORM, "Origin": EVIL_ORIGIN},
    )

    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert running.config.forward_to == OWN_HOOK


def test_a_no_cors_fetch_with_a_json_text_body_cannot_change_the_config(running, control):
    # fetch(url, {method: "POST", mode: "no-cors", body: JSON.stringify({...})}) sends text/plain.
    answer = httpx.post(
        f"{running.url}/_sim/config",
        content=f'{{"forward_to": "{EVIL_HOOK}", "webhook_secret": "whsec_attacker"}}',
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": EVIL_ORIGIN},
    )

    assert answer.status_code == 401
    assert (running.config.forward_to, running.config.webhook_secret) == (OWN_HOOK, SECRET)


def test_every_control_endpoint_needs_the_token(running, control, client):
    session = _session(client)
    paths = [
        ("GET", "/_sim/config"),
        ("GET", "/_sim/requests"),
        ("GET", "/_sim/deliveries"),
        ("POST", "/_sim/reset"),
        ("POST", "/_sim/test_clock/advance"),
        ("POST", f"/_sim/checkout/sessions/{session.id}/pay"),
        ("POST", "/_sim/no/such/helper"),
    ]

    answers = {
        path: httpx.request(method, f"{running.url}{path}", json={"seconds": 86_400})
        for method, path in paths
    }
    wrong = httpx.get(f"{running.url}/_sim/config", headers={"X-Sim-Token": "guess"})
    health = httpx.get(f"{running.url}/_sim/health")

    assert {path: a.status_code for path, a in answers.items()} == {p: 401 for _, p in paths}
    assert wrong.status_code == 401 and "token" in wrong.json()["error"]["message"]
    assert health.status_code == 200 and health.json()["ok"] is True
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_the_token_is_accepted_as_a_header_or_a_bearer_token(running, control):
    token = running.config.control_token
    as_header = httpx.get(f"{running.url}/_sim/config", headers={"X-Sim-Token": token})
    as_bearer = httpx.get(
        f"{running.url}/_sim/config", headers={"Authorization": f"Bearer {token}"}
    )

    assert (as_header.status_code, as_bearer.status_code) == (200, 200)


def test_a_cross_site_form_post_cannot_pay_through_the_helper(running, control, client):
    session = _session(client)

    answer = httpx.post(
        f"{running.url}/_sim/checkout/sessions/{session.id}/pay",
        data={"card": "4242424242424242"},
        headers={"Origin": EVIL_ORIGIN},
    )

    assert answer.status_code == 401
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_query_string_bodies_are_refused_even_with_the_token(running, control):
    answer = httpx.post(
        f"{running.url}/_sim/config",
        params={"forward_to": EVIL_HOOK},
        headers={**_token(running), "Content-Type": "application/json"},
    )

    assert answer.status_code == 400
    assert "JSON" in answer.json()["error"]["message"]
    assert running.config.forward_to == OWN_HOOK


def test_form_and_text_bodies_are_refused_even_with_the_token(running, control, client):
    session = _session(client)
    form = httpx.post(
        f"{running.url}/_sim/checkout/sessions/{session.id}/pay",
        data={"card": "4242424242424242"},
        headers=_token(running),
    )
    text = httpx.post(
        f"{running.url}/_sim/config",
        content=f'{{"forward_to": "{EVIL_HOOK}"}}',
        headers={**_token(running), "Content-Type": "text/plain"},
    )

    assert (form.status_code, text.status_code) == (415, 415)
    assert form.json()["error"]["type"] == "invalid_request_error"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert running.config.forward_to == OWN_HOOK


def test_a_rebound_host_name_reads_nothing(running, control):
    # After DNS rebinding, the attacker's name resolves to 127.0.0.1 and is sent as Host.
    port = running.config.port
    foreign = {"Host": f"rebind.evil.example:{port}"}
    api = httpx.get(
        f"{running.url}/v1/customers",
        headers={**foreign, "Authorization": "Bearer sk_test_security"},
    )
    helper = httpx.get(f"{running.url}/_sim/config", headers={**foreign, **_token(running)})
    page = httpx.get(f"{running.url}/checkout/cs_test_anything", headers=foreign)

    assert (api.status_code, helper.status_code, page.status_code) == (421, 421, 421)
    assert "rebind.evil.example" in api.json()["error"]["message"]
    for name in ("localhost", "127.0.0.1", "[::1]"):
        own = httpx.get(f"{running.url}/_sim/health", headers={"Host": f"{name}:{port}"})
        assert own.status_code == 200, name


def test_more_host_names_can_be_allowed():
    config = SimConfig.from_env({"STRIPE_SIM_ALLOWED_HOSTS": "sim.internal, Other.Test"})
    simulator = start_in_thread(config)
    try:
        port = simulator.config.port
        allowed = httpx.get(f"{simulator.url}/_sim/health", headers={"Host": f"other.test:{port}"})
        refused = httpx.get(f"{simulator.url}/_sim/health", headers={"Host": f"evil.test:{port}"})
    finally:
        simulator.stop()

    assert (allowed.status_code, refused.status_code) == (200, 421)


def test_the_config_helper_never_shows_the_webhook_secret(running, control):
    shown = control.call("GET", "/_sim/config")
    changed = control.configure(async_settle_seconds=0)

    for answer in (shown, changed):
        assert SECRET not in str(answer)
        assert SECRET[6:] not in str(answer)
        assert answer["webhook_secret_set"] is True
        assert answer["webhook_secret_hint"] == "whsec_...wxyz"
    assert running.config.control_token not in str(shown)


def test_the_hosted_checkout_refuses_a_form_posted_by_another_site(running, control, client):
    session = _session(client)
    page = httpx.get(f"{running.url}/checkout/{session.id}")

    foreign = httpx.post(
        f"{running.url}/checkout/{session.id}",
        data={"card": "4242424242424242"},
        headers={"Origin": EVIL_ORIGIN},
    )
    sandboxed = httpx.post(
        f"{running.url}/checkout/{session.id}",
        data={"card": "4242424242424242"},
        headers={"Origin": "null"},
    )

    assert f'action="/checkout/{session.id}"' in page.text
    assert (foreign.status_code, sandboxed.status_code) == (403, 403)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_the_hosted_pages_cannot_be_framed_by_another_site(running, control, client):
    page = httpx.get(f"{running.url}/checkout/{_session(client).id}")

    assert page.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert page.headers["x-frame-options"] == "DENY"


def test_the_hosted_portal_refuses_a_form_posted_by_another_site(running, control, client):
    session = _session(client, "price_sim_monthly", "subscription")
    paid = control.pay(session.id)
    portal = client.v1.billing_portal.sessions.create({"customer": paid["customer"]})

    answer = httpx.post(
        f"{running.url}/portal/{portal.id}/subscriptions/{paid['subscription']}/cancel_now",
        headers={"Origin": EVIL_ORIGIN, "Content-Type": FORM},
    )

    assert answer.status_code == 403
    assert client.v1.subscriptions.retrieve(paid["subscription"]).status == "active"


def test_the_dev_runner_shares_one_strong_token_with_the_simulator(monkeypatch):
    monkeypatch.delenv("STRIPE_SIM_CONTROL_TOKEN", raising=False)
    settings = get_settings()
    first = dev.simulator_env(settings, OWN_HOOK)["STRIPE_SIM_CONTROL_TOKEN"]
    second = dev.simulator_env(settings, OWN_HOOK)["STRIPE_SIM_CONTROL_TOKEN"]
    monkeypatch.setenv("STRIPE_SIM_CONTROL_TOKEN", "chosen-by-the-developer-0123456789")
    chosen = dev.simulator_env(settings, OWN_HOOK)["STRIPE_SIM_CONTROL_TOKEN"]

    assert first == second and len(first) >= 32
    assert chosen == "chosen-by-the-developer-0123456789"


def test_the_stripe_sim_command_prints_a_token_that_opens_the_helpers(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "CREDITS_ENV_FILE": os.devnull,
        "DATA_DIR": str(tmp_path),
        "STRIPE_API_BASE": f"http://127.0.0.1:{port}",
    }
    for name in ("STRIPE_SECRET_KEY", "STRIPE_SIM_CONTROL_TOKEN"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "credits_app", "stripe-sim"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        lines = [process.stdout.readline()]
        while "Ctrl-C stops it." not in lines[-1] and lines[-1]:
            lines.append(process.stdout.readline())
        printed = [line for line in lines if "X-Sim-Token:" in line]
        token = printed[0].split("X-Sim-Token:")[1].split()[0] if printed else "none"
        base = f"http://127.0.0.1:{port}/_sim/config"
        without = httpx.get(base, timeout=10)
        with_token = httpx.get(base, headers={"X-Sim-Token": token}, timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)

    assert printed, "".join(lines)
    assert (without.status_code, with_token.status_code) == (401, 200)


def test_make_run_binds_the_backend_to_loopback_and_allows_only_the_dev_origins(monkeypatch):
    started: dict[str, object] = {}

    class Child:
        def stop(self) -> None:
            pass

    def start(name, command, *, env, ready_url="", **kwargs):
        started.update(command=list(command), env=dict(env))
        return Child()

    monkeypatch.setattr(dev, "has_frontend_toolchain", lambda: True)
    monkeypatch.setattr(dev, "ensure_free", lambda *args, **kwargs: None)
    monkeypatch.setattr(dev, "start_simulator", lambda settings, url: Child())
    monkeypatch.setattr(dev.supervisor, "start", start)
    monkeypatch.setattr(dev.supervisor, "wait_ready", lambda child, timeout: None)
    monkeypatch.setattr(dev.supervisor, "supervise", lambda children, banner: 0)
    for name in ("CORS_ALLOWED_ORIGINS", "BACKEND_HOST", "REFLEX_BACKEND_HOST", "SITE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FRONTEND_PORT", "3123")

    assert dev.run_dev(get_settings()) == 0

    command, env = started["command"], started["env"]
    assert "--backend-host" in command
    assert command[command.index("--backend-host") + 1] == "127.0.0.1"
    origins = set(env["CORS_ALLOWED_ORIGINS"].split(","))
    assert origins == {"http://localhost:3123", "http://127.0.0.1:3123"}
