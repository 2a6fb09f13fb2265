"""Smoke test: the real `reflex run --backend-only` process serves the API, dev and prod."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import httpx
import pytest
from sqlmodel import Session

from credits_app.db import make_engine
from credits_app.settings import (
    DEFAULT_ARGON2_MEMORY_KIB,
    DEFAULT_ARGON2_TIME_COST,
    PROJECT_ROOT,
    get_settings,
)
from tests.api.conftest import ADMIN_KEY, bearer, key, spend_body
from tests.support.factories import make_user

STARTUP_SECONDS = 120
TOKEN_SECRET = "smoke-test-token-secret-0123456789abcdef-0123456789"
# What production insists on: a webhook secret, full-cost Argon2, and simulated payments only
# when allowed (the smoke test takes no payments).
PROD_SAFETY = {
    "STRIPE_WEBHOOK_SECRET": "whsec_smoketest0123456789abcdef0123456789abcdef",
    "ALLOW_SIMULATED_PAYMENTS": "1",
    "ARGON2_TIME_COST": str(DEFAULT_ARGON2_TIME_COST),
    "ARGON2_MEMORY_KIB": str(DEFAULT_ARGON2_MEMORY_KIB),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def backend_env(db_url: str, tmp_path) -> dict[str, str]:
    tools = str(PROJECT_ROOT / ".tools" / "node_modules" / ".bin")
    return {
        **os.environ,
        "PATH": f"{tools}:{PROJECT_ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_USE_SYSTEM_NODE": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "TELEMETRY_ENABLED": "false",
        "REFLEX_WEB_WORKDIR": str(tmp_path / "web"),
        "REFLEX_STATES_WORKDIR": str(tmp_path / "states"),
        "DATABASE_URL": db_url,
        "ACCESS_TOKEN_SECRET": TOKEN_SECRET,
        "ADMIN_API_KEY": ADMIN_KEY,
        "CREDITS_ENV_FILE": os.devnull,
    }


def start_backend(args: list[str], env: dict[str, str], log_path) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [str(PROJECT_ROOT / ".venv" / "bin" / "reflex"), "run", "--backend-only", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_backend(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def wait_until_serving(base: str, process: subprocess.Popen, log_path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"backend exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base}/ping", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"backend did not start in {STARTUP_SECONDS} s:\n{log_path.read_text()}")


@pytest.mark.parametrize("mode", ["dev", "prod"])
def test_the_real_backend_serves_spend_grant_and_errors(sqlite_url, tmp_path, monkeypatch, mode):
    monkeypatch.setenv("ACCESS_TOKEN_SECRET", TOKEN_SECRET)
    get_settings.cache_clear()
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        user = make_user(session, credits=0)
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["--backend-port", str(port), "--env", mode]
    log_path = tmp_path / "backend.log"
    env = backend_env(sqlite_url, tmp_path)
    if mode == "prod":
        env.update(PROD_SAFETY)
    process = start_backend(args, env, log_path)
    try:
        wait_until_serving(base, process, log_path)
        with httpx.Client(base_url=base, timeout=30) as client:
            granted = client.post(
                "/api/credits/grant",
                json={"userId": user.id, "amount": 40, "reason": "smoke", "idempotencyKey": key()},
                headers={"x-admin-key": ADMIN_KEY},
            )
            spent = client.post("/api/credits/spend", json=spend_body(15), headers=bearer(user.id))
            too_much = client.post(
                "/api/credits/spend", json=spend_body(1000), headers=bearer(user.id)
            )
            unknown = client.get("/api/nope")
            schema = client.get("/api/openapi.json")
            docs = client.get("/api/docs")
            ping = client.get("/ping")
    finally:
        stop_backend(process)

    assert granted.status_code == 200 and granted.json()["balance"] == 40
    assert spent.status_code == 200 and spent.json()["balance"] == 25
    assert too_much.status_code == 402 and too_much.json()["error"]["required"] == 1000
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert "/api/credits/spend" in schema.json()["paths"]
    assert docs.status_code == (404 if mode == "prod" else 200)  # API_DOCS=1 turns it on
    for response in (granted, unknown, ping):
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert ("strict-transport-security" in response.headers) == (mode == "prod")


def test_the_real_backend_refuses_a_short_admin_key_in_production(sqlite_url, tmp_path):
    env = {**backend_env(sqlite_url, tmp_path), "ADMIN_API_KEY": "short"}
    log_path = tmp_path / "backend.log"
    args = ["--backend-port", str(free_port()), "--env", "prod"]

    process = start_backend(args, env, log_path)
    try:
        returncode = process.wait(timeout=STARTUP_SECONDS)
    finally:
        stop_backend(process)

    assert returncode != 0
    assert "ADMIN_API_KEY is too short" in log_path.read_text()
