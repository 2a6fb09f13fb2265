"""Decide whether a test that needs PostgreSQL, Redis or a browser runs, skips or fails."""

from __future__ import annotations

import os
import shutil

import pytest

BROWSER_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Headless Debian chromium without a sandbox (root in CI) or any network chatter of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def required(kind: str) -> bool:
    """Tell whether CI demands this kind of service ('services' or 'browser')."""
    name = "CREDITS_REQUIRE_BROWSER" if kind == "browser" else "CREDITS_REQUIRE_SERVICES"
    return os.environ.get(name, "") not in ("", "0", "false", "no")


def unavailable(kind: str, reason: str) -> None:
    """Skip the test with `reason`, or fail it when the environment requires the service."""
    if required(kind):
        pytest.fail(f"{reason} (required because CREDITS_REQUIRE_{kind.upper()}=1)")
    pytest.skip(reason)


def postgres_url() -> str:
    """Return CREDITS_TEST_POSTGRES_URL, or skip/fail when it is not set."""
    url = os.environ.get("CREDITS_TEST_POSTGRES_URL", "")
    if not url:
        unavailable("services", "PostgreSQL tests need CREDITS_TEST_POSTGRES_URL")
    return url


def redis_url() -> str:
    """Return CREDITS_TEST_REDIS_URL, or skip/fail when it is not set."""
    url = os.environ.get("CREDITS_TEST_REDIS_URL", "")
    if not url:
        unavailable("services", "Redis tests need CREDITS_TEST_REDIS_URL")
    return url


def chromium_path() -> str:
    """Return the path of Debian's chromium, or skip/fail when it is not installed."""
    for path in (os.environ.get("CREDITS_CHROMIUM", ""), *BROWSER_PATHS):
        if path and shutil.which(path):
            return path
    unavailable("browser", "browser tests need chromium (apt-get install chromium)")
    raise AssertionError("unreachable")
