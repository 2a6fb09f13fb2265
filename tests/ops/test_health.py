"""GET /api/health (alive) and GET /api/ready (database, Redis, migrations at head)."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory

from alembic import command
from credits_app.db import engine_for
from credits_app.migrations import alembic_config
from credits_app.observability.readiness import script_heads
from credits_app.runtime.ports import free_port
from credits_app.settings import get_settings

READY = {"database": "ok", "migrations": "ok", "redis": "not configured"}


def _use_redis(monkeypatch, url: str | None) -> None:
    if url is None:
        monkeypatch.delenv("REDIS_URL", raising=False)
    else:
        monkeypatch.setenv("REDIS_URL", url)
    get_settings.cache_clear()


def test_health_answers(client):
    response = client.get("/api/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_the_database_answers_at_head(client):
    response = client.get("/api/ready")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": READY}


def test_ready_checks_redis_when_configured(client, redis_url, monkeypatch):
    _use_redis(monkeypatch, redis_url)

    response = client.get("/api/ready")

    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {**READY, "redis": "ok"}


def test_not_ready_when_redis_does_not_answer(client, monkeypatch):
    port = free_port()  # nothing listens there
    _use_redis(monkeypatch, f"redis://127.0.0.1:{port}/0")

    response = client.get("/api/ready")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    error = response.json()["error"]
    assert error["code"] == "not_ready"
    assert error["failed"] == ["redis"]
    assert error["checks"]["database"] == "ok"
    assert error["checks"]["migrations"] == "ok"
    assert error["checks"]["redis"].startswith("unreachable: ")
    assert str(port) in error["checks"]["redis"]
    assert error["message"] == f"not ready: redis: {error['checks']['redis']}"


def test_not_ready_when_the_database_is_behind_the_code(client, db_url):
    (head,) = script_heads()
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    engine_for(db_url).dispose()
    command.downgrade(alembic_config(db_url), "-1")
    try:
        response = client.get("/api/ready")
    finally:
        engine_for(db_url).dispose()
        command.upgrade(alembic_config(db_url), "head")

    assert response.status_code == 503
    error = response.json()["error"]
    reason = (
        f"the database is at revision {previous}, the code expects {head}: "
        "run `python -m credits_app migrate`"
    )
    assert error["failed"] == ["migrations"]
    assert error["checks"] == {"database": "ok", "migrations": reason, "redis": "not configured"}
    assert error["message"] == f"not ready: migrations: {reason}"
    # Back at head, ready again.
    assert client.get("/api/ready").status_code == 200


def test_not_ready_when_the_database_was_never_migrated(ops_env, tmp_path, monkeypatch):
    from credits_app.api import create_api
    from tests.ops.conftest import TestClient

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    with TestClient(create_api()) as client:
        response = client.get("/api/ready")

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["failed"] == ["migrations"]
    assert error["checks"]["migrations"] == (
        f"the database is at revision none (the database was never migrated), the code "
        f"expects {script_heads()[0]}: run `python -m credits_app migrate`"
    )


@pytest.mark.parametrize("redis", [False, True], ids=["no-redis", "redis-down"])
def test_not_ready_when_the_database_does_not_answer(ops_env, monkeypatch, redis):
    from credits_app.api import create_api
    from tests.ops.conftest import TestClient

    port = free_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{port}/credits")
    _use_redis(monkeypatch, f"redis://127.0.0.1:{free_port()}/0" if redis else None)
    with TestClient(create_api()) as client:
        response = client.get("/api/ready")
        alive = client.get("/api/health")

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["failed"] == (["database", "redis"] if redis else ["database"])
    assert error["checks"]["database"].startswith("unreachable: ")
    assert str(port) in error["checks"]["database"]
    assert error["checks"]["migrations"] == "skipped: the database did not answer"
    # The process is alive all the same: /api/health never touches the database.
    assert alive.status_code == 200
    assert alive.json() == {"status": "ok"}
