"""The database's own limit: one spend as raw SQL on the bare driver, no framework.

It does the database work a spend through the ledger service does, in one transaction:
lock the account row, read the spendable lots in burn order (the same predicate and ORDER
BY as the service, a few rows at a time), update the lot(s) it draws from, update the
account, insert the ledger entry, the allocation(s) and the usage event. Same driver
(sqlite3 / psycopg), same connection settings (WAL, synchronous=FULL and BEGIN IMMEDIATE on
SQLite), and ledger-consistent rows, so the project's invariant check passes after a run.

What it leaves out is the service's lazy expiry: the service also looks for lots and holds
whose time ran out (two more indexed reads per spend) so that it can write their expiry
first. A baseline without them is the stricter yardstick.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime

import _common
import psycopg
from _runner import WorkerFactory, run_threads
from sqlalchemy.engine import make_url

# Lots read per query, as the service does (most spends touch one lot).
SCAN_BATCH = 8

LOCK = "SELECT id, balance, held, debt FROM credit_account WHERE user_id = {p}{lock}"
# Burn order: priority, soonest expiry (never-expiring last), promotional first, oldest.
BURN_ORDER_READ = (
    "SELECT id, remaining FROM credit_lot WHERE account_id = {p} AND remaining > 0"
    " AND effective_at <= {p} AND (expires_at IS NULL OR expires_at > {p})"
    " ORDER BY priority, CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at,"
    " CASE WHEN category = 'promotional' THEN 0 ELSE 1 END, effective_at, id"
    f" LIMIT {SCAN_BATCH} OFFSET {{p}}"
)
DRAW_LOT = "UPDATE credit_lot SET remaining = remaining - {p} WHERE id = {p} AND remaining >= {p}"
UPDATE_ACCOUNT = "UPDATE credit_account SET balance = {p}, updated_at = {p} WHERE id = {p}"
INSERT_ENTRY = (
    "INSERT INTO credit_ledger (account_id, user_id, kind, amount, delta, held_delta, "
    "debt_delta, balance_after, held_after, debt_after, idempotency_key, feature, source, "
    "created_at) VALUES ({p}, {p}, 'spend', {p}, {p}, 0, 0, {p}, {p}, {p}, {p}, {p}, 'api', {p}) "
    "RETURNING id"
)
INSERT_ALLOCATION = "INSERT INTO lot_allocation (lot_id, entry_id, amount) VALUES ({p}, {p}, {p})"
INSERT_USAGE = (
    "INSERT INTO usage_event (user_id, feature, credits, entry_id, created_at) "
    "VALUES ({p}, {p}, {p}, {p}, {p})"
)
STATEMENTS = (LOCK, BURN_ORDER_READ, DRAW_LOT, UPDATE_ACCOUNT, INSERT_ENTRY)
STATEMENTS += (INSERT_ALLOCATION, INSERT_USAGE)


class BaselineSpender:
    """One raw connection that performs spends; use one per thread."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.url = url
        self.sqlite = parsed.get_backend_name() == "sqlite"
        mark, lock = ("?", "") if self.sqlite else ("%s", " FOR UPDATE")
        sql = [s.format(p=mark, lock=lock) for s in STATEMENTS]
        (self.lock, self.read, self.draw, self.account, self.entry, self.alloc, self.usage) = sql
        self.conn = _connect_sqlite(parsed.database) if self.sqlite else _connect_pg(parsed)

    def _plan(self, cur, account_id: int, amount: int, stamp) -> list[tuple[int, int]]:
        """(lot id, credits) to take in burn order; fewer than `amount` when credits are short."""
        draws, need, offset = [], amount, 0
        while need > 0:
            rows = cur.execute(self.read, (account_id, stamp, stamp, offset)).fetchall()
            for lot_id, remaining in rows:
                take = min(remaining, need)
                draws.append((lot_id, take))
                need -= take
                if need == 0:
                    break
            if len(rows) < SCAN_BATCH:
                break
            offset += SCAN_BATCH
        return draws

    def spend(self, user_id: int, amount: int, feature: str, key: str) -> bool:
        """Spend `amount` in one transaction; return False when credits are short."""
        stamp = _common.db_stamp(self.url, datetime.now(UTC))
        cur = self.conn.cursor()
        try:
            if self.sqlite:
                cur.execute("BEGIN IMMEDIATE")
            account_id, balance, held, debt = cur.execute(self.lock, (user_id,)).fetchone()
            draws = self._plan(cur, account_id, amount, stamp)
            if sum(take for _, take in draws) < amount:
                self.conn.rollback()
                return False
            balance -= amount
            cur.execute(self.account, (balance, stamp, account_id))
            values = (account_id, user_id, amount, -amount, balance, held, debt, key, feature)
            entry_id = cur.execute(self.entry, (*values, stamp)).fetchone()[0]
            for lot_id, take in draws:
                cur.execute(self.draw, (take, lot_id, take))
                if cur.rowcount != 1:
                    raise RuntimeError(f"lot {lot_id} cannot give {take} credits")
            cur.executemany(self.alloc, [(lot_id, entry_id, -take) for lot_id, take in draws])
            cur.execute(self.usage, (user_id, feature, amount, entry_id, stamp))
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
