"""Live balance updates reach every open tab, whichever of 2 workers holds its websocket."""

from __future__ import annotations

import os
import re
import time
from urllib.parse import urlsplit

import httpx
import pytest

from credits_app.settings import PROJECT_ROOT
from tests.runtime.helpers import fresh_key, new_user, spend, token_for
from tests.support import processes, services
from tests.support.factories import DEFAULT_PASSWORD

TABS = 4


@pytest.fixture(scope="module")
def full_app(pg_url, redis_url, test_secrets, tmp_path_factory):
    """The whole app (pages too) in production mode with 2 workers."""
    services.chromium_path()
    tmp = tmp_path_factory.mktemp("full-app")
    # The shared build folder unless REFLEX_WEB_WORKDIR names a private one.
    web = os.environ.get("REFLEX_WEB_WORKDIR") or str(PROJECT_ROOT / ".web")
    app = processes.start_backend(
        pg_url,
        tmp,
        workers=2,
        redis_url=redis_url,
        backend_only=False,
        timeout=600,
        extra_env={"REFLEX_WEB_WORKDIR": web},
    )
    yield app
    app.stop()


@pytest.fixture
def browser():
    """Debian's chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    path = services.chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=services.CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.mark.browser
def test_api_spends_update_tabs_on_both_workers(full_app, browser, pg_engine):

    user_id = new_user(pg_engine, credits=500)
    email = _email_of(pg_engine, user_id)
    context = browser.new_context(base_url=full_app.url)
    pages = []
    for n in range(TABS):
        page = context.new_page()
        page.goto("/dashboard")
        if n == 0:
            # Production serves /dashboard/ (trailing slash): wait for the balance, not a URL.
            page.fill("#email", email)
            page.fill("#password", DEFAULT_PASSWORD)
            page.click("#auth-submit")
        expect_balance(page, 500, timeout=30_000)
        pages.append(page)
    # Each worker holds a tab's websocket (granian spreads connections; retry a few times).
    app_port = urlsplit(full_app.url).port
    _spread_tabs(full_app, pages, app_port)

    token = token_for(user_id)
    expected = 500
    for amount in (7, 11, 13):
        with httpx.Client(base_url=full_app.url, timeout=30) as client:
            status, body = spend(client, token, amount, fresh_key("live"))
        assert status == 200, body
        expected -= amount
        started = time.monotonic()
        for page in pages:
            expect_balance(page, expected, timeout=10_000)
        elapsed = (time.monotonic() - started) * 1000
        print(f"all {TABS} tabs showed {expected} {elapsed:.0f} ms after the response")
    context.close()


def expect_balance(page, value: int, timeout: float) -> None:
    """Wait until the nav bar's #balance shows `value`."""
    from playwright.sync_api import expect

    pattern = re.compile(rf"^\s*{value}\b")
    expect(page.locator("#balance")).to_have_text(pattern, timeout=timeout)


def _spread_tabs(app, pages, port: int) -> None:
    for _ in range(5):
        if _workers_with_clients(app, port) == 2:
            return
        pages[-1].reload()
        time.sleep(0.5)
    assert _workers_with_clients(app, port) == 2, "every tab landed on one worker"


def _workers_with_clients(app, port: int) -> int:
    import psutil

    count = 0
    for pid in app.worker_pids():
        connections = psutil.Process(pid).net_connections(kind="tcp")
        count += any(
            c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED
            for c in connections
        )
    return count


def _email_of(engine, user_id: int) -> str:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(
            text("SELECT email FROM app_user WHERE id = :u"), {"u": user_id}
        ).scalar_one()


@pytest.mark.browser
def test_production_pages_send_the_security_headers_and_keep_their_policy(full_app, browser):
    """Pages served by the production server carry the headers; loading them breaks no rule."""
    with httpx.Client(base_url=full_app.url, timeout=30) as client:
        answers = [client.get(path) for path in ("/", "/admin/grant/", "/api/nope")]
    for response in answers:
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["strict-transport-security"].startswith("max-age=")
    page_policy = answers[1].headers["content-security-policy"]
    assert "default-src 'self'" in page_policy and "ws://127.0.0.1:" in page_policy

    context = browser.new_context(base_url=full_app.url)
    page = context.new_page()
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.goto("/login")
    page.wait_for_selector("#auth-submit")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__violations") == []
    context.close()
