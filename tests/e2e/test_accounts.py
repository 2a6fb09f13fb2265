"""Accounts in a real browser, with mail through a real SMTP server on loopback.

The app sends through SMTP_URL to aiosmtpd; the test reads the message the server received
and follows its link in chromium, as a person reading their inbox would.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from credits_app.db import engine_for, session_scope
from credits_app.services import ratelimit
from credits_app.settings import get_settings
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import PASSWORD, expect_balance, login, new_email, route_pattern
from tests.support.factories import make_user
from tests.support.smtp_server import link_in, smtp_server

NEW_PASSWORD = "a-brand-new-secret"


@pytest.fixture
def inbox(live_app):
    """The app mails through a local SMTP server for this test; throttles start fresh."""
    ratelimit.limiter_for.cache_clear()
    with smtp_server() as server:
        os.environ["SMTP_URL"] = server.url
        get_settings.cache_clear()
        try:
            yield server
        finally:
            os.environ.pop("SMTP_URL", None)
            get_settings.cache_clear()


def _submit(page, **fields: str) -> None:
    for name, value in fields.items():
        page.fill(f"#{name}", value)
    page.click("#auth-submit")


def test_a_new_account_is_confirmed_by_the_emailed_link(visitor, inbox):
    email = new_email("confirm")
    page = visitor.new_page()
    page.goto("/register")
    _submit(page, email=email, password=PASSWORD, confirm=PASSWORD)
    expect(page.locator("#auth-notice")).to_contain_text(f"We sent an email to {email}")
    screenshot(page, "register-check-email")

    page.goto("/login")
    _submit(page, email=email, password=PASSWORD)
    expect(page.locator("#auth-error")).to_contain_text("Confirm your email address first")
    assert route_pattern("/login").match(page.url)

    page.goto(link_in(inbox.wait_for(email, "Confirm your email")))
    expect(page.locator("#verify-result")).to_contain_text(f"{email} is confirmed")
    screenshot(page, "email-confirmed")
    page.click("#verify-login")
    page.wait_for_url(route_pattern("/login"))
    login(page, email)
    expect_balance(page, 0)


def test_a_forgotten_password_is_reset_by_the_emailed_link_and_every_device_logs_out(
    visitor, browser, live_app, inbox
):
    with session_scope(engine_for(live_app.database_url)) as session:
        user = make_user(session, email=new_email("forgot"), credits=3)
    phone = browser.new_context(base_url=live_app.url).new_page()
    phone.goto("/dashboard")
    login(phone, user.email)
    expect_balance(phone, 3)

    page = visitor.new_page()
    page.goto("/login")
    page.click("#forgot-link")
    page.wait_for_url(route_pattern("/forgot-password"))
    _submit(page, email=user.email)
    expect(page.locator("#auth-notice")).to_contain_text(user.email)
    page.goto(link_in(inbox.wait_for(user.email, "Reset your password")))
    _submit(page, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    expect(page.locator("#reset-done")).to_be_visible()
    screenshot(page, "password-reset")

    phone.goto("/credits")
    phone.wait_for_url(route_pattern("/login"))
    phone.context.close()
    page.goto("/login")
    _submit(page, email=user.email, password=PASSWORD)
    expect(page.locator("#auth-error")).to_contain_text("Wrong email or password")
    login(page, user.email, NEW_PASSWORD)
    expect_balance(page, 3)


def test_the_account_page_lists_sessions_and_ends_the_others(visitor, browser, live_app):
    with session_scope(engine_for(live_app.database_url)) as session:
        user = make_user(session, email=new_email("devices"))
    other = browser.new_context(base_url=live_app.url, user_agent="OtherDevice/1.0").new_page()
    other.goto("/dashboard")
    login(other, user.email)

    page = visitor.new_page()
    page.goto("/account")
    login(page, user.email, path="/account")
    expect(page.locator(".session-row")).to_have_count(2)
    expect(page.locator("#sessions")).to_contain_text("OtherDevice/1.0")
    expect(page.locator(".session-row", has_text="this device")).to_have_count(1)
    screenshot(page, "account-sessions")
    page.click("#end-other-sessions")
    expect(page.locator(".session-row")).to_have_count(1)

    other.goto("/credits")
    other.wait_for_url(route_pattern("/login"))
    other.context.close()
