"""One real app (AppHarness), one Stripe simulator and one chromium for all browser tests.

The app runs on a temporary SQLite database; the simulator delivers signed webhooks to the
app's own /api/webhooks/stripe. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import services

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CONFIRM_THRESHOLD = 1000


@dataclass
class LiveApp:
    """Addresses of the running app and simulator."""

    url: str
    api_url: str
    sim_url: str
    database_url: str


def _configure_env(tmp: Path, sim) -> str:
    database_url = f"sqlite:///{tmp / 'credits.db'}"
    os.environ.update(
        DATABASE_URL=database_url,
        DATA_DIR=str(tmp),
        ACCESS_TOKEN_SECRET=secrets.token_urlsafe(48),
        STRIPE_WEBHOOK_SECRET=sim.config.webhook_secret,
        STRIPE_API_BASE=sim.url,
        ADMIN_GRANT_CONFIRM_THRESHOLD=str(CONFIRM_THRESHOLD),
    )
    return database_url


@pytest.fixture(scope="package")
def live_app(tmp_path_factory) -> Iterator[LiveApp]:
    """Start the simulator and the Reflex app (backend in-process, dev frontend)."""
    services.chromium_path()
    from reflex.testing import AppHarness

    from credits_app.migrations import upgrade_database
    from credits_app.settings import get_settings
    from credits_app.stripe_sim.testing import start_in_thread

    tmp = tmp_path_factory.mktemp("e2e")
    sim = start_in_thread()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    database_url = _configure_env(tmp, sim)
    get_settings.cache_clear()
    upgrade_database(database_url)
    os.chdir(ROOT)
    harness = AppHarness.create(root=ROOT)
    try:
        harness.start()
        import reflex as rx

        api_url = rx.config.get_config().api_url.rstrip("/")
        # Links in emails and Checkout return URLs point at the frontend the browser uses.
        os.environ["SITE_URL"] = harness.frontend_url.rstrip("/")
        get_settings.cache_clear()
        sim.config.forward_to = f"{api_url}/api/webhooks/stripe"
        yield LiveApp(harness.frontend_url.rstrip("/"), api_url, sim.url, database_url)
    finally:
        harness.stop()
        sim.stop()
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        get_settings.cache_clear()


@pytest.fixture
def ledger_check_urls(ledger_check_urls, request):
    """Also run the after-test ledger check on the live app's database."""
    if "live_app" not in request.fixturenames:
        return ledger_check_urls
    return [*ledger_check_urls, request.getfixturevalue("live_app").database_url]


@pytest.fixture(scope="package")
def browser(live_app):
    """A headless Debian chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=services.chromium_path(), args=services.CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class Visitor:
    """A browser context (its own LocalStorage, i.e. its own login) and its console errors."""

    context: object
    errors: list[str]
    app_url: str

    def new_page(self):
        """Open a tab whose console errors on the app's pages are recorded."""
        page = self.context.new_page()

        def record(text: str) -> None:
            if page.url.startswith(self.app_url):  # the simulator's pages are not ours
                self.errors.append(text)

        page.on("console", lambda m: m.type == "error" and record(m.text))
        page.on("pageerror", lambda exc: record(str(exc)))
        return page


@pytest.fixture
def visitor(browser, live_app) -> Iterator[Visitor]:
    """A fresh visitor; the test fails if any page logged a console error."""
    context = browser.new_context(base_url=live_app.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    result = Visitor(context, [], live_app.url)
    yield result
    context.close()
    assert result.errors == [], f"console errors: {result.errors}"


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot under artifacts/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
