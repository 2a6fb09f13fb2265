"""Start the real production backend for HTTP benchmarks: SQLite x1 or PostgreSQL+Redis x2."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import _common

from credits_app.settings import get_settings
from tests.support import databases, processes

DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
RATE_LIMITS_OUT_OF_REACH = {
    f"RATE_LIMIT_{action}_PER_MINUTE": str(10**9) for action in ("SPEND", "RESERVE", "SETTLE")
}


@dataclass(frozen=True)
class Setup:
    """One deployment to measure: database kind, backend workers, Redis or not."""

    name: str
    db: str
    workers: int
    redis: bool


SETUPS = {
    "sqlite-1": Setup("sqlite-1", "sqlite", 1, False),
    "postgres-2": Setup("postgres-2", "postgres", 2, True),
}


def redis_url() -> str:
    """Return the Redis server benchmarks use (BENCH_REDIS_URL overrides)."""
    return os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)


def redis_problem(url: str) -> str | None:
    """Return None if Redis answers PING at `url`, else why not."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return None
    except redis.RedisError as exc:
        return str(exc)


def available_setups(requested: list[str]) -> tuple[list[Setup], list[str]]:
    """Return the requested setups whose services answer, and notes about skipped ones."""
    setups, notes = [], []
    for name in requested:
        setup = SETUPS[name]
        problem = None
        if setup.db == "postgres":
            problem = databases.postgres_reachable(_common.postgres_base_url())
        if not problem and setup.redis:
            problem = redis_problem(redis_url())
        if problem:
            notes.append(f"{name} skipped: {problem}")
        else:
            setups.append(setup)
    return setups, notes


def use_app_secrets() -> None:
    """Make this process mint tokens the started backend accepts (same secret)."""
    os.environ["ACCESS_TOKEN_SECRET"] = processes.ACCESS_TOKEN_SECRET
    os.environ["STRIPE_WEBHOOK_SECRET"] = processes.WEBHOOK_SECRET
    os.environ["ADMIN_API_KEY"] = processes.ADMIN_API_KEY
    get_settings.cache_clear()


@contextmanager
def backend(
    database_url: str, setup: Setup, *, pages: bool = False, extra_env: dict | None = None
) -> Iterator[processes.Backend]:
    """Run `python -m credits_app run-prod` for `setup` on a free port until the block ends."""
    with tempfile.TemporaryDirectory(prefix=f"credits-bench-{setup.name}-") as folder:
        env = {
            "REFLEX_WEB_WORKDIR": str(Path(folder) / "web"),
            # One user spends thousands of times a minute here on purpose: raise the per-user
            # limits out of reach, so they are still counted (and measured) but never refuse.
            **RATE_LIMITS_OUT_OF_REACH,
            **(extra_env or {}),
        }
        started = processes.start_backend(
            database_url,
            Path(folder),
            workers=setup.workers,
            redis_url=redis_url() if setup.redis else None,
            extra_env=env,
            backend_only=not pages,
            timeout=600 if pages else 90,
        )
        try:
            yield started
        finally:
            started.stop()
