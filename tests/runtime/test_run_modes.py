"""The run commands: production refusals, CORS on SITE_URL, the simulator and dev mode."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from credits_app.runtime.dev import reload_exclusions
from credits_app.runtime.ports import free_port
from credits_app.settings import PROJECT_ROOT, get_settings
from tests.support import processes


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "credits_app", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _prod_env(tmp_path, **extra: str) -> dict[str, str]:
    return processes.app_env(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, **extra)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("ACCESS_TOKEN_SECRET", "changeme", "ACCESS_TOKEN_SECRET"),
        ("ACCESS_TOKEN_SECRET", "short-but-random-9f8e", "ACCESS_TOKEN_SECRET"),
        ("ADMIN_API_KEY", "your-secret-here-please", "ADMIN_API_KEY"),
        ("STRIPE_SECRET_KEY", "sk_test_...", "STRIPE_SECRET_KEY"),
    ],
)
def test_run_prod_refuses_placeholder_secrets(tmp_path, variable, value, named):
    result = _cli("run-prod", "--backend-only", env=_prod_env(tmp_path, **{variable: value}))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0], lines
    assert not (tmp_path / "c.db").exists(), "nothing may be migrated before the check"


def test_run_prod_refuses_several_workers_without_redis(tmp_path):
    result = _cli("run-prod", "--backend-only", env=_prod_env(tmp_path, WORKERS="2"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: WORKERS=2 needs REDIS_URL: workers share Reflex state through Redis"
    )


def test_run_prod_names_a_busy_port(tmp_path):
    with processes.socket_listening() as port:
        result = _cli("run-prod", "--backend-only", "--port", str(port), env=_prod_env(tmp_path))
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "in use" in result.stderr


def test_cors_allows_only_site_url(two_workers):
    preflight = {"Access-Control-Request-Method": "POST"}
    with two_workers.client() as client:
        foreign = client.options(
            "/api/credits/spend", headers={"Origin": "https://evil.example", **preflight}
        )
        own = client.options("/api/credits/spend", headers={"Origin": two_workers.url, **preflight})
    assert "access-control-allow-origin" not in foreign.headers
    assert own.headers["access-control-allow-origin"] == two_workers.url


def test_stripe_sim_command_serves_on_stripe_api_base(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "CREDITS_ENV_FILE": os.devnull,
        "DATA_DIR": str(tmp_path),
        "STRIPE_API_BASE": f"http://127.0.0.1:{port}",
    }
    env.pop("STRIPE_SECRET_KEY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "credits_app", "stripe-sim"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        lines = [process.stdout.readline()]
        while "Ctrl-C stops it." not in lines[-1] and lines[-1]:
            lines.append(process.stdout.readline())
        first = next(line for line in lines if "; events to " in line)
        health = httpx.get(f"http://127.0.0.1:{port}/_sim/health", timeout=10).json()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)
    assert first.startswith(f"Stripe simulator on http://127.0.0.1:{port}"), first
    assert "/api/webhooks/stripe" in first
    assert health["ok"] is True
    assert process.returncode == 0


@pytest.mark.slow
def test_reload_exclusions_cover_the_data_folder_inside_the_project(monkeypatch):
    monkeypatch.delenv("REFLEX_HOT_RELOAD_EXCLUDE_PATHS", raising=False)
    settings = get_settings().model_copy(update={"data_dir": PROJECT_ROOT / "data" / "nested"})
    (PROJECT_ROOT / "data").mkdir(exist_ok=True)
    excluded = reload_exclusions(settings).split(":")
    assert str(PROJECT_ROOT / "data") in excluded
    assert str(PROJECT_ROOT / "tests") in excluded
    assert str(PROJECT_ROOT / "credits_app") not in excluded


def test_dev_mode_serves_pages_api_and_simulator_and_ctrl_c_stops_all(tmp_path):
    ports = {name: free_port() for name in ("FRONTEND_PORT", "BACKEND_PORT", "SIM")}
    # The data folder sits inside the project, as by default, where its SQLite files change
    # on every write: they must not restart the dev backend.
    data_dir = PROJECT_ROOT / "data" / f"dev-mode-test-{os.getpid()}"
    env = {
        **os.environ,
        "CREDITS_ENV_FILE": os.devnull,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'dev.db'}",
        "FRONTEND_PORT": str(ports["FRONTEND_PORT"]),
        "BACKEND_PORT": str(ports["BACKEND_PORT"]),
        "STRIPE_API_BASE": f"http://127.0.0.1:{ports['SIM']}",
        "REFLEX_STATES_WORKDIR": str(tmp_path / "states"),
    }
    for name in ("CREDITS_ENV", "ACCESS_TOKEN_SECRET", "STRIPE_WEBHOOK_SECRET", "SITE_URL"):
        env.pop(name, None)
    assert _cli("migrate", env=env).returncode == 0
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "credits_app", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    tree: list[psutil.Process] = []
    try:
        url = f"http://localhost:{ports['FRONTEND_PORT']}"
        _wait_for_text(tmp_path / "run.log", f"Credits is running: open {url}", process)
        tree = psutil.Process(process.pid).children(recursive=True)
        assert httpx.get(url + "/", timeout=30).status_code == 200
        ping = httpx.get(f"http://127.0.0.1:{ports['BACKEND_PORT']}/ping", timeout=30)
        assert ping.status_code == 200
        sim = httpx.get(f"http://127.0.0.1:{ports['SIM']}/_sim/health", timeout=10).json()
        assert sim["ok"] is True
        compiles = _compiles(tmp_path / "run.log")
        user = _cli("create-user", "dev@example.com", "--password", "a long dev password", env=env)
        grant = _cli("grant", user.stdout.strip(), "5", "--reason", "r", "--key", "k", env=env)
        assert grant.returncode == 0, grant.stderr
        time.sleep(3)
        assert _compiles(tmp_path / "run.log") == compiles, "a database write restarted the app"
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        process.wait(60)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    _gone, alive = psutil.wait_procs(tree, timeout=20)
    assert not alive, f"still running after Ctrl-C: {alive}"
    assert process.returncode == 0


def _compiles(path) -> int:
    """How many times Reflex compiled the app (once per backend start or reload)."""
    return path.read_text(errors="replace").count("Compiling:")


def _wait_for_text(path, text: str, process, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert process.poll() is None, path.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, path.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
