"""Lots in billing: how long bought credits last, and which lots refunds and disputes touch.

Prices say how long their credits last in their metadata (`creditsExpireAfter`,
`rolloverMax`); each purchase becomes one lot on those terms. Refunds and disputes take
back from the lot their payment funded first; won disputes and failed refunds give the
credits back with the original expiry. Every test runs with events in today's API version
and in 2024-06-20, on SQLite and PostgreSQL.

The simulator's test clock runs ahead of the app's: a renewal it bills a month from now is
processed by the app today. Tests therefore run the expiry sweep at the moment a lot ends
(`expire_due_lots(now=...)`) instead of waiting for it.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from credits_app.models import CreditLot, LotAllocation, Price, utcnow
from credits_app.services.holds.expiry import expire_due_lots
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import spend_credits
from credits_app.services.lots import add_months
from credits_app.settings import get_settings
from tests.billing.conftest import API_VERSIONS
from tests.billing.support import ADMIN_KEY, RATES, paid_invoices, start_trial, subscribe, switch
from tests.support.cli import assert_check_ok

DAY = 24 * 3600
MONTH = 31 * DAY


# --- helpers -------------------------------------------------------------------------------


def add_price(
    world, name: str, amount: int, credits: int, interval: str | None = None, **metadata: str
) -> str:
    """Create a price with `includedCredits` and more metadata, import it, return its id."""
    product = world.stripe.v1.products.create({"name": name})
    params: dict[str, Any] = {
        "product": product.id,
        "unit_amount": amount,
        "currency": "usd",
        "metadata": {"includedCredits": str(credits), **metadata},
    }
    if interval:
        params["recurring"] = {"interval": interval}
    price = world.stripe.v1.prices.create(params)
    synced = world.http.post("/api/billing/sync-prices", headers={"x-admin-key": ADMIN_KEY})
    assert synced.status_code == 200, synced.text
    assert price.id in synced.json()["imported"], synced.json()
    RATES[price.id] = (amount, credits)
    return price.id


def lots(world, user_id: int) -> list[CreditLot]:
    """The user's lots, oldest first."""
    with world.session() as session:
        query = select(CreditLot).where(CreditLot.user_id == user_id).order_by(CreditLot.id)
        return list(session.exec(query).all())


def drawn(world, entry_id: int) -> dict[int, int]:
    """How an entry moved each lot: {lot id: signed credits}."""
    with world.session() as session:
        query = select(LotAllocation.lot_id, LotAllocation.amount).where(
            LotAllocation.entry_id == entry_id
        )
        return dict(session.exec(query).all())


def moves(world, user_id: int) -> list[tuple[str, int]]:
    """(kind, amount) of the user's ledger entries, oldest first."""
    return [(e.kind, e.amount) for e in world.entries(user_id)]


def last_entry(world, user_id: int, kind: str) -> Any:
    """The user's newest entry of a kind."""
    return [e for e in world.entries(user_id) if e.kind == kind][-1]


def sweep(world, now: datetime) -> int:
    """Run the expiry sweep as if it were `now`; returns how many lots expired."""
    with world.session() as session:
        return expire_due_lots(session=session, now=now)


def spend(world, user_id: int, amount: int) -> None:
    """Spend credits now, as an AI feature would."""
    with world.session() as session:
        spend_credits(
            session=session,
            user_id=user_id,
            amount=amount,
            feature="test",
            idempotency_key=uuid.uuid4().hex,
        )


def intent_of(world, session_id: str) -> str:
    """The payment intent of a paid pack checkout."""
    return world.stripe.v1.checkout.sessions.retrieve(session_id).payment_intent


def paid_at(world, session_id: str) -> datetime:
    """When Stripe reported a checkout paid: the time of its `checkout.session.completed`."""
    [event] = [
        e
        for e in world.events("checkout.session.completed")
        if e["data"]["object"]["id"] == session_id
    ]
    return at(event["created"])


