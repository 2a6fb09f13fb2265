"""Fixtures for the hold API tests: the real API app on the test database."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    # Starlette suggests httpx2 for its TestClient; httpx is what we pin.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(app_settings):
    """A TestClient on `create_api()` using the test database, with fresh rate limits."""
    from credits_app.api import create_api
    from credits_app.services import ratelimit

    # User ids restart with each test database: yesterday's counts must not carry over.
    ratelimit.limiter_for.cache_clear()
    with TestClient(create_api()) as test_client:
        yield test_client
    ratelimit.limiter_for.cache_clear()
