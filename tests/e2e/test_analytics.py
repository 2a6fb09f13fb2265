"""Usage analytics in a real browser: a user's range, top features and errors; admin flows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import text

from credits_app.db import engine_for, read_session, session_scope
from credits_app.services.ledger import grant_credits, spend_credits
from credits_app.services.lots import LotTerms
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import login, new_email
from tests.support.factories import make_user

NOON = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def _user_with_usage(live_app):
    """A user who used chat 5 + 7 two days ago, image 3 yesterday and chat 1 today."""
    with session_scope(engine_for(live_app.database_url)) as session:
        user = make_user(session, email=new_email("analytics"))
        grant_credits(
            session=session, user_id=user.id, amount=100, reason="start",
            idempotency_key=f"start-{user.id}",
            terms=LotTerms(effective_at=NOON - timedelta(days=10)),
            now=NOON - timedelta(days=10),
        )  # fmt: skip
        usage = [("chat", 5, 2), ("chat", 7, 2), ("image", 3, 1), ("chat", 1, 0)]
        for n, (feature, amount, days_ago) in enumerate(usage):
            spend_credits(
                session=session, user_id=user.id, amount=amount, feature=feature,
                idempotency_key=f"use-{user.id}-{n}", now=NOON - timedelta(days=days_ago),
            )  # fmt: skip
        return user


def test_a_user_reads_usage_per_feature_and_picks_a_range(visitor, live_app):
    user = _user_with_usage(live_app)
    page = visitor.new_page()
    page.goto("/analytics")
    login(page, user.email, path="/analytics")

    expect(page.locator("#stat-used")).to_have_text("16")
    expect(page.locator("#stat-uses")).to_have_text("4")
    expect(page.locator("#stat-bought")).to_have_text("0")
    rows = page.locator("#feature-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("chat13381%")
    expect(rows.nth(1)).to_contain_text("image3118%")
    expect(page.locator("#usage-chart .recharts-bar-rectangle").first).to_be_visible()
    screenshot(page, "analytics")

    yesterday = (NOON - timedelta(days=1)).date().isoformat()
    page.fill("#range-from", yesterday)
    page.fill("#range-to", yesterday)
    page.click("#range-show")
    expect(page.locator("#stat-used")).to_have_text("3")
    expect(rows).to_have_count(1)

    page.fill("#range-from", NOON.date().isoformat())
    page.fill("#range-to", yesterday)
    page.click("#range-show")
    expect(page.locator("#range-error")).to_contain_text("From: must not be after 'to'")
    expect(page.locator("#stat-used")).to_have_text("3")  # the last good range stays

    page.get_by_role("button", name="7 days").click()
    expect(page.locator("#stat-used")).to_have_text("16")
    expect(page.locator("#range-error")).to_have_count(0)


def test_admins_see_everyones_credit_flows_per_day(visitor, live_app):
    _user_with_usage(live_app)
    with session_scope(engine_for(live_app.database_url)) as session:
        admin = make_user(session, email=new_email("admin"), is_admin=True)
    first = (NOON - timedelta(days=29)).date().isoformat()
    with read_session(engine_for(live_app.database_url)) as session:
        used = session.exec(
            text(
                "SELECT -SUM(delta) FROM credit_ledger WHERE kind IN ('spend', 'capture')"
                " AND date(created_at) >= :first"
            ),
            params={"first": first},
        ).scalar_one()
        outstanding = session.exec(text("SELECT SUM(delta) FROM credit_ledger")).scalar_one()

    page = visitor.new_page()
    page.goto("/admin/analytics")
    login(page, admin.email, path="/admin/analytics")
    expect(page.locator("#stat-used")).to_have_text(str(used))
    expect(page.locator("#stat-outstanding")).to_have_text(str(outstanding))
    expect(page.locator("#admin-flow-table tbody tr")).to_have_count(30)
    screenshot(page, "admin-analytics")


def test_a_non_admin_gets_a_403_on_admin_analytics(visitor, live_app):
    user = _user_with_usage(live_app)
    page = visitor.new_page()
    page.goto("/admin/analytics")
    login(page, user.email, path="/admin/analytics")
    expect(page.locator("#forbidden")).to_be_visible()
    expect(page.locator("#stat-sold")).to_have_count(0)
