"""Other processes' balance changes reach a watcher: SQLite polling, PG NOTIFY, Redis."""

from __future__ import annotations

import queue
import uuid

from credits_app.services.balance_watch import start_watch
from tests.support.cli import run_cli
from tests.support.factories import make_user
from tests.support.services import redis_url

WAIT = 10.0


def _watch(db_url, redis=None):
    seen: queue.Queue[int] = queue.Queue()
    return seen, start_watch(seen.put, database_url=db_url, redis_url=redis)


def _next(seen: queue.Queue[int]) -> int:
    return seen.get(timeout=WAIT)


def test_a_grant_from_the_cli_process_is_seen(db_url, session, app_settings):
    user = make_user(session)
    seen, watch = _watch(db_url)
    try:
        import time

        time.sleep(0.6)  # let the watcher connect (LISTEN) or read its starting point
        result = run_cli(
            db_url, "grant", str(user.id), "5", "--reason", "cli", "--key", uuid.uuid4().hex
        )
        assert result.returncode == 0, result.stderr
        assert _next(seen) == user.id
    finally:
        watch.stop()


def test_redis_relay_reaches_a_watcher(sqlite_url, monkeypatch):
    url = redis_url()
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    from credits_app.settings import get_settings

    get_settings.cache_clear()
    from credits_app.services import balance_events

    seen, watch = _watch(sqlite_url, url)
    try:
        import time

        time.sleep(0.6)
        balance_events.publish(balance_events.BalanceChanged(424242, 1, 1))
        assert _next(seen) == 424242
    finally:
        watch.stop()
        get_settings.cache_clear()
