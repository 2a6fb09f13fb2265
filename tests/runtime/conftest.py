"""Fixtures for scale-out tests: a 2-worker production backend on PostgreSQL + Redis."""

from __future__ import annotations

import pytest

from credits_app.db import make_engine
from credits_app.stripe_sim.config import SimConfig
from credits_app.stripe_sim.testing import start_in_thread
from tests.support import databases, processes


@pytest.fixture(scope="module")
def pg_url(postgres_base_url):
    """A migrated PostgreSQL schema of this module's own."""
    schema, url = databases.create_postgres_schema(postgres_base_url)
    yield url
    databases.drop_postgres_schema(postgres_base_url, schema)


@pytest.fixture
def ledger_check_urls(ledger_check_urls, request):
    """Also run the after-test ledger check on the module's schema, for tests that use it."""
    if "pg_url" not in request.fixturenames:
        return ledger_check_urls
    return [*ledger_check_urls, request.getfixturevalue("pg_url")]


@pytest.fixture(scope="module")
def pg_engine(pg_url):
    """An engine on the module's schema, for setup and checks."""
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def simulator():
    """The Stripe simulator (in a thread), signing with the backend's webhook secret."""
    running = start_in_thread(
        SimConfig(webhook_secret=processes.WEBHOOK_SECRET, retry_delays=(0.5, 1, 2, 3, 5))
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def two_workers(pg_url, redis_url, simulator, test_secrets, tmp_path_factory):
    """The backend in production mode with 2 workers on PostgreSQL + Redis."""
    backend = processes.start_backend(
        pg_url,
        tmp_path_factory.mktemp("backend"),
        workers=2,
        redis_url=redis_url,
        extra_env={"STRIPE_API_BASE": simulator.url},
    )
    assert len(backend.worker_pids()) == 2, backend.log.read_text()[-2000:]
    simulator.config.forward_to = backend.webhook_url
    yield backend
    backend.stop()
