"""$0 invoices: a trial grants nothing (unless TRIAL_CREDITS says so, once per user); an
invoice paid from the customer balance grants what its lines bill."""

from __future__ import annotations

import pytest

from credits_app.settings import get_settings
from tests.billing.support import paid_invoices, start_trial, subscribe
from tests.support.cli import assert_check_ok

DAY = 24 * 3600
MONTH = 31 * DAY


@pytest.fixture
def trial_credits(monkeypatch):
    """Set TRIAL_CREDITS for the app."""

    def configure(credits: int) -> None:
        monkeypatch.setenv("TRIAL_CREDITS", str(credits))
        get_settings.cache_clear()

    yield configure
    get_settings.cache_clear()


def test_a_trial_grants_nothing_and_its_first_paid_invoice_grants_the_plan_once(world):
    user_id = world.new_user()
    subscription_id = start_trial(world, user_id)

    [trial] = paid_invoices(world, subscription_id)
    assert (trial.amount_paid, trial.total) == (0, 0)
    assert world.balance(user_id).balance == 0
    world.sim.advance(8 * DAY)
    world.sim.wait_for_deliveries()

    assert [i.amount_paid for i in paid_invoices(world, subscription_id)] == [0, 1500]
    assert world.balance(user_id).balance == 1000
    assert_check_ok(world.db_url)


def test_trial_credits_are_granted_once_per_user_however_often_a_trial_starts(world, trial_credits):
    trial_credits(50)
    user_id = world.new_user()
    first = start_trial(world, user_id)
    world.stripe.v1.subscriptions.cancel(first)
    world.sim.wait_for_deliveries()

    start_trial(world, user_id)

    assert world.balance(user_id).balance == 50
    assert [(e.source, e.amount) for e in world.entries(user_id)] == [("stripe_trial", 50)]
    assert_check_ok(world.db_url)


def test_an_invoice_paid_from_the_customer_balance_grants_what_it_bills(world):
    user_id = world.new_user()
    subscription_id = subscribe(world, user_id, "price_sim_monthly")
    customer = world.stripe.v1.subscriptions.retrieve(subscription_id).customer
    # The operator credits the customer $15 (e.g. a goodwill gesture): their choice.
    world.stripe.v1.customers.balance_transactions.create(
        customer, {"amount": -1500, "currency": "usd"}
    )

    world.sim.advance(MONTH)
    world.sim.wait_for_deliveries()

    renewal = paid_invoices(world, subscription_id)[-1]
    assert (renewal.amount_paid, renewal.starting_balance) == (0, -1500)
    assert world.balance(user_id).balance == 2000
    assert_check_ok(world.db_url)
