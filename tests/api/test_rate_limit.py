"""Per-user rate limits on spend, reserve and settle: 429 `rate_limited` with Retry-After.

On by default, counted in memory or in Redis; an unreachable Redis falls back to counting
in this process.
"""

from __future__ import annotations

import time

import pytest
import redis

from credits_app.services import ratelimit
from credits_app.services.errors import RateLimited
from credits_app.settings import get_settings
from tests.api.conftest import assert_error, bearer, key, spend_body
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


def test_limits_are_on_by_default_and_zero_turns_one_off(client, user, monkeypatch):
    settings = get_settings()
    defaults = [ratelimit.limit_of(action, settings) for action in ("spend", "reserve", "settle")]
    assert defaults == [600, 600, 600]

    monkeypatch.setenv("RATE_LIMIT_SPEND_PER_MINUTE", "0")
    get_settings.cache_clear()
    statuses = [
        client.post(SPEND, json=spend_body(1), headers=bearer(user.id)).status_code
        for _ in range(10)
    ]
    assert statuses == [200] * 10


def _reserve(client, user_id: int):
    body = {"amount": 1, "feature": "example-ai", "idempotencyKey": key()}
    return client.post("/api/credits/reserve", json=body, headers=bearer(user_id))


def _settle(client, user_id: int, hold_id: int, how: str):
    body = {"idempotencyKey": key(), **({"amount": 1} if how == "capture" else {})}
    url = f"/api/credits/holds/{hold_id}/{how}"
    return client.post(url, json=body, headers=bearer(user_id))


def test_reserve_and_settle_have_limits_of_their_own(client, user, monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_RESERVE_PER_MINUTE", "3")
    monkeypatch.setenv("RATE_LIMIT_SETTLE_PER_MINUTE", "2")
    get_settings.cache_clear()
    away_from_a_window_edge()

    holds = [_reserve(client, user.id) for _ in range(4)]
    # Captures and releases count together; a refused one changes nothing.
    settled = [
        _settle(client, user.id, holds[0].json()["holdId"], "capture"),
        _settle(client, user.id, holds[1].json()["holdId"], "release"),
        _settle(client, user.id, holds[2].json()["holdId"], "release"),
    ]
    spent = client.post(SPEND, json=spend_body(1), headers=bearer(user.id))

    assert [h.status_code for h in holds] == [200, 200, 200, 429]
    assert_error(holds[3], 429, "rate_limited")
    assert [s.status_code for s in settled] == [200, 200, 429]
    assert spent.status_code == 200  # spends are counted apart
    me = client.get("/api/me/entitlements", headers=bearer(user.id)).json()
    assert [h["id"] for h in me["holds"]] == [holds[2].json()["holdId"]]


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


def test_an_unreachable_redis_falls_back_to_counting_in_this_process(
    client, user, monkeypatch, caplog
):
    use_limit(monkeypatch, f"redis://127.0.0.1:{closed_port()}/0")
    away_from_a_window_edge()

    statuses = spend_until_limited(client, user.id)

    # Spending keeps working through a Redis outage, and the limit still holds.
    assert statuses == [200] * LIMIT + [429]
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1
