"""Notice that a user's balance changed, in this process and (via Redis) in others.

`publish` is called after every committed balance change. In-process listeners run at once;
when REDIS_URL is set (and the database is not PostgreSQL, whose ledger trigger already
NOTIFYs on commit) the user id is also published on a Redis channel. Other processes learn
about changes through `balance_watch`, which also covers writers that never call publish.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from credits_app.settings import get_settings

logger = logging.getLogger(__name__)

CHANNEL = "credits_balance"
_ERROR_LOG_INTERVAL = 60.0


@dataclass(frozen=True)
class BalanceChanged:
    """A committed change to one user's balance."""

    user_id: int
    balance: int
    available: int


Listener = Callable[[BalanceChanged], None]
_listeners: list[Listener] = []
_last_relay_error = 0.0


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call `listener` after every committed balance change in this process.

    Returns:
        A function that removes the listener again.
    """
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def publish(change: BalanceChanged) -> None:
    """Tell every listener and other processes; a failure never fails the committed write."""
    for listener in list(_listeners):
        try:
            listener(change)
        except Exception:
            logger.exception("balance listener failed for user %s", change.user_id)
    _relay(change.user_id)


@cache
def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def _relay_url() -> str | None:
    settings = get_settings()
    if not settings.redis_url or settings.database_url.startswith("postgresql"):
        return None
    return settings.redis_url


def _relay(user_id: int) -> None:
    """Publish the user id on Redis when configured; errors are logged at most once a minute."""
    global _last_relay_error
    url = _relay_url()
    if url is None:
        return
    try:
        _redis_client(url).publish(CHANNEL, str(user_id))
    except Exception as exc:  # Redis down must not break credit writes
        if time.monotonic() - _last_relay_error > _ERROR_LOG_INTERVAL:
            _last_relay_error = time.monotonic()
            logger.warning("could not relay balance change over Redis: %s", exc)
