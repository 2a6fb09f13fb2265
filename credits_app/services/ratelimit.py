"""Per-key request rate limits: fixed one-minute windows, in Redis or in this process."""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from typing import Protocol

from credits_app.services.errors import RateLimited, Unavailable
from credits_app.settings import get_settings

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
REDIS_PREFIX = "credits:ratelimit"


class RateLimiter(Protocol):
    """Counts hits per key and window; raises when a key exceeds its limit."""

    def hit(self, key: str, limit: int, window: int = WINDOW_SECONDS) -> None:
        """Count one hit for `key`; raise `RateLimited` past `limit` hits per window."""


def _window(window: int, now: float) -> tuple[int, int]:
    """Return (window index, whole seconds until the next window starts)."""
    index = int(now // window)
    return index, max(1, math.ceil((index + 1) * window - now))


class MemoryRateLimiter:
    """Fixed windows counted in this process (one worker, or tests)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window: int = WINDOW_SECONDS) -> None:  # noqa: D102
        index, retry_after = _window(window, time.time())
        with self._lock:
            if len(self._counts) > 100_000:
                # Old windows are dead weight; drop them rather than grow forever.
                self._counts = {k: v for k, v in self._counts.items() if v[0] == index}
            start, count = self._counts.get(key, (index, 0))
            count = count + 1 if start == index else 1
            self._counts[key] = (index, count)
        if count > limit:
            raise RateLimited(retry_after)


class RedisRateLimiter:
    """Fixed windows counted in Redis, shared by every worker and process."""

    def __init__(self, url: str) -> None:
        import redis  # only needed when REDIS_URL is set

        self._errors = (redis.RedisError,)
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def hit(self, key: str, limit: int, window: int = WINDOW_SECONDS) -> None:  # noqa: D102
        index, retry_after = _window(window, time.time())
        name = f"{REDIS_PREFIX}:{key}:{window}:{index}"
        try:
            pipe = self._client.pipeline()
            pipe.incr(name)
            pipe.expire(name, window + 5)
            count = pipe.execute()[0]
        except self._errors as exc:
            logger.warning("rate limiter unavailable: %s", type(exc).__name__)
            raise Unavailable("rate limiter unavailable; retry later") from None
        if count > limit:
            raise RateLimited(retry_after)


@functools.cache
def limiter_for(redis_url: str | None) -> RateLimiter:
    """Return the shared limiter: Redis when a URL is given, else this process's memory."""
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()


def check_spend_rate(user_id: int) -> None:
    """Count one spend request for the user; off when RATE_LIMIT_SPEND_PER_MINUTE is 0.

    Raises:
        RateLimited: When the user exceeded the configured spends per minute.
        Unavailable: When Redis is configured but cannot be reached.
    """
    settings = get_settings()
    limit = settings.rate_limit_spend_per_minute
    if limit <= 0:
        return
    limiter_for(settings.redis_url).hit(f"spend:{user_id}", limit)
