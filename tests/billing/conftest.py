"""Fixtures: the Stripe simulator and the app's API, both served over real HTTP.

The simulator delivers signed events to the app's `/api/webhooks/stripe` exactly as
`stripe listen --forward-to` would; tests drive it through the official SDK and the
`/_sim/*` helpers. Each test gets a fresh database (SQLite, then PostgreSQL) and a reset
simulator.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import stripe
import uvicorn

from credits_app.api.app import create_api
from credits_app.services.billing import stripe_client
from credits_app.settings import get_settings
from credits_app.stripe_sim.config import SimConfig
from credits_app.stripe_sim.control import SimControl
from credits_app.stripe_sim.testing import RunningSimulator, start_in_thread
from tests.billing.support import ADMIN_KEY, WEBHOOK_SECRET, BillingWorld

FAST_RETRIES = [0.05, 0.1, 0.2]


@dataclass
class ApiServer:
    """The app's FastAPI served by uvicorn in a thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread


def _serve_api() -> ApiServer:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    config = uvicorn.Config(create_api(), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="credits-api", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start on {url}")
        time.sleep(0.01)
    return ApiServer(url, server, thread)


@pytest.fixture(scope="session")
def _simulator() -> Iterator[RunningSimulator]:
    running = start_in_thread(SimConfig(webhook_secret=WEBHOOK_SECRET))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def _api_server() -> Iterator[ApiServer]:
    served = _serve_api()
    yield served
    served.server.should_exit = True
    served.thread.join(5)


@pytest.fixture
def world(
    app_settings, db_url, monkeypatch, _simulator: RunningSimulator, _api_server: ApiServer
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
    )
    client = stripe.StripeClient(
        "sk_test_billing_tests", base_addresses={"api": _simulator.url}, max_network_retries=0
    )
    http = httpx.Client(base_url=_api_server.url, timeout=30, follow_redirects=False)
    world = BillingWorld(db_url, _api_server.url, control, client, http)
    yield world
    # Let in-flight deliveries land before the database goes away.
    control.configure(forward_to="")
    control.wait_for_deliveries()
    control.close()
    http.close()
    stripe_client._client.cache_clear()
