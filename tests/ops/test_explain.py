"""`python -m credits_app explain ENTRY_ID`: where a ledger entry came from, exactly.

Each case runs the real command in a subprocess against the test database.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from credits_app.models import CreditLot, LedgerEntry, StripeEvent, StripePurchase, User
from credits_app.observability.provenance import NO_EVENTS
from credits_app.services.admin_grants import admin_grant
from credits_app.services.holds import capture, reserve
from tests.billing.conftest import _api_server, _simulator, world  # noqa: F401 (fixtures)
from tests.support.cli import run_cli
from tests.support.factories import make_user

LIVE_KEY = "sk_live_ops0123456789abcdefghijklmn"


@pytest.fixture
def api_version() -> str:
    """One API version is enough here (`world` runs billing scenarios in two)."""
    return "2026-10-28.endive"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def _explain(db_url: str, *args: str, env: dict[str, str] | None = None) -> str:
    result = run_cli(db_url, "explain", *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    return result.stdout


def _event_lines(session: Session, object_ids: list[str]) -> list[str]:
    """What the command lists for these objects' events, by the table's own columns."""
    table = StripeEvent.__table__
    rows = session.execute(
        select(table.c.id, table.c.type, table.c.outcome, table.c.processed_at)
        .where(table.c.object_id.in_(object_ids))
        .order_by(table.c.processed_at, table.c.id)
    ).all()
    assert rows, "the purchase's own checkout.session.completed must be listed"
    return [f"  event:   {r.id} {r.type} {r.outcome} {_when(r.processed_at)}" for r in rows]


def test_a_grant_from_a_stripe_purchase(world):  # noqa: F811 (the fixture)
    user = world.new_user()
    checkout = world.buy(user, "price_sim_starter")
    with world.session() as session:
        entry = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == user)).one()
        purchase = session.get(StripePurchase, checkout)
        lot = session.exec(select(CreditLot).where(CreditLot.entry_id == entry.id)).one()
        email = session.get(User, user).email
        events = _event_lines(session, [checkout, purchase.payment_intent_id])
    intent = purchase.payment_intent_id

    test_mode = _explain(world.db_url, str(entry.id))
    live_mode = _explain(world.db_url, str(entry.id), env={"STRIPE_SECRET_KEY": LIVE_KEY})

    def expected(mode: str, dashboard: str) -> str:
        return "\n".join(
            [
                f"entry {entry.id}: Purchase (grant of 100, change +100, balance after 100)",
                f"  when:    {_when(entry.created_at)}",
                f"  user:    {user} ({email})",
                f"  reason:  Starter Pack (Stripe checkout {checkout})",
                f"  source:  stripe_checkout {checkout} (key stripe_checkout:{checkout})",
                f"  stripe:  checkout session {checkout} ({mode}) "
                f"{dashboard}/search?query={checkout}",
                f"  stripe:  payment {intent} ({mode}) {dashboard}/payments/{intent}",
                "  money:   paid 500 usd in minor units (billed 500) for 100 credits",
                *events,
                f"  created lot {lot.id}: 100 paid (purchase), 100 left, expires never",
                "",
            ]
        )

    assert test_mode == expected("test", "https://dashboard.stripe.com/test")
    assert live_mode == expected("live", "https://dashboard.stripe.com")


def _stripe_events_about(shop, object_ids: set[str]) -> set[str]:
    """The ids of the events Stripe (the simulator) sent about these objects."""
    listed = httpx.get(
        f"{shop.sim.url}/v1/events",
        params={"limit": 100},
        headers={"Authorization": "Bearer sk_test_billing_tests"},
    ).json()["data"]
    return {e["id"] for e in listed if e["data"]["object"].get("id") in object_ids}


def test_the_events_that_touched_a_purchase_are_listed(world):  # noqa: F811 (the fixture)
    user = world.new_user()
    checkout = world.buy(user, "price_sim_starter")
    with world.session() as session:
        entry = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == user)).one()
        intent = session.get(StripePurchase, checkout).payment_intent_id
    [completed] = world.events("checkout.session.completed")
    [succeeded] = world.events("payment_intent.succeeded")
    world.sim.resend(completed["id"])  # a redelivery is the same event, listed once
    world.sim.wait_for_deliveries()

    data = json.loads(_explain(world.db_url, str(entry.id), "--json"))
    text = _explain(world.db_url, str(entry.id))

    listed = [(e["id"], e["type"], e["outcome"]) for e in data["events"]]
    assert sorted(listed) == sorted(
        [
            (completed["id"], "checkout.session.completed", "applied"),
            (succeeded["id"], "payment_intent.succeeded", "ignored"),
        ]
    )
    assert {e["id"] for e in data["events"]} == _stripe_events_about(world, {checkout, intent})
    assert f"  event:   {completed['id']} checkout.session.completed applied " in text
    with world.session() as session:  # as events processed before migration 0011 are
        session.execute(update(StripeEvent).values(object_id=None))
        session.commit()
    older = _explain(world.db_url, str(entry.id))
    assert NO_EVENTS in older.splitlines()
    assert "  event:   " not in older


def test_the_events_that_touched_a_plans_invoice_are_listed(world):  # noqa: F811
    user = world.new_user()
    checkout = world.buy(user, "price_sim_monthly")
    subscription = world.stripe.v1.checkout.sessions.retrieve(checkout).subscription
    with world.session() as session:
        entry = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == user)).one()
        purchase = session.get(StripePurchase, entry.source_ref)

    data = json.loads(_explain(world.db_url, str(entry.id), "--json"))

    objects = {purchase.id, purchase.payment_intent_id, subscription}
    assert [o["id"] for o in data["stripe"]] == [
        purchase.id,
        purchase.payment_intent_id,
        subscription,
    ]
    assert {e["id"] for e in data["events"]} == _stripe_events_about(world, objects)
    types = sorted(e["type"] for e in data["events"])
    assert "invoice.paid" in types
    assert "customer.subscription.created" in types
    assert ("invoice.paid", "applied") in {(e["type"], e["outcome"]) for e in data["events"]}


def test_an_admin_grant(session, db_url):
    admin = make_user(session, is_admin=True)
    user = make_user(session)
    granted = admin_grant(
        session=session,
        admin_user_id=admin.id,
        user_id=user.id,
        amount=250,
        reason="goodwill for the outage",
        idempotency_key="ops-admin-1",
        category="promotional",
    )
    entry = session.get(LedgerEntry, granted.entry_id)
    lot = session.exec(select(CreditLot).where(CreditLot.entry_id == entry.id)).one()

    text = _explain(db_url, str(entry.id))
    data = json.loads(_explain(db_url, str(entry.id), "--json"))

    assert text == "\n".join(
        [
            f"entry {entry.id}: Admin grant (grant of 250, change +250, balance after 250)",
            f"  when:    {_when(entry.created_at)}",
            f"  user:    {user.id} ({user.email})",
            "  reason:  goodwill for the outage",
            "  source:  admin (key ops-admin-1)",
            f"  granted: via admin page by {admin.email} (user {admin.id})",
            f"  created lot {lot.id}: 250 promotional (admin), 250 left, expires never",
            "",
        ]
    )
    assert data == {
        "entry": {
            "id": entry.id,
            "kind": "grant",
            "amount": 250,
            "delta": 250,
            "held_delta": 0,
            "debt_delta": 0,
            "balance_after": 250,
            "held_after": 0,
            "debt_after": 0,
            "feature": None,
            "reason": "goodwill for the outage",
            "source": "admin",
            "source_ref": None,
            "idempotency_key": "ops-admin-1",
            "actor_user_id": admin.id,
            "hold_id": None,
            "created_at": entry.created_at.isoformat(),
        },
        "label": "Admin grant",
        "user": {"id": user.id, "email": user.email},
        "stripe": [],
        "stripe_mode": "test",
        "money": None,
        "events": [],
        "granted_by": {"via": "admin page", "admin": {"id": admin.id, "email": admin.email}},
        "hold": None,
        "lots_created": [
            {
                "id": lot.id,
                "amount": 250,
                "remaining": 250,
                "category": "promotional",
                "source": "admin",
                "funded_by": None,
                "effective_at": lot.effective_at.isoformat(),
                "expires_at": None,
            }
        ],
        "lots_moved": [],
        "hold_lots": [],
    }


def test_a_capture(session, db_url):
    user = make_user(session, credits=100)
    [lot] = session.exec(select(CreditLot)).all()
    hold = reserve(
        session=session, user_id=user.id, amount=20, feature="chat", idempotency_key="job-1"
    )
    done = capture(
        session=session,
        user_id=user.id,
        hold_id=hold.hold_id,
        amount=12,
        idempotency_key="job-1-capture",
    )
    entry = session.get(LedgerEntry, done.entry_id)

    text = _explain(db_url, str(entry.id))

    assert text == "\n".join(
        [
            f"entry {entry.id}: Charged on chat (capture of 12, change -12, balance after 88)",
            f"  when:    {_when(entry.created_at)}",
            f"  user:    {user.id} ({user.email})",
            "  feature: chat",
            f"  source:  hold hold:{hold.hold_id} (key job-1-capture)",
            f"  hold:    {hold.hold_id} (API reservation, chat): reserved 20, captured 12, "
            "captured",
            # The reserve drew 20 from the lot; the capture gave back the 8 it did not use.
            f"  moved lot {lot.id} (paid): +8",
            f"  the hold in all took from lot {lot.id} (paid): -12",
            "",
        ]
    )


def test_a_missing_entry_is_a_clear_error(db_url):
    result = run_cli(db_url, "explain", "999999")

    assert result.returncode == 1
    assert (result.stdout, result.stderr) == ("", "error: no ledger entry 999999\n")


@pytest.mark.parametrize("entry_id", ["0", "abc", "-3", str(2**63)])
def test_a_malformed_entry_id_is_a_usage_error(sqlite_url, entry_id):
    result = run_cli(sqlite_url, "explain", entry_id)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.endswith(
        f"error: argument ENTRY_ID: not a ledger entry id: {entry_id!r}\n"
    )
