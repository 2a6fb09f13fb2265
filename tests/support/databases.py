"""Fresh, migrated databases for tests: a copied SQLite file, or a PostgreSQL schema."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import credits_app.models  # noqa: F401  (registers every table)
from credits_app.db import make_engine, read_session
from credits_app.migrations import upgrade_database
from credits_app.services.invariants import check_ledger


def sqlite_url(path: Path) -> str:
    """Return the SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def build_sqlite_template(path: Path) -> Path:
    """Migrate a SQLite file once, so each test can start from a cheap copy of it."""
    upgrade_database(sqlite_url(path))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
    return path


def copy_sqlite(template: Path, target: Path) -> str:
    """Copy the migrated template to `target` and return its URL."""
    shutil.copyfile(template, target)
    return sqlite_url(target)


def with_search_path(url: str, schema: str) -> str:
    """Return `url` with every connection's search_path set to `schema`."""
    parsed = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def create_postgres_schema(base_url: str, prefix: str = "") -> tuple[str, str]:
    """Create a uniquely named schema, migrate it, and return (schema, url).

    Args:
        base_url: The PostgreSQL server's URL.
        prefix: The start of the schema's name (default: `credits_test_<xdist worker>`).
    """
    prefix = prefix or f"credits_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = with_search_path(base_url, schema)
    upgrade_database(url)
    return schema, url


def drop_postgres_schema(base_url: str, schema: str) -> None:
    """Drop a schema made by `create_postgres_schema`."""
    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def truncate_postgres(url: str) -> None:
    """Empty every table of the app (not alembic's), resetting ids."""
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def postgres_reachable(url: str) -> str | None:
    """Return None if PostgreSQL answers at `url`, else the reason it does not."""
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure means "not usable here"
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


# One engine per server database (PostgreSQL URLs repeat across tests); SQLite files do not.
_check_engines: dict[str, Engine] = {}


def ledger_problems(url: str) -> list[str]:
    """Run the ledger invariant check (as `python -m credits_app check` does) on `url`.

    Returns:
        One line per violation; empty when the ledger is consistent.
    """
    if make_url(url).get_backend_name() == "sqlite":
        engine = make_engine(url, pool_size=1, max_overflow=0)
        try:
            return _check(engine)
        finally:
            engine.dispose()
    if url not in _check_engines:
        # Reused, the engine keeps its compiled queries: the check costs a third as much.
        _check_engines[url] = make_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=True)
    return _check(_check_engines[url])


def _check(engine: Engine) -> list[str]:
    with read_session(engine) as session:
        return check_ledger(session=session)


def dispose_check_engines() -> None:
    """Close the connections `ledger_problems` keeps to server databases."""
    while _check_engines:
        _check_engines.popitem()[1].dispose()
