"""/admin/reconcile in a browser: a dropped webhook delivery is found, repaired once, and gone.

The simulator's forwarding is switched off while a user pays for a pack, so Stripe has a
paid session whose `checkout.session.completed` never reached the app. An admin runs the
reconciliation, sees that session as `paid_not_granted` with its Dashboard link and user,
clicks Repair, and the user's own open dashboard shows the credits arrive. A second run
finds nothing.
"""

from __future__ import annotations

import json
import os
import time

import httpx
import stripe
from playwright.sync_api import expect
from sqlmodel import select

from credits_app.db import engine_for, read_session, session_scope
from credits_app.models import LedgerEntry, ReconcileDecision
from credits_app.services.sessions import start_session
from credits_app.services.tokens import generate_access_token
from credits_app.state.admin_reconcile import AdminReconcileState
from credits_app.stripe_sim.control import SimControl
from tests.billing.support import sign
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import STARTER_PACK_CREDITS, expect_balance, login, new_email
from tests.support.factories import make_user


def _make(live_app, **kwargs):
    with session_scope(engine_for(live_app.database_url)) as session:
        return make_user(session, email=new_email(kwargs.pop("prefix", "user")), **kwargs)


def _buy_without_delivery(live_app, user_id: int) -> str:
    """Check out through the app's API and pay at the simulator while forwarding is off."""
    sim = SimControl(live_app.sim_url)
    token = generate_access_token(user_id, "billing")
    response = httpx.post(
        f"{live_app.api_url}/api/billing/checkout-session",
        json={"priceId": "price_sim_starter"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    session_id = response.json()["id"]
    sim.wait_for_deliveries()
    sim.configure(forward_to="")
    try:
        sim.pay(session_id)
    finally:
        sim.configure(forward_to=f"{live_app.api_url}/api/webhooks/stripe")
        sim.close()
    return session_id


def test_an_admin_finds_a_dropped_delivery_repairs_it_and_the_user_gets_the_credits(
    visitor, live_app
):
    admin = _make(live_app, prefix="admin", is_admin=True)
    buyer = _make(live_app, prefix="buyer")
    session_id = _buy_without_delivery(live_app, buyer.id)

    # The buyer watches their dashboard: nothing arrived.
    buyer_page = visitor.new_page()
    buyer_page.goto("/dashboard")
    login(buyer_page, buyer.email)
    expect_balance(buyer_page, 0)

    admin_context = visitor.context.browser.new_context(
        base_url=live_app.url, viewport={"width": 1280, "height": 900}
    )
    admin_context.set_default_timeout(20_000)
    try:
        page = admin_context.new_page()
        page.goto("/admin/reconcile")
        login(page, admin.email, path="/admin/reconcile")
        expect(page.locator("#reconcile-days")).to_have_value("3")
        page.click("#reconcile-run")
        row = page.locator(f".drift-row[data-object='{session_id}']")
        expect(row).to_be_visible()
        expect(row).to_contain_text("paid_not_granted")
        expect(row).to_contain_text("paid $5.00 at Checkout for 100 credits, never credited")
        expect(row).to_contain_text("Stripe shows it paid, but it never became credits")
        expect(row.locator(".drift-status")).to_have_text("open")
        expect(row.locator(".drift-object")).to_have_attribute(
            "href", f"https://dashboard.stripe.com/test/search?query={session_id}"
        )
        expect(row.locator(".drift-user")).to_have_attribute("href", f"/admin/users/{buyer.id}")
        expect(page.locator("#reconcile-open")).to_have_text("1 open")
        screenshot(page, "admin-reconcile-drift")

        row.locator(".drift-repair").click()
        expect(page.locator("#reconcile-message")).to_have_text(
            f"Repaired {session_id}: the comparison finds it resolved."
        )
        expect(row.locator(".drift-status")).to_have_text("repaired")
        expect(row.locator(".drift-repair")).to_have_count(0)
        expect(page.locator("#reconcile-open")).to_have_text("0 open")
        # The buyer's open tab shows the credits, granted once.
        expect_balance(buyer_page, STARTER_PACK_CREDITS)
        screenshot(page, "admin-reconcile-repaired")

        page.click("#reconcile-run")
        expect(page.locator("#reconcile-clean")).to_be_visible()
        expect(page.locator(".drift-row")).to_have_count(0)
        expect(page.locator("#reconcile-open")).to_have_text("0 open")
    finally:
        admin_context.close()

    with read_session(engine_for(live_app.database_url)) as session:
        entries = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == buyer.id)).all()
    assert [(e.kind, e.source, e.source_ref, e.amount) for e in entries] == [
        ("grant", "stripe_checkout", session_id, STARTER_PACK_CREDITS)
    ]


