"""An admin answers "why does this user have N credits?" in the browser, without SQL.

They find the user by a part of their email, open the user's page (balance, lots, payments,
ledger), click a ledger entry and see where it came from: an admin grant names the admin
and the reason, a purchase names its Checkout session and payment with Stripe Dashboard
links. A non-admin gets the 403 page and none of the user's data.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect
from sqlmodel import select

from credits_app.db import engine_for, read_session, session_scope
from credits_app.models import LedgerEntry, StripePurchase
from credits_app.services.admin_grants import admin_grant
from credits_app.services.tokens import generate_access_token
from credits_app.stripe_sim.control import SimControl
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import STARTER_PACK_CREDITS, login, new_email, register, route_pattern
from tests.support.factories import make_user

DASHBOARD = "https://dashboard.stripe.com/test"


def _buy_pack(live_app, user_id: int) -> str:
    """Buy the Starter Pack through the app's API and the simulator; the Checkout session id."""
    token = generate_access_token(user_id, "billing")
    response = httpx.post(
        f"{live_app.api_url}/api/billing/checkout-session",
        json={"priceId": "price_sim_starter"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    session_id = response.json()["id"]
    control = SimControl(live_app.sim_url)
    control.pay(session_id)
    control.wait_for_deliveries()
    control.close()
    return session_id


def test_an_admin_traces_a_users_credits_to_the_grant_and_the_purchase(visitor, live_app):
    engine = engine_for(live_app.database_url)
    with session_scope(engine) as session:
        admin = make_user(session, email=new_email("root"), is_admin=True)
        target = make_user(session, email=new_email("Traced.Customer"))
    checkout = _buy_pack(live_app, target.id)
    with session_scope(engine) as session:
        granted = admin_grant(
            session=session,
            admin_user_id=admin.id,
            user_id=target.id,
            amount=40,
            reason="Goodwill for the outage",
            idempotency_key=f"e2e-trace-{target.id}",
        )
    with read_session(engine) as session:
        intent = session.get(StripePurchase, checkout).payment_intent_id
        bought = session.exec(
            select(LedgerEntry.id).where(LedgerEntry.source_ref == checkout)
        ).one()

    page = visitor.new_page()
    page.goto("/admin/users")
    login(page, admin.email, path="/admin/users")
    expect(page.locator("#users")).to_contain_text(admin.email)  # newest first, everyone
    page.fill("#user-query", target.email.split("@")[0].upper())
    page.click("#user-search")
    rows = page.locator("#users tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(target.email)
    expect(rows.first).to_contain_text(str(STARTER_PACK_CREDITS + 40))
    screenshot(page, "admin-users")

    rows.first.get_by_role("link", name=target.email).click()
    page.wait_for_url(route_pattern(f"/admin/users/{target.id}"))
    expect(page.locator("#user-email")).to_have_text(target.email)
    expect(page.locator("#user-balance")).to_have_text("140")
    expect(page.locator("#user-available")).to_have_text("140")
    expect(page.locator("#user-payments")).to_contain_text(checkout)
    expect(page.locator("#user-payments")).to_contain_text("$5.00")
    ledger = page.locator("#user-ledger tbody tr")
    expect(ledger).to_have_count(2)
    expect(ledger.nth(0)).to_contain_text("Admin grant")
    expect(ledger.nth(0)).to_contain_text("Goodwill for the outage")
    expect(ledger.nth(0)).to_contain_text(admin.email)
    expect(ledger.nth(1)).to_contain_text("Purchase")
    expect(ledger.nth(1)).to_contain_text("+100")
    screenshot(page, "admin-user")

    # The admin grant: who granted it, why, and the lot it made.
    ledger.nth(0).get_by_role("link", name="Admin grant").click()
    page.wait_for_url(route_pattern(f"/admin/entries/{granted.entry_id}"))
    expect(page.locator("#entry-title")).to_have_text(f"Entry #{granted.entry_id}: Admin grant")
    expect(page.locator("#entry-admin")).to_have_text(admin.email)
    expect(page.locator("#entry-granted")).to_contain_text("via admin page")
    expect(page.locator("#entry-facts")).to_contain_text("Goodwill for the outage")
    expect(page.locator("#entry-lots")).to_contain_text("40 paid (admin), 40 left, expires never")
    screenshot(page, "admin-entry-grant")

    # Back to the user, then the purchase: its Checkout session and payment on Stripe.
    page.locator("#entry-user").click()
    page.wait_for_url(route_pattern(f"/admin/users/{target.id}"))
    page.locator("#user-ledger tbody tr").nth(1).get_by_role("link", name="Purchase").click()
    page.wait_for_url(route_pattern(f"/admin/entries/{bought}"))
    expect(page.locator("#entry-title")).to_have_text(f"Entry #{bought}: Purchase")
    stripe = page.locator("#entry-stripe")
    expect(stripe.get_by_role("link", name=checkout)).to_have_attribute(
        "href", f"{DASHBOARD}/search?query={checkout}"
    )
    expect(stripe.get_by_role("link", name=intent)).to_have_attribute(
        "href", f"{DASHBOARD}/payments/{intent}"
    )
    expect(page.locator("#entry-money")).to_have_text("Paid $5.00 for 100 credits")
    screenshot(page, "admin-entry-purchase")

    # From the user's page to the grant form, with the user already looked up; its
    # ledger links to the same traces.
    page.goto(f"/admin/users/{target.id}")
    page.locator("#user-grant").click()
    page.wait_for_url(re.compile(r".*/admin/grant/?\?email="))
    expect(page.locator("#found-user")).to_have_text(target.email)
    page.locator("#admin-ledger").get_by_role("link", name="Purchase").click()
    page.wait_for_url(route_pattern(f"/admin/entries/{bought}"))
    expect(page.locator("#entry-title")).to_have_text(f"Entry #{bought}: Purchase")


def test_unknown_pages_say_so_and_non_admins_see_nothing(visitor, live_app):
    with session_scope(engine_for(live_app.database_url)) as session:
        admin = make_user(session, email=new_email("root"), is_admin=True)
        secret = make_user(session, email=new_email("secret"), credits=7)
    page = visitor.new_page()
    page.goto("/admin/users/999999")
    login(page, admin.email, path="/admin/users/999999")
    expect(page.locator("#user-missing")).to_have_text("No such user.")
    page.goto("/admin/users/not-a-number")
    expect(page.locator("#user-missing")).to_have_text("No such user.")
    page.goto("/admin/entries/0")
    expect(page.locator("#entry-missing")).to_have_text("No such ledger entry.")
    page.goto("/admin/entries/99999999999999999999999")
    expect(page.locator("#entry-missing")).to_have_text("No such ledger entry.")
    page.goto("/admin/users")
    page.fill("#user-query", "bad\u0001query")
    page.click("#user-search")
    expect(page.locator("#users-error")).to_have_text("Query must not contain control characters.")

    other = visitor.context.browser.new_context(base_url=live_app.url)
    plain = other.new_page()
    register(plain, new_email("plain"))
    for path in (f"/admin/users/{secret.id}", "/admin/users", "/admin/entries/1"):
        plain.goto(path)
        expect(plain.locator("#forbidden")).to_be_visible()
    assert secret.email not in plain.content()
    other.close()
