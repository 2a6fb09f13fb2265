"""Database engines and sessions for SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from credits_app.settings import get_settings

# Seconds a SQLite writer waits for the lock before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = {"credits_read_only": True}
# Each statement is its own transaction: for reads made between calls to Stripe, so no
# transaction (and no lock or snapshot) stays open while Stripe answers.
PER_STATEMENT = {"credits_per_statement": True}


def _configure_sqlite(engine: Engine) -> None:
    """Make SQLite safe for concurrent writers from many threads and processes.

    pysqlite's own transaction handling begins lazily and in DEFERRED mode, so two writers
    that both read first can deadlock on the lock upgrade. We take over: autocommit at the
    driver level, and an explicit BEGIN IMMEDIATE (write lock up front, waiting up to the busy
    timeout) unless the connection is marked read-only.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        options = conn.get_execution_options()
        if options.get("credits_per_statement"):
            return  # the driver is in autocommit mode: every statement stands alone
        read_only = options.get("credits_read_only", False)
        conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine with the settings this project relies on.

    Args:
        url: A SQLAlchemy URL (`sqlite:///path` or `postgresql+psycopg://...`).
        **kwargs: Extra arguments for `create_engine`.

    Returns:
        The configured engine.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it costs a round trip per checkout. A dropped connection fails one
    # request with 503 and SQLAlchemy then invalidates the whole pool.
    kwargs.setdefault("pool_timeout", 10)
    connect_args = kwargs.setdefault("connect_args", {})
    # A stopped database must fail fast so callers can answer 503 instead of hanging.
    connect_args.setdefault("connect_timeout", 5)
    return create_engine(url, **kwargs)


@functools.cache
def engine_for(url: str) -> Engine:
    """Return one shared engine per URL for this process."""
    return make_engine(url)


def get_engine() -> Engine:
    """Return the engine for the configured DATABASE_URL."""
    return engine_for(get_settings().database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """Yield a session bound to the engine; services commit their own units of work."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """Yield a session for reads only; on SQLite it does not take the write lock."""
    bind = (engine or get_engine()).execution_options(**READ_ONLY)
    with Session(bind, expire_on_commit=False) as session:
        yield session


@contextmanager
def per_statement_session(engine: Engine | None = None) -> Iterator[Session]:
    """Yield a session for reads where each statement commits on its own.

    Use it for reads interleaved with network calls (Stripe): nothing stays open between
    statements. Never write through it.
    """
    engine = engine or get_engine()
    options = dict(PER_STATEMENT)
    if engine.dialect.name != "sqlite":
        options["isolation_level"] = "AUTOCOMMIT"
    with Session(engine.execution_options(**options), expire_on_commit=False) as session:
        yield session


def is_sqlite(session_or_engine: Session | Engine) -> bool:
    """Tell whether a session or engine talks to SQLite."""
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "sqlite"
