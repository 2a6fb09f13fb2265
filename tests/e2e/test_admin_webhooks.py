"""/admin/webhooks: an admin finds a failed delivery and re-applies it; others get a 403.

The failure is a real one: a user pays a plan while the app cannot reach Stripe, so the
plan's `invoice.paid` cannot be handled (the simulator delivers it once, as told). The app's
backend runs in this process (AppHarness), so pointing its settings at a dead address is
what an outage looks like to it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import expect
from sqlmodel import select

from credits_app.db import engine_for, read_session, session_scope
from credits_app.models import LedgerEntry, WebhookDelivery
from credits_app.services.accounts import balance_of
from credits_app.services.billing import stripe_client
from credits_app.services.tokens import generate_access_token
from credits_app.settings import get_settings
from credits_app.stripe_sim.config import DEFAULT_RETRY_DELAYS
from credits_app.stripe_sim.control import SimControl
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import MONTHLY_PLAN_CREDITS, login, new_email, register
from tests.support.factories import make_user


def _make(live_app, **kwargs):
    with session_scope(engine_for(live_app.database_url)) as session:
        return make_user(session, email=new_email(kwargs.pop("prefix", "user")), **kwargs)


def _dead_address() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def _point_stripe_at(address: str) -> None:
    os.environ["STRIPE_API_BASE"] = address
    get_settings.cache_clear()
    stripe_client._client.cache_clear()


@contextmanager
def _stripe_unreachable(live_app, sim: SimControl) -> Iterator[None]:
    """The app cannot reach Stripe, and the simulator delivers each event only once."""
    sim.configure(retry_delays=[])
    _point_stripe_at(_dead_address())
    try:
        yield
    finally:
        _point_stripe_at(live_app.sim_url)
        sim.configure(retry_delays=list(DEFAULT_RETRY_DELAYS))


def _plan_paid_during_an_outage(live_app, user_id: int) -> str:
    """Buy the monthly plan through the app, pay it while Stripe is unreachable; returns
    the id of the `invoice.paid` event that failed."""
    token = generate_access_token(user_id, "billing")
    answer = httpx.post(
        f"{live_app.api_url}/api/billing/checkout-session",
        json={"priceId": "price_sim_monthly"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    sim = SimControl(live_app.sim_url)
    try:
        with _stripe_unreachable(live_app, sim):
            sim.pay(answer.json()["id"])
            sim.wait_for_deliveries(timeout=60)
    finally:
        sim.close()
    with read_session(engine_for(live_app.database_url)) as session:
        [failed] = session.exec(
            select(WebhookDelivery).where(
                WebhookDelivery.type == "invoice.paid", WebhookDelivery.outcome == "failed"
            )
        ).all()
    return failed.event_id


def _balance(live_app, user_id: int) -> int:
    with read_session(engine_for(live_app.database_url)) as session:
        return balance_of(session=session, user_id=user_id).balance


def test_an_admin_reapplies_a_failed_delivery_and_the_credits_arrive_once(visitor, live_app):
    admin = _make(live_app, prefix="admin", is_admin=True)
    buyer = _make(live_app, prefix="buyer")
    event_id = _plan_paid_during_an_outage(live_app, buyer.id)
    assert _balance(live_app, buyer.id) == 0

    page = visitor.new_page()
    page.goto("/admin/webhooks")
    login(page, admin.email, path="/admin/webhooks")
    page.fill("#filter-type", "invoice paid")
    page.click("#filter-submit")
    expect(page.locator("#webhooks-error")).to_have_text(
        "Type must be (part of) an event type, e.g. invoice.paid."
    )
    page.fill("#filter-type", "invoice.paid")
    page.fill("#filter-search", event_id)
    page.click("#filter-submit")
    expect(page.locator("#webhooks-error")).to_have_count(0)
    row = page.locator(".delivery")
    expect(row).to_have_count(1)
    expect(row.locator(".outcome")).to_have_text("failed")
    expect(row).to_contain_text("invoice.paid")
    expect(row).to_contain_text("could not be reached to fetch a subscription")
    screenshot(page, "admin-webhooks-failed")

    row.locator(".reapply").click()

    expect(page.locator("#reapply-message")).to_have_text(
        f"{event_id} (invoice.paid): Applied: the event was applied now."
    )
    expect(page.locator(".delivery")).to_have_count(2)
    newest = page.locator(".delivery").first
    expect(newest.locator(".outcome")).to_have_text("applied")
    expect(newest).to_contain_text(f"re-applied by admin #{admin.id}")
    expect(page.locator(".delivery").nth(1)).to_contain_text("since applied")
    screenshot(page, "admin-webhooks-reapplied")

    page.goto("/admin/grant")
    page.fill("#find-email", buyer.email)
    page.click("#find-user")
    expect(page.locator("#found-balance")).to_have_text(f"{MONTHLY_PLAN_CREDITS} credits")
    with read_session(engine_for(live_app.database_url)) as session:
        grants = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == buyer.id)).all()
    assert [(g.kind, g.delta) for g in grants] == [("grant", MONTHLY_PLAN_CREDITS)]


def test_a_non_admin_sees_403_and_no_deliveries(visitor, live_app):
    page = visitor.new_page()
    register(page, new_email("plain"))

    page.goto("/admin/webhooks")

    expect(page.locator("#forbidden")).to_be_visible()
    expect(page.locator(".delivery")).to_have_count(0)
    expect(page.locator("#filter-search")).to_have_count(0)
