"""What `GET /api/ready` checks: the database answers, Redis answers, migrations at head."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from credits_app.db import READ_ONLY, get_engine
from credits_app.migrations import alembic_config
from credits_app.settings import get_settings

REDIS_TIMEOUT_SECONDS = 2.0
OK = "ok"
NOT_CONFIGURED = "not configured"
SKIPPED = "skipped: the database did not answer"


@dataclass
class Readiness:
    """Each check's result (`ok`, or why not) and the names of those that failed."""

    checks: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Whether every check passed."""
        return not self.failed

    def fail(self, name: str, reason: str) -> None:
        """Record a failed check."""
        self.checks[name] = reason
        self.failed.append(name)


@functools.cache
def script_heads() -> tuple[str, ...]:
    """The newest migration revision(s) this code ships (read once per process)."""
    return tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


def _first_line(exc: BaseException) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def _check_database(result: Readiness) -> None:
    """Run `SELECT 1` and compare the database's revision with the code's."""
    try:
        with get_engine().execution_options(**READ_ONLY).connect() as conn:
            conn.execute(text("SELECT 1"))
            current = tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
            conn.rollback()
    except Exception as exc:  # any failure to talk to the database means "not ready"
        result.fail("database", f"unreachable: {_first_line(exc)}")
        result.checks["migrations"] = SKIPPED
        return
    result.checks["database"] = OK
    expected = script_heads()
    if current == expected:
        result.checks["migrations"] = OK
        return
    have = ", ".join(current) or "none (the database was never migrated)"
    result.fail(
        "migrations",
        f"the database is at revision {have}, the code expects {', '.join(expected)}: "
        "run `python -m credits_app migrate`",
    )


def _check_redis(result: Readiness, url: str | None) -> None:
    """PING Redis when REDIS_URL is set."""
    if not url:
        result.checks["redis"] = NOT_CONFIGURED
        return
    import redis

    client = redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        result.fail("redis", f"unreachable: {_first_line(exc)}")
        return
    finally:
        client.close()
    result.checks["redis"] = OK


def check_ready() -> Readiness:
    """Run every check (each fails fast: a few seconds at most) and return the results."""
    result = Readiness()
    _check_database(result)
    _check_redis(result, get_settings().redis_url)
    return result
