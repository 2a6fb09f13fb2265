"""Soak fixtures: Redis and the backend's secrets in this process."""

from __future__ import annotations

import pytest

from credits_app.settings import get_settings
from tests.support import processes, services


@pytest.fixture
def redis_url():
    """The Redis server from CREDITS_TEST_REDIS_URL, or a skip/fail."""
    import redis

    url = services.redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        services.unavailable("services", f"Redis at {url} is unreachable: {exc}")
    return url


@pytest.fixture
def test_secrets(monkeypatch):
    """Mint tokens with the backend's secret."""
    monkeypatch.setenv("ACCESS_TOKEN_SECRET", processes.ACCESS_TOKEN_SECRET)
    monkeypatch.setenv("ADMIN_API_KEY", processes.ADMIN_API_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", processes.WEBHOOK_SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