def at(timestamp: int) -> datetime:
    """A Stripe timestamp as an aware datetime."""
    return datetime.fromtimestamp(timestamp, UTC)


def full_line(invoice: Any) -> Any:
    """The plan's own line on a renewal: the one for the latest period (prorations look back)."""
    return max(invoice.lines.data, key=lambda line: line.period.end)


# --- policies from the catalogue -------------------------------------------------------------


def test_a_pack_never_expires_unless_its_price_says_so_and_p1y_lasts_a_calendar_year(world):
    year_pack = add_price(world, "Year Pack", 2000, 500, creditsExpireAfter="P1Y")
    user_id = world.new_user()
    starter = world.buy(user_id, "price_sim_starter")  # $5.00, 100 credits, no policy
    bought = world.buy(user_id, year_pack)
    spend(world, user_id, 50)  # burn order: the lot that ends first

    forever, dated = lots(world, user_id)
    assert (forever.source, forever.funded_by, forever.remaining) == ("purchase", starter, 100)
    assert forever.expires_at is None
    assert (dated.source, dated.funded_by, dated.remaining) == ("purchase", bought, 450)
    assert dated.effective_at == paid_at(world, bought)
    assert dated.expires_at == add_months(paid_at(world, bought), 12)

    assert sweep(world, dated.expires_at - timedelta(seconds=1)) == 0
    assert sweep(world, dated.expires_at) == 1
    assert world.balance(user_id).balance == 100
    assert moves(world, user_id)[-2:] == [("spend", 50), ("expire", 450)]
    assert_check_ok(world.db_url)


def test_a_plan_that_resets_each_period_loses_its_unused_credits_at_renewal(world):
    plan = add_price(world, "Reset Plan", 1500, 1000, "month", creditsExpireAfter="period")
    user_id = world.new_user()
    subscription_id = subscribe(world, user_id, plan)
    spend(world, user_id, 300)
    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()

    first, renewal = paid_invoices(world, subscription_id)
    old, new = lots(world, user_id)
    assert full_line(renewal).period.start == first.lines.data[0].period.end
    assert (old.source, old.funded_by, old.remaining) == ("plan_period", first.id, 700)
    assert old.expires_at == at(first.lines.data[0].period.end)
    assert (new.source, new.funded_by, new.remaining) == ("plan_period", renewal.id, 1000)
    assert new.expires_at == at(full_line(renewal).period.end)
    assert (old.rollover_max, new.rollover_max) == (None, None)

    # At the renewal (the old period's end) what the old period left expires.
    assert sweep(world, old.expires_at - timedelta(seconds=1)) == 0
    assert sweep(world, old.expires_at) == 1
    balance = world.balance(user_id)
    assert (balance.balance, balance.debt) == (1000, 0)
    assert moves(world, user_id)[-1] == ("expire", 700)
    assert sweep(world, new.expires_at) == 1
    assert world.balance(user_id).balance == 0
    assert_check_ok(world.db_url)


def test_a_plan_with_rollover_carries_at_most_its_cap_into_the_next_period(world):
    plan = add_price(
        world, "Rollover Plan", 1500, 1000, "month", creditsExpireAfter="period", rolloverMax="200"
    )
    user_id = world.new_user()
    subscription_id = subscribe(world, user_id, plan)
    spend(world, user_id, 300)
    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()

    assert sweep(world, lots(world, user_id)[0].expires_at) == 1

    first, _ = paid_invoices(world, subscription_id)
    old, new, carried = lots(world, user_id)
    assert (old.rollover_max, new.rollover_max, carried.rollover_max) == (200, 200, None)
    assert (carried.source, carried.category, carried.funded_by) == ("rollover", "paid", first.id)
    assert (carried.amount, carried.remaining) == (200, 200)  # 700 unused, at most 200 carried
    assert carried.effective_at == old.expires_at
    assert carried.expires_at == old.expires_at + (old.expires_at - old.effective_at)
    assert world.balance(user_id).balance == 1000 + 200
    assert moves(world, user_id)[-2:] == [("expire", 700), ("grant", 200)]
    assert_check_ok(world.db_url)


