"""Redis goes away under 2 workers: Reflex state degrades visibly, the ledger does not."""

from __future__ import annotations

import os

import httpx
import pytest

from credits_app.db import make_engine
from credits_app.settings import PROJECT_ROOT
from tests.faults import servers
from tests.runtime.helpers import (
    balance_row,
    entries_by_key,
    fresh_key,
    in_parallel,
    new_user,
    spend,
    token_for,
)
from tests.support import processes, services


@pytest.fixture
def redis_server():
    """A Redis of the test's own, which it may stop and start."""
    try:
        server = servers.start_redis_server()
    except (FileNotFoundError, RuntimeError) as exc:
        services.unavailable("services", f"cannot start a throwaway Redis: {exc}")
    yield server
    server.stop()


def _health(url: str) -> tuple[int, dict]:
    response = httpx.get(url + "/_health", timeout=30)
    return response.status_code, response.json()


def _spend_many(url: str, token: str, keys: list[str]) -> list[tuple[int, dict]]:
    def one(key: str) -> tuple[int, dict]:
        with httpx.Client(base_url=url, timeout=30) as client:
            return spend(client, token, 1, key)

    return in_parallel(one, keys, 8)


@pytest.mark.slow
def test_redis_outage_degrades_state_not_the_ledger(
    postgres_url, redis_server, tmp_path, test_secrets
):
    engine = make_engine(postgres_url)
    user, limited_user = new_user(engine, credits=1000), new_user(engine, credits=1000)
    token, limited_token = token_for(user), token_for(limited_user)
    backend = processes.start_backend(
        postgres_url, tmp_path / "a", workers=2, redis_url=redis_server.url
    )
    # Same app with the per-user spend limit on: its counters live in Redis.
    limited = processes.start_backend(
        postgres_url,
        tmp_path / "b",
        redis_url=redis_server.url,
        extra_env={"RATE_LIMIT_SPEND_PER_MINUTE": "100000"},
    )
    try:
        assert _health(backend.url)[0] == 200
        before = _spend_many(backend.url, token, [fresh_key("up") for _ in range(20)])
        redis_server.stop()
        health_down = _health(backend.url)
        during_keys = [fresh_key("down") for _ in range(40)]
        during = _spend_many(backend.url, token, during_keys)
        limited_keys = [fresh_key("rl") for _ in range(10)]
        limited_during = _spend_many(limited.url, limited_token, limited_keys)
        redis_server.start()
        health_back = _health(backend.url)
        after = _spend_many(backend.url, token, [fresh_key("back") for _ in range(20)])
        replayed = _spend_many(backend.url, token, during_keys[:10])
        limited_after = _spend_many(limited.url, limited_token, [fresh_key("rl2")])
    finally:
        backend.stop()
        limited.stop()

    assert {s for s, _ in before} == {200}
    # Reflex's health check names Redis as down: the state manager and new page sessions
    # need it. The API does not: spends go straight to PostgreSQL.
    assert health_down[0] == 503 and health_down[1]["redis"] is False, health_down
    assert {s for s, _ in during} == {200}, during
    # The rate limiter counts in the worker's memory while Redis is away: spends go on.
    assert {s for s, _ in limited_during} == {200}, limited_during
    assert health_back[0] == 200, health_back
    assert {s for s, _ in after} == {200}
    assert all(s == 200 and b["replayed"] for s, b in replayed), replayed
    assert limited_after[0][0] == 200
    assert sum(entries_by_key(engine, user).values()) == 80
    assert balance_row(engine, user) == 920
    assert set(limited_keys) <= set(entries_by_key(engine, limited_user))
    assert balance_row(engine, limited_user) == 1000 - len(limited_keys) - 1
    engine.dispose()


@pytest.mark.slow
@pytest.mark.browser
def test_redis_outage_pages_fail_clearly_then_recover(
    postgres_url, redis_server, tmp_path, test_secrets
):
    """Pages still load; a state event shows Reflex's error toast; Redis back, all works."""
    from playwright.sync_api import expect, sync_playwright

    chromium = services.chromium_path()
    web = os.environ.get("REFLEX_WEB_WORKDIR") or str(PROJECT_ROOT / ".web")
    app = processes.start_backend(
        postgres_url,
        tmp_path,
        workers=2,
        redis_url=redis_server.url,
        backend_only=False,
        timeout=600,
        extra_env={"REFLEX_WEB_WORKDIR": web},
    )
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=services.CHROMIUM_ARGS
            )
            context = browser.new_context(base_url=app.url)
            redis_server.stop()
            down = context.new_page()
            _try_login(down)
            expect(down.get_by_text("An error occurred.")).to_be_visible(timeout=30_000)
            redis_server.start()
            back = context.new_page()
            _try_login(back)
            expect(back.get_by_text("wrong email or password")).to_be_visible(timeout=30_000)
            browser.close()
    finally:
        app.stop()


def _try_login(page) -> None:
    page.goto("/login")
    page.fill("#email", "nobody@example.com")
    page.fill("#password", "not-the-password-1")
    page.click("#auth-submit")
