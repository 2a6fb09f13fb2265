"""Spend rate limits per user: 429 `rate_limited` with Retry-After, in memory or in Redis."""

from __future__ import annotations

import time

import pytest
import redis

from credits_app.services import ratelimit
from credits_app.services.errors import RateLimited
from credits_app.settings import get_settings
from tests.api.conftest import assert_error, bearer, spend_body
from tests.api.test_database_down import closed_port
from tests.support import services

SPEND = "/api/credits/spend"
LIMIT = 3


def away_from_a_window_edge() -> None:
    """Start just after a minute boundary so all hits of a test land in one window."""
    left = 60 - time.time() % 60
    if left < 5:
        time.sleep(left + 0.1)


def use_limit(monkeypatch, redis_url: str | None = None) -> None:
    monkeypatch.setenv("RATE_LIMIT_SPEND_PER_MINUTE", str(LIMIT))
    if redis_url:
        monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    ratelimit.limiter_for.cache_clear()


@pytest.fixture
def test_redis():
    url = services.redis_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        services.unavailable("services", f"Redis at {url} is unreachable: {exc}")
    yield url, client
    client.close()


def forget_user(client: redis.Redis, user_id: int) -> None:
    for name in client.scan_iter(f"{ratelimit.REDIS_PREFIX}:spend:{user_id}:*"):
        client.delete(name)


def spend_until_limited(client, user_id: int) -> list[int]:
    return [
        client.post(SPEND, json=spend_body(1), headers=bearer(user_id)).status_code
        for _ in range(LIMIT + 1)
    ]


def test_the_limit_is_off_by_default(client, user):
    statuses = [
        client.post(SPEND, json=spend_body(1), headers=bearer(user.id)).status_code
        for _ in range(10)
    ]
    assert statuses == [200] * 10


def test_in_memory_the_next_spend_past_the_limit_is_429(client, user, other_user, monkeypatch):
    use_limit(monkeypatch)
    away_from_a_window_edge()

    statuses = spend_until_limited(client, user.id)
    limited = client.post(SPEND, json=spend_body(1), headers=bearer(user.id))
    others = client.post(SPEND, json=spend_body(1), headers=bearer(other_user.id))

    assert statuses == [200] * LIMIT + [429]
    error = assert_error(limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert error["retryAfter"] == int(limited.headers["retry-after"])
    assert others.status_code == 200
    me = client.get("/api/me/entitlements", headers=bearer(user.id)).json()
    assert me["balance"] == 100 - LIMIT


def test_in_redis_the_limit_is_shared_by_every_worker(client, user, monkeypatch, test_redis):
    url, redis_client = test_redis
    forget_user(redis_client, user.id)
    use_limit(monkeypatch, url)
    away_from_a_window_edge()
    # Another worker process has its own limiter object talking to the same Redis.
    other_worker = ratelimit.RedisRateLimiter(url)
    other_worker.hit(f"spend:{user.id}", LIMIT)

    statuses = spend_until_limited(client, user.id)

    assert statuses == [200] * (LIMIT - 1) + [429, 429]
    with pytest.raises(RateLimited):
        other_worker.hit(f"spend:{user.id}", LIMIT)
    forget_user(redis_client, user.id)


def test_an_unreachable_redis_is_503_not_500(client, user, monkeypatch):
    use_limit(monkeypatch, f"redis://127.0.0.1:{closed_port()}/0")

    response = client.post(SPEND, json=spend_body(1), headers=bearer(user.id))

    assert_error(response, 503, "unavailable")
