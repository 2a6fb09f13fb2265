"""Login redirects, logout by button only, admin grants with confirmation, 403 for non-admins."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlmodel import select

from credits_app.db import engine_for, read_session, session_scope
from credits_app.models import LedgerEntry
from tests.e2e.conftest import CONFIRM_THRESHOLD, screenshot
from tests.e2e.helpers import expect_balance, login, new_email, register, route_pattern
from tests.support.factories import make_user


def _make(live_app, **kwargs):
    with session_scope(engine_for(live_app.database_url)) as session:
        return make_user(session, email=new_email(kwargs.pop("prefix", "user")), **kwargs)


def test_login_required_pages_come_back_after_login_and_logout_ends_the_session(visitor, live_app):
    user = _make(live_app, credits=5)
    page = visitor.new_page()
    page.goto("/credits")
    page.wait_for_url(route_pattern("/login"))
    screenshot(page, "login")
    page.fill("#email", user.email)
    page.fill("#password", "wrong-password-123")
    page.click("#auth-submit")
    expect(page.locator("#auth-error")).to_contain_text("Wrong email or password")
    login(page, user.email, path="/credits")
    expect_balance(page, 5)

    page.reload()
    expect_balance(page, 5)
    assert route_pattern("/credits").match(page.url)

    page.goto("/logout")  # what a link or an <img src="/logout"> elsewhere makes a browser do
    expect(page.locator("#logout-button")).to_be_visible()
    page.goto("/dashboard")
    expect_balance(page, 5)
    assert route_pattern("/dashboard").match(page.url)

    page.click("#nav-logout")
    page.wait_for_url(route_pattern("/login"))
    page.goto("/dashboard")
    page.wait_for_url(route_pattern("/login"))
    expect(page.locator("#balance")).to_have_count(0)


def test_register_shows_readable_errors_and_never_says_who_has_an_account(visitor, live_app):
    taken = _make(live_app)
    page = visitor.new_page()
    page.goto("/register")
    page.fill("#email", new_email())
    page.fill("#password", "short")
    page.fill("#confirm", "short")
    page.click("#auth-submit")
    expect(page.locator("#auth-error")).to_contain_text("at least 8 characters")
    screenshot(page, "register-error")
    page.fill("#email", taken.email)
    page.fill("#password", "another-good-pass")
    page.fill("#confirm", "another-good-pass")
    page.click("#auth-submit")
    expect(page.locator("#auth-notice")).to_have_text(
        f"We sent an email to {taken.email}. Follow the link in it to continue."
    )
    expect(page.locator("#auth-error")).to_have_count(0)


def test_non_admin_sees_403(visitor, live_app):
    page = visitor.new_page()
    register(page, new_email("plain"))
    page.goto("/admin/grant")
    expect(page.locator("#forbidden")).to_be_visible()
    expect(page.locator("#find-email")).to_have_count(0)
    screenshot(page, "admin-403")


def test_admin_grants_with_reason_and_confirmation_and_is_recorded(visitor, live_app):
    admin = _make(live_app, prefix="admin", is_admin=True)
    target = _make(live_app, prefix="target")
    page = visitor.new_page()
    page.goto("/admin/grant")
    login(page, admin.email, path="/admin/grant")
    page.fill("#find-email", target.email)
    page.click("#find-user")
    expect(page.locator("#found-user")).to_have_text(target.email)

    page.fill("#grant-amount", "250")
    page.fill("#grant-reason", "Support goodwill")
    page.click("#grant-submit")
    expect(page.locator("#found-balance")).to_contain_text("250")
    expect(page.locator("#admin-ledger")).to_contain_text("Support goodwill")
    # The confirmation is a toast, which Reflex runs as a script the page's CSP must allow.
    toast = page.locator("[data-sonner-toast]")
    expect(toast).to_contain_text(f"Granted 250 credits to {target.email}; balance 250.")

    page.fill("#grant-amount", str(CONFIRM_THRESHOLD + 1))
    page.fill("#grant-reason", "Enterprise trial")
    page.click("#grant-submit")
    expect(page.locator("#confirm-box")).to_be_visible()
    screenshot(page, "admin-grant-confirm")
    page.click("#confirm-grant")
    expect(page.locator("#found-balance")).to_contain_text(str(250 + CONFIRM_THRESHOLD + 1))
    screenshot(page, "admin-grant")

    with read_session(engine_for(live_app.database_url)) as session:
        grants = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == target.id)).all()
    assert sorted(g.amount for g in grants) == [250, CONFIRM_THRESHOLD + 1]
    assert {g.actor_user_id for g in grants} == {admin.id}
