"""Shared benchmark helpers: throwaway databases, seeded users, result output."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Benchmarks run as plain scripts (`python bench/x.py`): make the project importable.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))
os.environ.setdefault("CREDITS_ENV_FILE", os.devnull)

from sqlalchemy import create_engine, text  # noqa: E402

from credits_app.migrations import upgrade_database  # noqa: E402
from tests.support import databases  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# A stand-in hash: benchmark users never log in with a password.
DUMMY_HASH = "$argon2id$v=19$m=1024,t=1,p=1$YmVuY2g$YmVuY2hiZW5jaGJlbmNo"


def postgres_base_url() -> str:
    """Return the PostgreSQL server benchmarks use (BENCH_POSTGRES_URL overrides)."""
    return os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)


@contextmanager
def database(kind: str) -> Iterator[str]:
    """Yield the URL of a fresh migrated database: a temp SQLite file or a PostgreSQL schema.

    The PostgreSQL schema is dropped afterwards and the SQLite directory removed.
    """
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="credits-bench-") as folder:
            url = f"sqlite:///{folder}/bench.db"
            upgrade_database(url)
            yield url
        return
    base = postgres_base_url()
    schema, url = databases.create_postgres_schema(base, prefix="credits_bench")
    try:
        yield url
    finally:
        databases.drop_postgres_schema(base, schema)


def available_kinds(requested: list[str]) -> tuple[list[str], list[str]]:
    """Split requested database kinds into usable ones and notes about skipped ones."""
    kinds, notes = [], []
    for kind in requested:
        problem = databases.postgres_reachable(postgres_base_url()) if kind == "postgres" else None
        if problem:
            notes.append(f"PostgreSQL skipped: {problem}")
        else:
            kinds.append(kind)
    return kinds, notes


def db_stamp(url: str, when: datetime) -> datetime | str:
    """A timestamp as the project stores it: aware on PostgreSQL, naive UTC text on SQLite.

    SQLAlchemy writes SQLite datetimes as `YYYY-MM-DD HH:MM:SS.ffffff`; raw SQL that compares
    with them (lot windows) must use the same text, microseconds always included.
    """
    if not url.startswith("sqlite"):
        return when
    return when.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def seed_users(url: str, count: int, credits: int) -> list[int]:
    """Create `count` users with `credits` each via raw SQL, ledger-consistent; return ids.

    Each user gets one grant entry and its lot: paid, never expiring, effective from a day
    ago (the shape of a pack bought yesterday).
    """
    engine = create_engine(url)
    now = datetime.now(UTC)
    stamp, since = db_stamp(url, now), db_stamp(url, now - timedelta(days=1))
    tag = uuid.uuid4().hex[:8]
    ids = []
    with engine.begin() as conn:
        for n in range(count):
            user_id = conn.execute(
                text(
                    "INSERT INTO app_user (email, password_hash, is_admin, created_at) "
                    "VALUES (:email, :hash, false, :now) RETURNING id"
                ),
                {"email": f"bench-{tag}-{n}@example.com", "hash": DUMMY_HASH, "now": stamp},
            ).scalar_one()
            account_id = conn.execute(
                text(
                    "INSERT INTO credit_account (user_id, kind, owner_type, owner_id, balance,"
                    " held, debt, created_at, updated_at) VALUES (:u, 'user', 'user', :u, :c,"
                    " 0, 0, :now, :now) RETURNING id"
                ),
                {"u": user_id, "c": credits, "now": stamp},
            ).scalar_one()
            entry_id = conn.execute(
                text(
                    "INSERT INTO credit_ledger (account_id, user_id, kind, amount, delta,"
                    " held_delta, debt_delta, balance_after, held_after, debt_after,"
                    " idempotency_key, reason, source, created_at) VALUES (:a, :u, 'grant', :c,"
                    " :c, 0, 0, :c, 0, 0, :key, 'benchmark seed', 'admin', :now) RETURNING id"
                ),
                {"a": account_id, "u": user_id, "c": credits, "key": f"seed-{tag}", "now": stamp},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO credit_lot (account_id, user_id, amount, remaining, category,"
                    " priority, effective_at, expires_at, source, entry_id, created_at) VALUES"
                    " (:a, :u, :c, :c, 'paid', 0, :since, NULL, 'admin', :e, :now)"
                ),
                {"a": account_id, "u": user_id, "c": credits, "since": since, "e": entry_id}
                | {"now": stamp},
            )
            ids.append(user_id)
    engine.dispose()
    return ids


def check_ledger(url: str) -> list[str]:
    """Run the project's invariant check over the benchmark database."""
    from credits_app.db import make_engine, read_session
    from credits_app.services.invariants import check_ledger as check

    engine = make_engine(url)
    try:
        with read_session(engine) as session:
            return check(session=session)
    finally:
        engine.dispose()


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    """Print rows as an aligned plain-text table."""
    cells = [[str(h) for h in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) if n else c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def emit_json(name: str, payload: dict) -> None:
    """Print the final single-line JSON result."""
    machine = {"cores": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}
    line = {"bench": name, **payload, "machine": machine}
    print(json.dumps(line, separators=(",", ":"), default=str))
