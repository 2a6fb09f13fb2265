"""Fixtures: the Stripe simulator and the app's API, both served over real HTTP.

The simulator delivers signed events to the app's `/api/webhooks/stripe` exactly as
`stripe listen --forward-to` would; tests drive it through the official SDK and the
`/_sim/*` helpers. Each test gets a fresh database (SQLite, then PostgreSQL) and a reset
simulator.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import stripe

from credits_app.services.billing import stripe_client
from credits_app.services.billing.stripe_client import STRIPE_API_VERSION
from credits_app.settings import get_settings
from credits_app.stripe_sim.config import SimConfig
from credits_app.stripe_sim.control import SimControl
from credits_app.stripe_sim.testing import RunningSimulator, start_in_thread
from tests.billing.support import ADMIN_KEY, WEBHOOK_SECRET, BillingWorld
from tests.support.api_server import ApiServer, serve_api
from tests.support.stripe_contract import validate_request_params

FAST_RETRIES = [0.05, 0.1, 0.2]
# Stripe renders webhook events in the endpoint's API version: every billing scenario runs in
# today's version and in one from before 2025-03-31 ("basil"), where invoices differ most.
API_VERSIONS = {"current": "2026-10-28.endive", "legacy": "2024-06-20"}


@pytest.fixture(scope="session")
def _simulator() -> Iterator[RunningSimulator]:
    running = start_in_thread(SimConfig(webhook_secret=WEBHOOK_SECRET))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def _api_server() -> Iterator[ApiServer]:
    served = serve_api()
    yield served
    served.stop()


@pytest.fixture(params=list(API_VERSIONS))
def api_version(request) -> str:
    """The API version the simulator renders webhook events in."""
    return API_VERSIONS[request.param]


@pytest.fixture
def world(
    app_settings,
    db_url,
    api_version,
    monkeypatch,
    _simulator: RunningSimulator,
    _api_server: ApiServer,
) -> Iterator[BillingWorld]:
    """A reset simulator forwarding to the app, the app on a fresh database, and clients."""
    monkeypatch.setenv("STRIPE_API_BASE", _simulator.url)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("PAYMENTS_MODE", "simulated")
    monkeypatch.setenv("ADMIN_API_KEY", ADMIN_KEY)
    monkeypatch.setenv("SITE_URL", "http://shop.test")
    get_settings.cache_clear()
    control = SimControl(_simulator.url)
    control.reset()
    control.wait_for_deliveries()
    control.configure(
        forward_to=f"{_api_server.url}/api/webhooks/stripe",
        webhook_secret=WEBHOOK_SECRET,
        retry_delays=FAST_RETRIES,
        api_version=api_version,
    )
    client = stripe.StripeClient(
        "sk_test_billing_tests", base_addresses={"api": _simulator.url}, max_network_retries=0
    )
    http = httpx.Client(base_url=_api_server.url, timeout=30, follow_redirects=False)
    world = BillingWorld(db_url, _api_server.url, control, client, http, api_version)
    yield world
    # Let in-flight deliveries land before the database goes away.
    control.configure(forward_to="")
    control.wait_for_deliveries()
    sent = control.requests()
    control.close()
    http.close()
    stripe_client._client.cache_clear()
    # The contract on the way out: every request (the app's, and this test's own SDK calls)
    # uses params the SDK's typed classes know, in the API version the app pins.
    unknown = [
        f"{r['method']} {r['path']}: {problem}"
        for r in sent
        for problem in validate_request_params(r["method"], r["path"], r["params"])
    ]
    assert unknown == [], unknown
    assert {r["stripe_version"] for r in sent} <= {STRIPE_API_VERSION, None}
