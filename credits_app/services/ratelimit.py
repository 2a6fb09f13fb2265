"""Per-key request rate limits: fixed windows, in Redis or in this process.

The API's write routes count per user and action (`check_rate`); the account throttles
(`services.throttle`) count through the same limiters, and one-time tickets are used up
with `claim`.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from typing import Protocol

from credits_app.services.errors import RateLimited
from credits_app.settings import Settings, get_settings

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
REDIS_PREFIX = "credits:ratelimit"
# After Redis failed, count in this process for this long before trying Redis again, so an
# outage costs each request nothing rather than a connect timeout.
REDIS_RETRY_SECONDS = 5.0

# Actions of the API counted per user per minute, and the setting that limits each.
LIMITS = {
    "spend": "rate_limit_spend_per_minute",
    "reserve": "rate_limit_reserve_per_minute",
    "settle": "rate_limit_settle_per_minute",
}


class RateLimiter(Protocol):
    """Counts hits per key and window; raises when a key exceeds its limit."""

    def hit(self, key: str, limit: int, window: int = WINDOW_SECONDS) -> None:
        """Count one hit for `key`; raise `RateLimited` past `limit` hits per window."""

    def claim(self, key: str, seconds: int) -> bool:
        """Return True the first time `key` is claimed within `seconds`, else False."""


def _window(window: int, now: float) -> tuple[int, int]:
    """Return (window index, whole seconds until the next window starts)."""
    index = int(now // window)
    return index, max(1, math.ceil((index + 1) * window - now))


class MemoryRateLimiter:
    """Fixed windows counted in this process (one worker, or tests)."""

    def __init__(self) -> None:
        # (key, window) -> (window index, hits in it)
        self._counts: dict[tuple[str, int], tuple[int, int]] = {}
        self._claims: dict[str, float] = {}  # key -> when the claim lapses
        self._lock = threading.Lock()

    def claim(self, key: str, seconds: int) -> bool:  # noqa: D102
        now = time.monotonic()
        with self._lock:
            if len(self._claims) > 100_000:
                self._claims = {k: until for k, until in self._claims.items() if until > now}
            if self._claims.get(key, 0.0) > now:
                return False
            self._claims[key] = now + seconds
            return True

    def hit(self, key: str, limit: int, window: int = WINDOW_SECONDS) -> None:  # noqa: D102
        now = time.time()
        index, retry_after = _window(window, now)
        with self._lock:
            if len(self._counts) > 100_000:
                # Past windows are dead weight; drop them rather than grow forever.
                self._counts = {
                    name: value
                    for name, value in self._counts.items()
                    if value[0] == int(now // name[1])
                }
            start, count = self._counts.get((key, window), (index, 0))
            count = count + 1 if start == index else 1
            self._counts[(key, window)] = (index, count)
        if count > limit:
            raise RateLimited(retry_after)


class RedisRateLimiter:
    """Fixed windows counted in Redis, shared by every worker and process.

    When Redis cannot be reached the hit is counted in this process instead (logged once a
    minute): every worker still enforces the limit on its own, and spending, reserving and
    settling keep working through a Redis outage. Refusing them instead would turn a cache
    outage into a billing outage, and holds that cannot be captured expire unpaid.
    """

    def __init__(self, url: str) -> None:
        import redis  # only needed when REDIS_URL is set

        self._errors = (redis.RedisError,)
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._fallback = MemoryRateLimiter()
        self._retry_at = 0.0
        self._warned_at = -math.inf

    def hit(self, key: str, limit: int, window: int = WINDOW_SECONDS) -> None:  # noqa: D102
        if time.monotonic() < self._retry_at:
            self._fallback.hit(key, limit, window)
            return
        index, retry_after = _window(window, time.time())
        name = f"{REDIS_PREFIX}:{key}:{window}:{index}"
        try:
            pipe = self._client.pipeline()
            pipe.incr(name)
            pipe.expire(name, window + 5)
            count = pipe.execute()[0]
        except self._errors as exc:
            self._redis_failed(exc)
            self._fallback.hit(key, limit, window)
            return
        if count > limit:
            raise RateLimited(retry_after)

    def claim(self, key: str, seconds: int) -> bool:  # noqa: D102
        if time.monotonic() < self._retry_at:
            return self._fallback.claim(key, seconds)
        try:
            return bool(self._client.set(f"{REDIS_PREFIX}:claim:{key}", 1, nx=True, ex=seconds))
        except self._errors as exc:
            self._redis_failed(exc)
            return self._fallback.claim(key, seconds)

    def _redis_failed(self, exc: Exception) -> None:
        now = time.monotonic()
        self._retry_at = now + REDIS_RETRY_SECONDS
        if now - self._warned_at > WINDOW_SECONDS:
            self._warned_at = now
            logger.warning(
                "rate limiter: Redis unavailable (%s); counting in this process meanwhile",
                type(exc).__name__,
            )


@functools.cache
def limiter_for(redis_url: str | None) -> RateLimiter:
    """Return the shared limiter: Redis when a URL is given, else this process's memory."""
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()


def limit_of(action: str, settings: Settings | None = None) -> int:
    """Return the requests per user per minute allowed for `action` (0 = unlimited)."""
    return getattr(settings or get_settings(), LIMITS[action])


def check_rate(action: str, user_id: int) -> None:
    """Count one `action` request ('spend', 'reserve' or 'settle') of the user.

    Raises:
        RateLimited: When the user is over the action's limit for this minute.
    """
    settings = get_settings()
    limit = limit_of(action, settings)
    if limit > 0:
        limiter_for(settings.redis_url).hit(f"{action}:{user_id}", limit)


def check_spend_rate(user_id: int) -> None:
    """Count one spend request of the user (RATE_LIMIT_SPEND_PER_MINUTE; 0 = off).

    Raises:
        RateLimited: When the user exceeded the configured spends per minute.
    """
    check_rate("spend", user_id)