def test_a_plan_without_a_policy_never_expires(world):
    user_id = world.new_user()
    subscription_id = subscribe(world, user_id, "price_sim_monthly")  # no creditsExpireAfter
    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()

    invoices = paid_invoices(world, subscription_id)
    assert [(lot.source, lot.funded_by, lot.expires_at) for lot in lots(world, user_id)] == [
        ("plan_period", invoice.id, None) for invoice in invoices
    ]
    assert sweep(world, utcnow() + timedelta(days=3650)) == 0
    assert world.balance(user_id).balance == 2000
    assert_check_ok(world.db_url)


BAD_METADATA = [
    (
        {"creditsExpireAfter": "soon"},
        None,
        "creditsExpireAfter: 'soon' is not 'period', 'never' or an ISO 8601 duration like P1Y",
    ),
    (
        {"creditsExpireAfter": "P0D"},
        None,
        "creditsExpireAfter: 'P0D' is not 'period', 'never' or an ISO 8601 duration like P1Y",
    ),
    ({"rolloverMax": "100"}, "month", "rolloverMax needs creditsExpireAfter=period"),
    (
        {"creditsExpireAfter": "P1M", "rolloverMax": "100"},
        "month",
        "rolloverMax needs creditsExpireAfter=period",
    ),
    (
        {"creditsExpireAfter": "period", "rolloverMax": "lots"},
        "month",
        "rolloverMax is not an integer: 'lots'",
    ),
    (
        {"creditsExpireAfter": "period", "rolloverMax": "-1"},
        "month",
        "rolloverMax must be between 0 and 1000000000",
    ),
    (
        {"creditsExpireAfter": "period"},
        None,
        "creditsExpireAfter=period needs a recurring price (a plan)",
    ),
]


def test_bad_expiry_metadata_keeps_a_price_out_of_the_catalogue_with_a_reason(world):
    product = world.stripe.v1.products.create({"name": "Odd Credits"})

    def create(metadata: dict[str, str], interval: str | None) -> str:
        params: dict[str, Any] = {
            "product": product.id,
            "unit_amount": 700,
            "currency": "usd",
            "metadata": {"includedCredits": "70", **metadata},
        }
        if interval:
            params["recurring"] = {"interval": interval}
        return world.stripe.v1.prices.create(params).id

    bad = {create(metadata, interval): reason for metadata, interval, reason in BAD_METADATA}
    good = {
        create({"creditsExpireAfter": "p3m"}, None): ("P3M", None),
        create({"creditsExpireAfter": "never"}, None): (None, None),
        create({"creditsExpireAfter": "Period", "rolloverMax": "0"}, "month"): ("period", 0),
        create({"creditsExpireAfter": "period", "rolloverMax": " 250 "}, "year"): ("period", 250),
    }

    synced = world.http.post("/api/billing/sync-prices", headers={"x-admin-key": ADMIN_KEY})

    assert synced.status_code == 200, synced.text
    skipped = {row["priceId"]: row["reason"] for row in synced.json()["skipped"]}
    assert skipped == bad
    assert set(good) <= set(synced.json()["imported"])
    with world.session() as session:
        stored = {p: session.get(Price, p) for p in [*bad, *good]}
    assert {
        p: (row.credits_expire_after, row.rollover_max) for p, row in stored.items() if row
    } == (good)
    assert_check_ok(world.db_url)


