"""Plan switches: every invoice line moves credits at its own price's rate, never more.

Each test runs with events in today's API version and in 2024-06-20, where proration flags
and prices sit elsewhere on invoice lines and proration lines come first.
"""

from __future__ import annotations

import random
import uuid

import pytest

from credits_app.services.ledger import spend_credits
from tests.billing.support import add_plan, credits_bought, paid_invoices, subscribe, switch
from tests.support.cli import assert_check_ok

MONTH = 31 * 24 * 3600
BEHAVIOURS = ("create_prorations", "always_invoice")


def _customer_balance(world, subscription_id: str) -> int:
    customer = world.stripe.v1.subscriptions.retrieve(subscription_id).customer
    return world.stripe.v1.customers.retrieve(customer).balance


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_switching_yearly_and_monthly_back_and_forth_never_mints_credits(world, behaviour):
    user_id = world.new_user()
    subscription_id = subscribe(world, user_id, "price_sim_yearly")  # $150.00, 15,000 credits

    for _ in range(3):
        switch(world, subscription_id, "price_sim_monthly", behaviour)
        switch(world, subscription_id, "price_sim_yearly", behaviour)

    # An interval change bills at once: the unused year (-$150) against a month ($15), the
    # surplus kept as customer balance, which then pays the next year. Only $150 was paid.
    invoices = paid_invoices(world, subscription_id)
    assert sum(invoice.amount_paid for invoice in invoices) == 15000
    assert _customer_balance(world, subscription_id) == 0
    assert world.balance(user_id).balance == 15000
    assert sum(credits_bought(invoice) for invoice in invoices) == 15000
    assert_check_ok(world.db_url)


def _spend(world, user_id: int, amount: int) -> None:
    with world.session() as session:
        spend_credits(
            session=session, user_id=user_id, amount=amount, feature="t", idempotency_key="k1"
        )


