"""Subscribing to a plan on the simulator's checkout page, then cancelling it in the portal."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import Session, select

from credits_app.db import make_engine
from credits_app.models import LedgerEntry
from credits_app.services.users import find_user_by_email
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import MONTHLY_PLAN_CREDITS, balance, expect_balance, new_email, register


def test_subscribe_to_a_plan_then_cancel_it_in_the_portal(visitor, live_app):
    page = visitor.new_page()
    email = new_email("subscriber")
    page.goto("/register")
    register(page, email)

    page.goto("/credits")
    page.locator("#buy-price_sim_monthly").click()
    page.wait_for_url("**/checkout/**")
    page.get_by_role("button", name=re.compile("Subscribe")).click()
    page.wait_for_url("**/credits/success**")
    expect(page.locator("#purchase-arrived")).to_be_visible(timeout=15_000)
    assert balance(page) == MONTHLY_PLAN_CREDITS

    page.goto("/credits")
    expect(page.locator("#buy-price_sim_monthly")).to_have_text("Current plan")
    expect(page.locator("#buy-price_sim_monthly")).to_be_disabled()
    screenshot(page, "credits-with-plan")

    page.goto("/dashboard")
    expect(page.get_by_role("heading", name="Monthly Plan")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Renews \w+ \d+, \d{4}"))).to_be_visible()
    page.locator("#manage-subscription").click()
    page.wait_for_url("**/portal/**")
    screenshot(page, "simulator-portal")
    page.get_by_role("button", name="Cancel at period end").click()
    expect(page.get_by_text(re.compile("Cancels on"))).to_be_visible()
    page.get_by_text("Return to the site").click()

    page.wait_for_url(re.compile(r".*/dashboard/?$"))
    expect(page.get_by_text(re.compile(r"Ends \w+ \d+, \d{4}"))).to_be_visible(timeout=15_000)
    expect(page.locator("#manage-subscription")).to_be_enabled()
    expect_balance(page, MONTHLY_PLAN_CREDITS)  # cancelling keeps the paid period's credits
    screenshot(page, "dashboard-plan-cancelling")

    with Session(make_engine(live_app.database_url)) as session:
        user = find_user_by_email(session=session, email=email)
        grants = session.exec(
            select(LedgerEntry.source, LedgerEntry.delta).where(
                LedgerEntry.user_id == user.id, LedgerEntry.kind == "grant"
            )
        ).all()
    assert [tuple(grant) for grant in grants] == [("stripe_invoice", MONTHLY_PLAN_CREDITS)]