def _forge_paid(live_app, user_id: int) -> str:
    """Credits for a session nobody paid: a lying event, signed with the app's real secret."""
    token = generate_access_token(user_id, "billing")
    response = httpx.post(
        f"{live_app.api_url}/api/billing/checkout-session",
        json={"priceId": "price_sim_starter"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    session_id = response.json()["id"]
    client = stripe.StripeClient("sk_test_e2e", base_addresses={"api": live_app.sim_url})
    unpaid = client.v1.checkout.sessions.retrieve(session_id).to_dict()
    claimed = {**unpaid, "status": "complete", "payment_status": "paid", "payment_intent": None}
    event = {
        "id": f"evt_forged_{session_id[-12:]}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "data": {"object": claimed},
        "livemode": False,
        "type": "checkout.session.completed",
    }
    payload = json.dumps(event).encode()
    signature = sign(payload, secret=os.environ["STRIPE_WEBHOOK_SECRET"])
    delivered = httpx.post(
        f"{live_app.api_url}/api/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": signature},
        timeout=30,
    )
    assert delivered.status_code == 200, delivered.text
    return session_id


def test_an_admin_claws_back_credits_nobody_paid_for_with_a_reason(visitor, live_app):
    admin = _make(live_app, prefix="admin", is_admin=True)
    user = _make(live_app, prefix="lucky")
    session_id = _forge_paid(live_app, user.id)
    page = visitor.new_page()
    page.goto("/admin/reconcile")
    login(page, admin.email, path="/admin/reconcile")
    page.click("#reconcile-run")
    row = page.locator(f".drift-row[data-object='{session_id}']")
    expect(row).to_contain_text("granted 100 credits, but at Stripe it is open, not paid")
    expect(row.locator(".drift-repair")).to_have_count(0)
    expect(page.locator("#reconcile-open")).to_have_text("1 open")

    row.locator(".decision-choice").select_option("clawback")
    row.locator(".decision-submit").click()  # no reason yet
    expect(page.locator("#reconcile-error")).to_have_text("Reason: must be a non-empty string")
    expect(row.locator(".drift-status")).to_have_text("open")

    row.locator(".decision-reason input").fill("Forged event: the session was never paid")
    row.locator(".decision-submit").click()
    expect(row.locator(".drift-status")).to_have_text("decided")
    expect(row.locator(".drift-decided")).to_contain_text(f"clawed back 100 by {admin.email} at ")
    expect(row.locator(".drift-decided")).to_contain_text(
        ": Forged event: the session was never paid"
    )
    expect(row.locator(".decision-submit")).to_have_count(0)
    expect(page.locator("#reconcile-open")).to_have_text("0 open")
    screenshot(page, "admin-reconcile-decided")

    # Still listed on the next run, with its decision, and not open.
    page.click("#reconcile-run")
    expect(row.locator(".drift-status")).to_have_text("decided")
    expect(page.locator("#reconcile-open")).to_have_text("0 open")
    expect(page.locator(".decision-history")).to_contain_text(session_id)
    with read_session(engine_for(live_app.database_url)) as session:
        entries = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == user.id)).all()
    assert [(e.kind, e.source, e.amount, e.balance_after) for e in entries] == [
        ("grant", "stripe_checkout", 100, 100),
        ("clawback", "reconcile", 100, 0),
    ]


def test_a_non_admin_sees_403_on_the_reconcile_page(visitor, live_app):
    user = _make(live_app, prefix="plain")
    page = visitor.new_page()
    page.goto("/admin/reconcile")
    login(page, user.email, path="/admin/reconcile")
    expect(page.locator("#forbidden")).to_be_visible()
    expect(page.locator("#reconcile-run")).to_have_count(0)


# --- the state over its websocket, as a tampering client would send events ----------------


