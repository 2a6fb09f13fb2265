"""Run the real `python -m credits_app` in a subprocess against a test database."""

from __future__ import annotations

import os
import subprocess
import sys

from credits_app.settings import PROJECT_ROOT


def run_cli(
    db_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run a CLI command with DATABASE_URL pointed at `db_url`; never raises on failure."""
    full_env = {**os.environ, "DATABASE_URL": db_url, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "credits_app", *args],
        cwd=PROJECT_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_check_ok(db_url: str) -> None:
    """Assert that `python -m credits_app check` finds no violation."""
    result = run_cli(db_url, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "OK"