def test_a_switch_mid_period_takes_back_the_unused_share_at_the_old_rate(world):
    user_id = world.new_user()
    subscription_id = subscribe(world, user_id, "price_sim_monthly")  # $15.00, 1,000 credits
    _spend(world, user_id, 900)
    world.sim.advance(10 * 24 * 3600)

    switch(world, subscription_id, "price_sim_yearly", "always_invoice")

    _, change = paid_invoices(world, subscription_id)
    [unused, year] = sorted(change.lines.data, key=lambda line: line.amount)
    taken_back = -((unused.amount * 1000) // 1500)  # rounded up: never in the user's favour
    assert year.amount == 15000
    assert 0 < -unused.amount < 1500
    assert credits_bought(change) == 15000 - taken_back
    balance = world.balance(user_id)
    # 100 left of the month, then +15,000 for the year and -taken_back for the unused month.
    assert (balance.balance, balance.debt) == (100 + 15000 - taken_back, 0)
    assert [(e.kind, e.amount) for e in world.entries(user_id)][-2:] == [
        ("grant", 15000),
        ("clawback", taken_back),
    ]
    assert_check_ok(world.db_url)


def test_an_upgrade_billed_only_as_prorations_buys_the_difference(world):
    user_id = world.new_user()
    max_plan = add_plan(world, "max", 3000, 2500, "month")  # $30.00, 2,500 credits a month
    subscription_id = subscribe(world, user_id, "price_sim_monthly")

    switch(world, subscription_id, max_plan, "always_invoice")

    _, change = paid_invoices(world, subscription_id)
    assert {line.amount for line in change.lines.data} == {-1500, 3000}
    # -1,000 for the unused month of the small plan, +2,500 for the rest of it on max.
    assert world.balance(user_id).balance == 1000 - 1000 + 2500
    assert_check_ok(world.db_url)


def test_the_first_renewal_after_a_switch_bills_its_prorations_and_the_new_plan(world):
    user_id = world.new_user()
    max_plan = add_plan(world, "max", 3000, 2500, "month")
    subscription_id = subscribe(world, user_id, "price_sim_monthly")

    switch(world, subscription_id, max_plan, "create_prorations")
    assert world.balance(user_id).balance == 1000  # pending prorations: nothing billed yet
    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()

    renewal = paid_invoices(world, subscription_id)[-1]
    assert renewal.billing_reason == "subscription_cycle"
    assert sorted(line.amount for line in renewal.lines.data) == [-1500, 3000, 3000]
    # $15 + $45 paid for a first month on max (after the switch) and a second one: 5,000.
    assert world.balance(user_id).balance == 1000 - 1000 + 2500 + 2500
    assert_check_ok(world.db_url)


def test_a_downgrade_takes_back_the_difference_and_the_balance_pays_the_next_month(world):
    user_id = world.new_user()
    max_plan = add_plan(world, "max", 3000, 2500, "month")
    subscription_id = subscribe(world, user_id, max_plan)

    switch(world, subscription_id, "price_sim_monthly", "always_invoice")
    after_switch = world.balance(user_id).balance
    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()

    # -2,500 for the unused max month, +1,000 for the small plan's rest of it; the $15 of
    # surplus pays the next month, which buys its 1,000 credits.
    assert after_switch == 2500 - 2500 + 1000
    assert paid_invoices(world, subscription_id)[-1].amount_paid == 0
    assert world.balance(user_id).balance == 2000
    assert_check_ok(world.db_url)


def test_a_downgrade_after_spending_leaves_debt_that_the_next_month_settles(world):
    user_id = world.new_user()
    max_plan = add_plan(world, "max", 3000, 2500, "month")
    subscription_id = subscribe(world, user_id, max_plan)
    _spend(world, user_id, 2400)

    switch(world, subscription_id, "price_sim_monthly", "always_invoice")
    after_switch = world.balance(user_id)
    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()
    after_renewal = world.balance(user_id)

    # 100 left, +1,000 for the small plan, -2,500 for the unused max month: 1,400 short.
    assert (after_switch.balance, after_switch.debt) == (0, 1400)
    assert (after_renewal.balance, after_renewal.debt) == (0, 400)
    assert_check_ok(world.db_url)


def test_more_seats_buy_credits_for_each_seat(world):
    user_id = world.new_user()
    subscription_id = subscribe(world, user_id, "price_sim_monthly")

    switch(world, subscription_id, quantity=3, behaviour="always_invoice")
    after_switch = world.balance(user_id).balance
    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()

    renewal = paid_invoices(world, subscription_id)[-1]
    assert [(line.quantity, line.amount) for line in renewal.lines.data] == [(3, 4500)]
    # Two more seats for the rest of the month (+2,000), then three seats (+3,000).
    assert after_switch == 1000 + 2000
    assert world.balance(user_id).balance == 1000 + 2000 + 3000
    assert_check_ok(world.db_url)


def test_a_switch_invoice_delivered_twice_under_new_ids_moves_credits_once(world):
    user_id = world.new_user()
    subscription_id = subscribe(world, user_id, "price_sim_monthly")
    switch(world, subscription_id, "price_sim_yearly", "always_invoice")
    [change] = [
        event
        for event in world.events("invoice.paid")
        if event["data"]["object"]["billing_reason"] == "subscription_update"
    ]

    for _ in range(2):
        again = {**change, "id": f"evt_{uuid.uuid4().hex[:24]}"}
        assert world.post_event(again).status_code == 200

    assert world.balance(user_id).balance == 1000 - 1000 + 15000
    assert_check_ok(world.db_url)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_sequence_of_switches_renewals_and_seats_never_buys_more_than_was_paid(world, seed):
    rng = random.Random(seed)
    user_id = world.new_user()
    plans = ["price_sim_monthly", "price_sim_yearly", add_plan(world, "max", 3000, 2500, "month")]
    subscription_id = subscribe(world, user_id, rng.choice(plans))

    for _ in range(6):
        step = rng.choice(["switch", "switch", "seats", "wait"])
        behaviour = rng.choice(["create_prorations", "always_invoice", "none"])
        if step == "switch":
            switch(world, subscription_id, rng.choice(plans), behaviour)
        elif step == "seats":
            switch(world, subscription_id, quantity=rng.randint(1, 3), behaviour=behaviour)
        else:
            world.sim.advance(rng.randint(1, 40) * 24 * 3600)
            world.sim.wait_for_deliveries()

    invoices = paid_invoices(world, subscription_id)
    paid = sum(invoice.amount_paid for invoice in invoices)
    still_owed_to_customer = -min(0, _customer_balance(world, subscription_id))
    balance = world.balance(user_id)
    held = balance.balance - balance.debt
    # Exactly what the billed lines buy at their rates, and never more than the money kept
    # buys at the best rate of the catalogue (1 credit per cent, the yearly plan).
    assert held == sum(credits_bought(invoice) for invoice in invoices)
    assert held <= paid - still_owed_to_customer
    assert_check_ok(world.db_url)
