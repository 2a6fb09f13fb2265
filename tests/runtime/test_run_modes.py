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
from tests.support import original_commands as original
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


def _the_error(result: subprocess.CompletedProcess) -> str:
    """The one `error:` line a refused start ends with (warnings may come before it)."""
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    return errors[0]


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
    assert named in _the_error(result)
    assert not (tmp_path / "c.db").exists(), "nothing may be migrated before the check"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"ALLOW_SIMULATED_PAYMENTS": None}, "ALLOW_SIMULATED_PAYMENTS"),
        ({"STRIPE_WEBHOOK_SECRET": None}, "STRIPE_WEBHOOK_SECRET"),
        ({"ARGON2_TIME_COST": "1"}, "ARGON2_TIME_COST"),
    ],
)
def test_run_prod_refuses_unsafe_setups_in_one_line(tmp_path, changes, named):
    env = _prod_env(tmp_path)
    for name, value in changes.items():
        env.pop(name) if value is None else env.update({name: value})

    result = _cli("run-prod", "--backend-only", env=env)

    assert result.returncode == 2
    assert named in _the_error(result)
    assert not (tmp_path / "c.db").exists(), "nothing may be migrated before the check"


def test_run_prod_refuses_several_workers_without_redis(tmp_path):
    result = _cli("run-prod", "--backend-only", env=_prod_env(tmp_path, WORKERS="2"))
    assert result.returncode == 2
    assert _the_error(result) == (
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
    # The original README's admin key and webhook secret, so its lines run unchanged.
    env.update(ADMIN_API_KEY=original.ADMIN_KEY, STRIPE_WEBHOOK_SECRET=DEV_WEBHOOK_SECRET)
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
        _replay_the_original_commands(ports["FRONTEND_PORT"], user.stdout.strip())
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


DEV_WEBHOOK_SECRET = "whsec_devmodetest0123456789abcdef0123456789ab"


def _replay_the_original_commands(port: int, user_id: str) -> None:
    """The original README's curl and `stripe listen` lines, sent to the page's port."""
    page = httpx.get(f"http://localhost:{port}/", timeout=30)
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"

    synced = original.send(original.parse_curl(original.SYNC_PRICES, port=port))
    assert synced.status_code == 200, synced.text
    assert "price_sim_starter" in synced.json()["imported"]

    grant = original.parse_curl(original.GRANT, port=port)
    as_written = original.send(grant)
    assert as_written.status_code == 422, as_written.text
    assert as_written.json()["error"]["field"] == "userId"
    granted = original.send(original.with_user_id(grant, user_id))
    assert granted.status_code == 200, granted.text
    assert granted.json()["balance"] == 105  # 5 from the CLI, 100 from the original's line

    target = original.forward_url(port=port)
    body, headers = original.stripe_cli_delivery(original.triggered_event(), DEV_WEBHOOK_SECRET)
    delivered = httpx.post(target, content=body, headers=headers, timeout=30)
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["outcome"] == "ignored"
    forged = httpx.post(target, content=body, headers={**headers, "Stripe-Signature": "t=1,v1=0"})
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_signature"


def _compiles(path) -> int:
    """How many times Reflex compiled the app (once per backend start or reload)."""
    return path.read_text(errors="replace").count("Compiling:")


def _wait_for_text(path, text: str, process, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert process.poll() is None, path.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, path.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