def _tab(live_app, user_id: int):
    """A socket on /admin/reconcile, signed in as the user, after the page's on_load."""
    from reflex.state import State

    from credits_app.state.auth import AuthState
    from tests.support.reflex_socket import STATE_SUFFIX, ReflexSocket

    with session_scope(engine_for(live_app.database_url)) as session:
        token = start_session(session=session, user_id=user_id, user_agent="socket test")
    tab = ReflexSocket(live_app.api_url, path="/admin/reconcile")
    storage = {f"{AuthState.get_full_name()}.session_token{STATE_SUFFIX}": token}
    done = (AuthState.get_full_name(), "auth_checked", True)
    tab._emit(f"{State.get_full_name()}.hydrate_and_load", {"vars": storage}, done, 30)
    return tab


def _session_lists(live_app) -> int:
    """How many times the checkout sessions were listed (once per reconcile run)."""
    sim = SimControl(live_app.sim_url)
    try:
        found = sim.requests("/v1/checkout/sessions")
    finally:
        sim.close()
    return sum(
        1
        for r in found
        if r["method"] == "GET"
        and r["path"] == "/v1/checkout/sessions"
        and "payment_intent" not in r["params"]
    )


def _decisions(live_app) -> int:
    with read_session(engine_for(live_app.database_url)) as session:
        return len(session.exec(select(ReconcileDecision)).all())


def test_the_state_refuses_a_non_admin_before_it_talks_to_stripe(live_app):
    plain = _make(live_app, prefix="socket-plain")
    buyer = _make(live_app, prefix="socket-buyer")
    session_id = _buy_without_delivery(live_app, buyer.id)
    lists, decided = _session_lists(live_app), _decisions(live_app)
    tab = _tab(live_app, plain.id)
    try:
        for handler, payload in (
            (AdminReconcileState.run, {}),
            (AdminReconcileState.repair_all, {}),
            (AdminReconcileState.repair, {"key": f"paid_not_granted|{session_id}"}),
            (
                AdminReconcileState.decide,
                {"form": {"key": f"paid_not_granted|{session_id}", "reason": "x"}},
            ),
        ):
            tab.send(handler, **payload)
        assert tab.var(AdminReconcileState, "ran") is False
        assert tab.var(AdminReconcileState, "running") is False
        assert tab.var(AdminReconcileState, "items") == []
        assert tab.var(AdminReconcileState, "error") == ""
    finally:
        tab.close()
    assert (_session_lists(live_app), _decisions(live_app)) == (lists, decided)
    with read_session(engine_for(live_app.database_url)) as session:
        entries = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == buyer.id)).all()
    assert entries == []

    # An admin's tab repairs it (so the package's later tests start clean).
    admin = _make(live_app, prefix="socket-admin", is_admin=True)
    tab = _tab(live_app, admin.id)
    try:
        for bad in ("0", "3661", "three", "-1"):
            tab.send(AdminReconcileState.set_days, value=bad)
            tab.send(AdminReconcileState.run)
            assert tab.var(AdminReconcileState, "error") == (
                "Window: must be a whole number of days from 1 to 3660"
            )
            assert tab.var(AdminReconcileState, "ran") is False
        assert _session_lists(live_app) == lists
        tab.send(AdminReconcileState.set_days, value="3")
        tab.send(AdminReconcileState.run, until=("ran", True))
        assert tab.var(AdminReconcileState, "error") == ""
        key = f"paid_not_granted|{session_id}"
        # (Drift an earlier test decided about is listed too, as decided.)
        rows = tab.var(AdminReconcileState, "items")
        assert [r["key"] for r in rows if r["status"] == "open"] == [key]
        tab.send(AdminReconcileState.repair, until=("repaired_count", 1), key=key)
        assert tab.var(AdminReconcileState, "open_count") == 0
    finally:
        tab.close()


def test_a_second_run_click_while_one_runs_does_nothing(live_app):
    from tests.support.reflex_socket import NAMESPACE

    admin = _make(live_app, prefix="double", is_admin=True)
    before = _session_lists(live_app)
    tab = _tab(live_app, admin.id)
    try:
        name = f"{AdminReconcileState.get_full_name()}.run"
        first = {"name": name, "payload": {}, "router_data": tab._router_data()}
        tab._client.emit("event", first, namespace=NAMESPACE)  # no waiting: a double click
        tab.send(AdminReconcileState.run, until=("ran", True))
        assert tab.var(AdminReconcileState, "running") is False
    finally:
        tab.close()
    assert _session_lists(live_app) == before + 1