def test_a_payment_at_an_unsynced_price_with_bad_expiry_waits_until_the_price_is_fixed(world):
    world.sim.configure(forward_to="")  # this test delivers the event itself
    user_id = world.new_user()
    product = world.stripe.v1.products.create({"name": "Odd Pack"})
    metadata = {"includedCredits": "100", "creditsExpireAfter": "soon"}
    price = world.stripe.v1.prices.create(
        {"product": product.id, "unit_amount": 500, "currency": "usd", "metadata": metadata}
    )
    session_id = world.checkout(user_id, "price_sim_starter").json()["id"]
    world.sim.pay(session_id)
    [event] = world.events("checkout.session.completed")
    event["data"]["object"]["metadata"]["price_id"] = price.id  # sold at the unsynced price

    refused = world.post_event(event)

    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "unavailable"
    assert world.entries(user_id) == []
    world.stripe.v1.prices.update(
        price.id, {"metadata": {"includedCredits": "100", "creditsExpireAfter": "P30D"}}
    )
    assert world.post_event(event).status_code == 200  # Stripe's retry
    [lot] = lots(world, user_id)
    assert (lot.amount, lot.funded_by) == (100, session_id)
    assert lot.expires_at == at(event["created"]) + timedelta(days=30)
    assert_check_ok(world.db_url)


# --- the period a plan's invoice pays for --------------------------------------------------


