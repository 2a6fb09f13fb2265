"""Lots in the browser: the dashboard's credits by lot, what expires next and the 7-day banner,
live as the balance changes; expiries in the ledger; the admin grant's category and expiry;
sign-up credits after confirming the address."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, timedelta

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from credits_app.db import engine_for, read_session, session_scope
from credits_app.models import CreditLot, LedgerEntry, utcnow
from credits_app.services.admin_grants import grant_lot_credits
from credits_app.services.holds.expiry import expire_due_lots
from credits_app.services.tokens import generate_access_token
from credits_app.settings import get_settings
from credits_app.state.dashboard import long_day
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import expect_balance, login, new_email, register
from tests.support.factories import make_user

DAY = timedelta(days=1)


def _grant(session, user_id: int, amount: int, category: str, expires_at) -> None:
    grant_lot_credits(
        session=session,
        user_id=user_id,
        amount=amount,
        reason=f"{category} setup",
        idempotency_key=uuid.uuid4().hex,
        source="admin_api",
        category=category,
        expires_at=expires_at,
    )


def _lot_rows(page) -> list[list[str]]:
    rows = page.locator("#lots tbody tr")
    return [
        [cell.strip() for cell in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]


def test_the_dashboard_shows_lots_and_what_expires_next_and_follows_every_change(visitor, live_app):
    engine = engine_for(live_app.database_url)
    now = utcnow()
    soon = (now + 3 * DAY + timedelta(hours=2)).replace(second=0, microsecond=0)
    later = (now + 40 * DAY).replace(second=0, microsecond=0)
    with session_scope(engine) as session:
        user = make_user(session, email=new_email("lots"), credits=100)
        _grant(session, user.id, 300, "promotional", soon)
        _grant(session, user.id, 50, "paid", later)
    page = visitor.new_page()
    page.goto("/dashboard")
    login(page, user.email)
    expect_balance(page, 450)

    banner = page.locator("#expiry-banner")
    expect(banner).to_have_text(
        f"300 credits expire in 3 days, on {long_day(soon)} at {soon:%H:%M} UTC. "
        "Use them before they are gone."
    )
    expect(page.locator("#next-expiry")).to_have_text(f"300 credits expire on {long_day(soon)}")
    assert [row[1:] for row in _lot_rows(page)] == [
        ["300", "Promotional", long_day(soon)],
        ["50", "Paid", long_day(later)],
        ["100", "Paid", "Never"],
    ]
    screenshot(page, "dashboard-lots-banner")

    # Spending drains the soonest lot first; the page follows without a reload.
    token = generate_access_token(user.id, "example-ai")
    response = httpx.post(
        f"{live_app.api_url}/api/credits/spend",
        json={"amount": 310, "feature": "example-ai", "idempotencyKey": uuid.uuid4().hex},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    expect_balance(page, 140)
    expect(banner).to_have_count(0)
    expect(page.locator("#next-expiry")).to_have_text(f"40 credits expire on {long_day(later)}")
    assert [row[1:] for row in _lot_rows(page)] == [
        ["40", "Paid", long_day(later)],
        ["100", "Paid", "Never"],
    ]

    # A lot that runs out is expired by the sweep (here: called now) and the tab shows it.
    with session_scope(engine) as session:
        _grant(session, user.id, 7, "promotional", utcnow() + timedelta(seconds=2))
    expect_balance(page, 147)
    expect(page.locator("#expiry-banner")).to_contain_text("7 credits expire within the hour")
    time.sleep(2.5)
    with session_scope(engine) as session:
        expire_due_lots(session=session)  # unless the app's own sweep was quicker
        [lot_id] = session.exec(
            select(CreditLot.id).where(CreditLot.user_id == user.id, CreditLot.amount == 7)
        ).all()
    expect_balance(page, 140)
    expect(page.locator("#ledger tbody tr").first).to_contain_text(
        f"Credits expired (lot {lot_id})"
    )
    expect(page.locator("#ledger tbody tr").first).to_contain_text("-7")
    expect(page.locator("#expiry-banner")).to_have_count(0)
    screenshot(page, "dashboard-lot-expired")


def test_an_admin_grants_promotional_credits_that_expire_and_sees_readable_errors(
    visitor, live_app
):
    engine = engine_for(live_app.database_url)
    with session_scope(engine) as session:
        admin = make_user(session, email=new_email("admin"), is_admin=True)
        target = make_user(session, email=new_email("target"))
    page = visitor.new_page()
    page.goto("/admin/grant")
    login(page, admin.email, path="/admin/grant")
    page.fill("#find-email", target.email)
    page.click("#find-user")
    expect(page.locator("#found-user")).to_have_text(target.email)

    page.fill("#grant-amount", "75")
    page.fill("#grant-reason", "Launch promotion")
    page.fill("#grant-expires", "2020-01-01T12:00")
    page.click("#grant-submit")
    expect(page.locator("#grant-error")).to_have_text("Expiry: must be in the future")
    with read_session(engine) as session:
        assert session.exec(select(LedgerEntry).where(LedgerEntry.user_id == target.id)).all() == []
    # The form keeps what was typed, so only the expiry needs fixing.
    expect(page.locator("#grant-amount")).to_have_value("75")

    ends = (utcnow() + 10 * DAY).replace(hour=18, minute=30, second=0, microsecond=0)
    page.click("#grant-category")
    page.get_by_role("option", name="Promotional").click()
    page.fill("#grant-expires", ends.strftime("%Y-%m-%dT%H:%M"))
    page.click("#grant-submit")
    expect(page.locator("#found-balance")).to_contain_text("75")
    expect(page.locator("#grant-error")).to_have_count(0)
    expect(page.locator("#admin-ledger")).to_contain_text("Launch promotion")
    expect(page.locator("#grant-amount")).to_have_value("")
    screenshot(page, "admin-grant-lot")

    with read_session(engine) as session:
        [lot] = session.exec(select(CreditLot).where(CreditLot.user_id == target.id)).all()
    assert (lot.amount, lot.category, lot.source) == (75, "promotional", "admin")
    assert lot.expires_at == ends.astimezone(UTC)


@pytest.fixture
def signup_credits(monkeypatch):
    """Sign-up credits on (50, lasting 5 days) in the app, which runs in this process."""
    monkeypatch.setenv("SIGNUP_CREDITS", "50")
    monkeypatch.setenv("SIGNUP_CREDITS_EXPIRE_AFTER", "P5D")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_confirming_the_address_brings_the_sign_up_credits(visitor, live_app, signup_credits):
    page = visitor.new_page()
    email = new_email("signup")
    before = utcnow()

    register(page, email)

    expect_balance(page, 50)
    expect(page.locator("#expiry-banner")).to_have_text(
        re.compile(r"^50 credits expire in 5 days, on .* UTC\. Use them before they are gone\.$")
    )
    assert [row[1:] for row in _lot_rows(page)] == [
        ["50", "Promotional", long_day(before + 5 * DAY)]
    ]
    expect(page.locator("#ledger")).to_contain_text("Sign-up credits")
    screenshot(page, "dashboard-signup-credits")
