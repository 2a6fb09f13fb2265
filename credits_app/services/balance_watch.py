"""Watch for balance changes made by other processes: PG LISTEN, Redis, or SQLite polling.

One watcher thread per web process calls `on_change(user_id)` for every change it sees:
- PostgreSQL: LISTEN on the channel the ledger trigger (migration 0004) NOTIFYs on commit.
- SQLite: poll max(credit_ledger.id) every 250 ms (one cheap indexed read) and report the
  users of new entries; this also catches the CLI and other workers.
- Redis (when REDIS_URL is set with SQLite): subscribe to what `balance_events` publishes,
  for lower latency; the SQLite poll still runs as the safety net.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from credits_app.db import READ_ONLY, engine_for
from credits_app.services.balance_events import CHANNEL
from credits_app.services.journal import entries

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25
OnChange = Callable[[int], None]


class BalanceWatch:
    """Background threads reporting balance changes; `stop()` ends them."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def spawn(self, name: str, target: Callable[[], None]) -> None:
        """Run `target` in a daemon thread that restarts it after errors until stopped."""

        def loop() -> None:
            while not self.stopping.is_set():
                try:
                    target()
                except Exception as exc:
                    logger.warning("%s stopped (%s); retrying in 1 s", name, exc)
                    self.stopping.wait(1.0)

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        """Ask the threads to finish and wait briefly for them."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=2.0)


def _watch_postgres(watch: BalanceWatch, url: str, on_change: OnChange) -> None:
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        while not watch.stopping.is_set():
            for note in conn.notifies(timeout=0.5):
                on_change(int(note.payload))


def _watch_sqlite(watch: BalanceWatch, url: str, on_change: OnChange) -> None:
    engine = engine_for(url).execution_options(**READ_ONLY)  # never take the write lock
    with engine.connect() as conn:
        last = conn.execute(select(func.max(entries.c.id))).scalar() or 0
        conn.rollback()
        while not watch.stopping.wait(POLL_SECONDS):
            newest = conn.execute(select(func.max(entries.c.id))).scalar() or 0
            if newest > last:
                query = select(entries.c.user_id).where(entries.c.id > last).distinct()
                users = conn.execute(query).scalars().all()
                last = newest
                for user_id in users:
                    if user_id is not None:
                        on_change(user_id)
            conn.rollback()  # end the read transaction so the next poll sees new commits


def _watch_redis(watch: BalanceWatch, url: str, on_change: OnChange) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    try:
        while not watch.stopping.is_set():
            message = pubsub.get_message(timeout=0.5)
            if message and message.get("type") == "message":
                on_change(int(message["data"]))
    finally:
        pubsub.close()
        client.close()


def start_watch(on_change: OnChange, *, database_url: str, redis_url: str | None) -> BalanceWatch:
    """Start the watcher threads that fit the configured database and Redis."""
    watch = BalanceWatch()
    if database_url.startswith("postgresql"):
        watch.spawn("balance-listen-pg", lambda: _watch_postgres(watch, database_url, on_change))
        return watch
    watch.spawn("balance-poll-sqlite", lambda: _watch_sqlite(watch, database_url, on_change))
    if redis_url:
        watch.spawn("balance-sub-redis", lambda: _watch_redis(watch, redis_url, on_change))
    return watch
