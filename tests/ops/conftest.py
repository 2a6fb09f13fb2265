"""Fixtures for operations tests: the real API app on a fresh database, and a scraper."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from credits_app.services import ratelimit
from credits_app.services.billing import stripe_client
from credits_app.settings import get_settings
from credits_app.stripe_sim.config import SimConfig
from credits_app.stripe_sim.testing import RunningSimulator, start_in_thread
from tests.ops.support import ADMIN_KEY, WEBHOOK_SECRET

with warnings.catch_warnings():
    # Starlette suggests httpx2 for its TestClient; httpx is what we pin.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def ops_env(monkeypatch):
    """An admin key, a webhook secret and no Redis (the database is the test's to choose)."""
    monkeypatch.setenv("ADMIN_API_KEY", ADMIN_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    ratelimit.limiter_for.cache_clear()
    yield
    ratelimit.limiter_for.cache_clear()
    stripe_client._client.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def ops_settings(app_settings, ops_env):
    """App settings on the test database (SQLite, then PostgreSQL), as `ops_env` sets."""
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
def _simulator() -> Iterator[RunningSimulator]:
    running = start_in_thread(SimConfig(webhook_secret=WEBHOOK_SECRET))
    yield running
    running.stop()


@pytest.fixture
def simulated_stripe(ops_env, monkeypatch, _simulator) -> str:
    """Payments simulated by the Stripe simulator (in a thread); returns its address."""
    monkeypatch.setenv("PAYMENTS_MODE", "simulated")
    monkeypatch.setenv("STRIPE_API_BASE", _simulator.url)
    get_settings.cache_clear()
    stripe_client._client.cache_clear()
    return _simulator.url


@pytest.fixture
def client(ops_settings):
    """A TestClient on `create_api()`; a server-side exception fails the test."""
    from credits_app.api import create_api

    with TestClient(create_api()) as test_client:
        yield test_client
