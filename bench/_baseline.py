"""The database's own limit: one spend as raw SQL on the bare driver, no framework.

Same writes per operation as the ledger service (conditional balance UPDATE, ledger INSERT,
usage INSERT, one transaction), same driver (sqlite3 / psycopg), same connection settings
(WAL, synchronous=FULL and BEGIN IMMEDIATE on SQLite), and ledger-consistent rows, so the
project's invariant check still passes after a baseline run.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime

import psycopg
from _runner import WorkerFactory, run_threads
from sqlalchemy.engine import make_url

UPDATE = (
    "UPDATE credit_account SET balance = balance - {p}, updated_at = {p} "
    "WHERE user_id = {p} AND balance - held >= {p} RETURNING id, balance, held, debt"
)
INSERT_ENTRY = (
    "INSERT INTO credit_ledger (account_id, user_id, kind, amount, delta, held_delta, "
    "debt_delta, balance_after, held_after, debt_after, idempotency_key, feature, source, "
    "created_at) VALUES ({p}, {p}, 'spend', {p}, {p}, 0, 0, {p}, {p}, {p}, {p}, {p}, 'api', {p}) "
    "RETURNING id"
)
INSERT_USAGE = (
    "INSERT INTO usage_event (user_id, feature, credits, entry_id, created_at) "
    "VALUES ({p}, {p}, {p}, {p}, {p})"
)


class BaselineSpender:
    """One raw connection that performs spends; use one per thread."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.sqlite = parsed.get_backend_name() == "sqlite"
        mark = "?" if self.sqlite else "%s"
        self.sql = [s.format(p=mark) for s in (UPDATE, INSERT_ENTRY, INSERT_USAGE)]
        self.conn = _connect_sqlite(parsed.database) if self.sqlite else _connect_pg(parsed)

    def spend(self, user_id: int, amount: int, feature: str, key: str) -> bool:
        """Spend `amount` in one transaction; return False when credits are short."""
        now = datetime.now(UTC)
        stamp = now.replace(tzinfo=None).isoformat(" ") if self.sqlite else now
        cur = self.conn.cursor()
        try:
            if self.sqlite:
                cur.execute("BEGIN IMMEDIATE")
            row = cur.execute(self.sql[0], (amount, stamp, user_id, amount)).fetchone()
            if row is None:
                self.conn.rollback()
                return False
            account_id, balance, held, debt = row
            values = (account_id, user_id, amount, -amount, balance, held, debt, key, feature)
            entry_id = cur.execute(self.sql[1], (*values, stamp)).fetchone()[0]
            cur.execute(self.sql[2], (user_id, feature, amount, entry_id, stamp))
            # sqlite3 commits/rolls back an explicit BEGIN even in autocommit mode.
            self.conn.commit()
            return True
        except BaseException:
            self.conn.rollback()
            raise
        finally:
            cur.close()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def _connect_sqlite(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    for pragma in (
        "busy_timeout = 30000",
        "journal_mode = WAL",
        "synchronous = FULL",
        "foreign_keys = ON",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _connect_pg(parsed) -> psycopg.Connection:
    options = parsed.query.get("options")
    return psycopg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.database,
        options=options,
    )


def baseline_factory(url: str, users: list[int], tag: str) -> WorkerFactory:
    """Return a worker factory for `run_threads`: raw spends, one connection per thread."""

    def factory(_thread: int):
        spender = BaselineSpender(url)

        def spend(i: int) -> bool:
            return spender.spend(users[i % len(users)], 1, "bench", f"raw-{tag}-{i}")

        return spend, spender.close

    return factory


def baseline_rate(url: str, users: list[int], *, threads: int, ops: int) -> float:
    """Return raw-SQL spends per second with `threads` threads (after a short warm-up)."""
    run_threads(baseline_factory(url, users, uuid.uuid4().hex[:8]), threads=threads, ops=50)
    factory = baseline_factory(url, users, uuid.uuid4().hex[:8])
    return run_threads(factory, threads=threads, ops=ops).per_second
