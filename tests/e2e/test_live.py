"""The balance on open pages follows changes made anywhere: API, CLI, other tabs."""

from __future__ import annotations

import time
import uuid

import httpx
from playwright.sync_api import expect

from credits_app.db import engine_for, session_scope
from credits_app.services.tokens import generate_access_token
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import expect_balance, login, new_email
from tests.support.cli import run_cli
from tests.support.factories import make_user

# Generous on purpose (no timing assertions); the measured latency is printed.
WAIT_MS = 5_000


def _user_with(live_app, credits: int):
    with session_scope(engine_for(live_app.database_url)) as session:
        return make_user(session, email=new_email("live"), credits=credits)


def _timed_balance(page, value: int, label: str) -> None:
    started = time.monotonic()
    expect_balance(page, value, timeout=WAIT_MS)
    print(f"live update ({label}) seen after {(time.monotonic() - started) * 1000:.0f} ms")


def test_api_spend_and_cli_grant_update_every_open_tab(visitor, live_app):
    user = _user_with(live_app, 100)
    first = visitor.new_page()
    first.goto("/dashboard")
    login(first, user.email)
    expect_balance(first, 100)
    second = visitor.new_page()
    second.goto("/example-ai")
    expect_balance(second, 100)

    token = generate_access_token(user.id, "example-ai")
    response = httpx.post(
        f"{live_app.api_url}/api/credits/spend",
        json={"amount": 7, "feature": "example-ai", "idempotencyKey": uuid.uuid4().hex},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    _timed_balance(first, 93, "API spend, dashboard tab")
    _timed_balance(second, 93, "API spend, second tab")
    expect(first.locator("#usage")).to_contain_text("example-ai")

    result = run_cli(
        live_app.database_url,
        "grant",
        str(user.id),
        "20",
        "--reason",
        "CLI gift",
        "--key",
        uuid.uuid4().hex,
    )
    assert result.returncode == 0, result.stderr
    _timed_balance(first, 113, "CLI grant from another process, dashboard tab")
    _timed_balance(second, 113, "CLI grant from another process, second tab")
    expect(first.locator("#ledger")).to_contain_text("CLI gift")
    screenshot(first, "dashboard-live")
