"""Logging out leaves nothing of the user in the tab, and ends the session in every tab."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect
from sqlalchemy import update

from credits_app.db import engine_for, session_scope
from credits_app.models import AuthSession, utcnow
from credits_app.services.ledger import grant_credits
from tests.e2e.helpers import expect_balance, login, new_email, route_pattern
from tests.support.factories import make_user

SECRET_A = "secret-A-reason"
SECRET_T = "secret-T-reason"


def _make(live_app, prefix: str, credits: int = 0, reason: str = "", **kwargs):
    with session_scope(engine_for(live_app.database_url)) as session:
        user = make_user(session, email=new_email(prefix), credits=credits, **kwargs)
        if reason:
            grant_credits(
                session=session,
                user_id=user.id,
                amount=11,
                reason=reason,
                idempotency_key=uuid.uuid4().hex,
            )
    return user


def _record_frames(page) -> list[str]:
    """Collect every websocket message the browser receives (the state Reflex sends)."""
    frames: list[str] = []

    def on_socket(socket) -> None:
        socket.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    return frames


def test_next_user_of_a_tab_never_receives_the_previous_users_data(visitor, live_app):
    admin = _make(live_app, "admin-a", credits=5, reason=SECRET_A, is_admin=True)
    target = _make(live_app, "target", reason=SECRET_T)
    other = _make(live_app, "user-b", credits=7)
    page = visitor.new_page()
    frames = _record_frames(page)
    page.goto("/admin/grant")
    login(page, admin.email, path="/admin/grant")
    page.fill("#find-email", target.email)
    page.click("#find-user")
    expect(page.locator("#admin-ledger")).to_contain_text(SECRET_T)
    page.goto("/dashboard")
    expect(page.locator("#ledger")).to_contain_text(SECRET_A)
    expect_balance(page, 16)
    assert any(SECRET_A in f for f in frames), "the recorder sees the state sent"

    page.click("#nav-logout")
    page.wait_for_url(route_pattern("/login"))
    frames.clear()  # from here on, nothing of A or of the user A looked up may arrive
    login(page, other.email)
    expect(page.locator("#ledger")).to_contain_text("test grant")
    expect_balance(page, 7)
    expect(page.locator("#dashboard-balance")).to_contain_text("7")
    page.reload()  # a full hydrate sends the whole state tree again
    expect_balance(page, 7)
    expect(page.locator("#ledger")).to_be_visible()

    leaked = [s for s in (SECRET_A, SECRET_T, admin.email, target.email) if s in page.content()]
    assert leaked == []
    for secret in (SECRET_A, SECRET_T, admin.email, target.email):
        assert not any(secret in f for f in frames), f"{secret} was sent to the next user"


def test_logout_in_one_tab_stops_the_other_tab_at_its_next_action(visitor, live_app):
    user = _make(live_app, "two-tabs", credits=3, reason=SECRET_A)
    first = visitor.new_page()
    first.goto("/dashboard")
    login(first, user.email)
    second = visitor.new_page()
    second.goto("/dashboard")
    expect(second.locator("#ledger")).to_contain_text(SECRET_A)

    first.click("#nav-logout")
    first.wait_for_url(route_pattern("/login"))
    second.click("#export-csv")
    second.wait_for_url(route_pattern("/login"))
    expect(second.locator("#ledger")).to_have_count(0)
    assert SECRET_A not in second.content()


def test_a_session_revoked_elsewhere_stops_the_tab_at_its_next_action(visitor, live_app):
    user = _make(live_app, "revoked", credits=3, reason=SECRET_A)
    page = visitor.new_page()
    page.goto("/dashboard")
    login(page, user.email)
    expect(page.locator("#ledger")).to_contain_text(SECRET_A)

    with session_scope(engine_for(live_app.database_url)) as session:
        session.exec(
            update(AuthSession).where(AuthSession.user_id == user.id).values(revoked_at=utcnow())
        )
        session.commit()
    page.click("#export-csv")
    page.wait_for_url(route_pattern("/login"))
    assert SECRET_A not in page.content()