def test_an_upgrade_billed_at_once_lasts_the_period_and_takes_back_from_the_old_plan(world):
    small = add_price(world, "Small", 1500, 1000, "month", creditsExpireAfter="period")
    large = add_price(
        world, "Large", 3000, 2500, "month", creditsExpireAfter="period", rolloverMax="500"
    )
    day_pack = add_price(world, "Day Pack", 500, 100, creditsExpireAfter="P1D")
    user_id = world.new_user()
    subscription_id = subscribe(world, user_id, small)
    world.buy(user_id, day_pack)  # ends sooner than the plan: burn order would take it first
    world.sim.advance(10 * DAY)

    switch(world, subscription_id, large, "always_invoice")

    first, change = paid_invoices(world, subscription_id)
    unused, rest = sorted(change.lines.data, key=lambda line: line.amount)
    taken_back = -((unused.amount * 1000) // 1500)
    bought = (rest.amount * 2500) // 3000
    plan_lot, pack_lot, change_lot = lots(world, user_id)
    # Prorations pay for the rest of the current period: no new period, no rollover.
    assert (change_lot.source, change_lot.funded_by) == ("purchase", change.id)
    assert (change_lot.amount, change_lot.rollover_max) == (bought, None)
    assert change_lot.expires_at == at(rest.period.end) == plan_lot.expires_at
    assert plan_lot.expires_at == at(first.lines.data[0].period.end)
    # The unused time comes out of the period's own lot, not the pack that ends sooner.
    assert drawn(world, last_entry(world, user_id, "clawback").id) == {plan_lot.id: -taken_back}
    assert (plan_lot.remaining, pack_lot.remaining) == (1000 - taken_back, 100)
    assert_check_ok(world.db_url)


def test_a_renewal_billing_prorations_first_lasts_the_new_period(world):
    small = add_price(world, "Small", 1500, 1000, "month", creditsExpireAfter="period")
    large = add_price(
        world, "Large", 3000, 2500, "month", creditsExpireAfter="period", rolloverMax="500"
    )
    user_id = world.new_user()
    subscription_id = subscribe(world, user_id, small)
    switch(world, subscription_id, large, "create_prorations")
    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()

    first, renewal = paid_invoices(world, subscription_id)
    full = full_line(renewal)
    prorations = [line for line in renewal.lines.data if line.id != full.id]
    old_end = first.lines.data[0].period.end
    # The proration lines look back on the old period and buy as much as the new one.
    assert sorted(line.amount for line in prorations) == [-1500, 3000]
    assert {line.period.end for line in prorations} == {old_end}
    assert full.amount == 3000 and full.period.start == old_end
    old, new = lots(world, user_id)
    assert (new.source, new.funded_by, new.amount) == ("plan_period", renewal.id, 2500 + 2500)
    assert new.expires_at == at(full.period.end)
    assert new.rollover_max == 500
    # The old plan's unused time comes out of the old period's lot.
    assert drawn(world, last_entry(world, user_id, "clawback").id) == {old.id: -1000}
    assert sweep(world, at(old_end)) == 0  # nothing left in the old lot
    assert world.balance(user_id).balance == 5000
    assert_check_ok(world.db_url)


# --- refunds, disputes and what they give back ---------------------------------------------


def test_refunds_and_disputes_take_from_their_own_lot_then_in_burn_order_then_debt(world):
    year_pack = add_price(world, "Year Pack", 2000, 500, creditsExpireAfter="P1Y")
    user_id = world.new_user()
    starter = world.buy(user_id, "price_sim_starter")  # 100, never expires
    year = world.buy(user_id, year_pack)  # 500 for a year
    enterprise = world.buy(user_id, "price_sim_enterprise")  # 2,000, never expires
    spend(world, user_id, 580)  # the year's 500 first (it ends), then 80 of the older starter
    starter_lot, _, big_lot = (lot.id for lot in lots(world, user_id))
    assert [lot.remaining for lot in lots(world, user_id)] == [20, 0, 2000]

    world.stripe.v1.refunds.create({"payment_intent": intent_of(world, starter)})
    world.sim.wait_for_deliveries()
    # Its own lot's 20 first, then the rest in burn order (the year lot is empty).
    assert drawn(world, last_entry(world, user_id, "clawback").id) == {
        starter_lot: -20,
        big_lot: -80,
    }

    world.sim.dispute(intent_of(world, year))
    world.sim.wait_for_deliveries()
    assert drawn(world, last_entry(world, user_id, "clawback").id) == {big_lot: -500}

    world.stripe.v1.refunds.create({"payment_intent": intent_of(world, enterprise)})
    world.sim.wait_for_deliveries()
    assert drawn(world, last_entry(world, user_id, "clawback").id) == {big_lot: -1420}

    balance = world.balance(user_id)
    assert (balance.balance, balance.debt) == (0, 2000 - 1420)
    assert [lot.remaining for lot in lots(world, user_id)] == [0, 0, 0]
    assert moves(world, user_id)[-3:] == [("clawback", 100), ("clawback", 500), ("clawback", 2000)]
    assert_check_ok(world.db_url)


def test_a_won_dispute_and_a_failed_refund_restore_lots_with_the_original_expiry(world):
    year_pack = add_price(world, "Year Pack", 2000, 500, creditsExpireAfter="P1Y")
    user_id = world.new_user()
    disputed = world.buy(user_id, year_pack)
    refunded = world.buy(user_id, year_pack)
    dispute = world.sim.dispute(intent_of(world, disputed))
    refund = world.stripe.v1.refunds.create(
        {"payment_intent": intent_of(world, refunded), "amount": 1000}
    )
    world.sim.wait_for_deliveries()
    assert world.balance(user_id).balance == 250

    world.sim.close_dispute(dispute["id"], "won")
    world.sim.fail_refund(refund.id)
    world.sim.wait_for_deliveries()

    first, second, back_first, back_second = lots(world, user_id)
    assert [(lot.source, lot.remaining) for lot in lots(world, user_id)] == [
        ("purchase", 0),
        ("purchase", 250),
        ("restore", 500),
        ("restore", 250),
    ]
    for original, restored in ((first, back_first), (second, back_second)):
        assert restored.funded_by == original.funded_by
        assert (restored.category, restored.priority) == (original.category, original.priority)
        assert (restored.effective_at, restored.expires_at) == (
            original.effective_at,
            original.expires_at,
        )
    assert world.balance(user_id).balance == 1000

    # They end with the originals: 250 left of the second pack, and both restored lots.
    assert sweep(world, max(first.expires_at, second.expires_at)) == 3
    assert sorted(amount for kind, amount in moves(world, user_id) if kind == "expire") == [
        250,
        250,
        500,
    ]
    assert world.balance(user_id).balance == 0
    assert_check_ok(world.db_url)


def test_credits_restored_after_their_original_expiry_expire_at_once(world):
    flash = add_price(world, "Flash Pack", 500, 100, creditsExpireAfter="PT4S")
    user_id = world.new_user()
    bought = world.buy(user_id, flash)
    dispute = world.sim.dispute(intent_of(world, bought))
    world.sim.wait_for_deliveries()
    [lot] = lots(world, user_id)
    assert moves(world, user_id) == [("grant", 100), ("clawback", 100)]  # before it ended
    assert lot.remaining == 0
    time.sleep(max(0.0, (lot.expires_at - utcnow()).total_seconds()) + 0.05)

    world.sim.close_dispute(dispute["id"], "won")
    world.sim.wait_for_deliveries()

    original, restored = lots(world, user_id)
    assert (restored.source, restored.amount, restored.remaining) == ("restore", 100, 0)
    assert restored.expires_at == original.expires_at
    assert moves(world, user_id) == [
        ("grant", 100),
        ("clawback", 100),
        ("grant", 100),
        ("expire", 100),
    ]
    assert drawn(world, last_entry(world, user_id, "expire").id) == {restored.id: -100}
    balance = world.balance(user_id)
    assert (balance.balance, balance.debt) == (0, 0)
    assert_check_ok(world.db_url)


@pytest.mark.parametrize("api_version", [API_VERSIONS["current"]])  # the core's rule, not shapes
def test_a_dispute_won_after_the_credits_would_have_expired_cancels_the_debt_it_made(world):
    flash = add_price(world, "Flash Pack", 500, 100, creditsExpireAfter="PT4S")
    user_id = world.new_user()
    bought = world.buy(user_id, flash)
    spend(world, user_id, 100)  # all of it, before it ends
    dispute = world.sim.dispute(intent_of(world, bought))
    world.sim.wait_for_deliveries()
    balance = world.balance(user_id)
    assert (balance.balance, balance.debt) == (0, 100)  # nothing left to take: all debt
    [lot] = lots(world, user_id)
    time.sleep(max(0.0, (lot.expires_at - utcnow()).total_seconds()) + 0.05)

    world.sim.close_dispute(dispute["id"], "won")
    world.sim.wait_for_deliveries()

    # The payment stands after all: the 100 credits spent were paid for, nothing is owed.
    balance = world.balance(user_id)
    assert (balance.balance, balance.debt) == (0, 0)


# --- trials --------------------------------------------------------------------------------


@pytest.fixture
def trial_credits(monkeypatch):
    """Set TRIAL_CREDITS for the app."""

    def configure(credits: int) -> None:
        monkeypatch.setenv("TRIAL_CREDITS", str(credits))
        get_settings.cache_clear()

    yield configure
    get_settings.cache_clear()


def test_trial_credits_are_a_promotional_lot_that_ends_with_the_trial(world, trial_credits):
    trial_credits(50)
    user_id = world.new_user()
    subscription_id = start_trial(world, user_id, "price_sim_monthly", days=7)
    trial_end = at(world.stripe.v1.subscriptions.retrieve(subscription_id).trial_end)
    world.sim.advance(8 * DAY)  # the trial ends and the first month is paid
    world.sim.wait_for_deliveries()
    spend(world, user_id, 30)  # burn order: the promotional lot that ends first

    trial, plan = lots(world, user_id)
    assert (trial.source, trial.category, trial.funded_by) == ("trial", "promotional", None)
    assert (trial.amount, trial.remaining, trial.expires_at) == (50, 20, trial_end)
    assert (plan.source, plan.category, plan.remaining, plan.expires_at) == (
        "plan_period",
        "paid",
        1000,
        None,
    )
    assert sweep(world, trial_end) == 1
    assert world.balance(user_id).balance == 1000
    assert moves(world, user_id)[-1] == ("expire", 20)
    with world.session() as session:
        assert check_ledger(session=session) == []
