"""Guarantees that must hold with 2 backend workers on PostgreSQL + Redis (production mode)."""

from __future__ import annotations

import httpx

from tests.runtime import payments
from tests.runtime.helpers import (
    balance_row,
    entries_by_key,
    fresh_key,
    in_parallel,
    new_user,
    spend,
    token_for,
)

CLIENTS = 24


def _pg_port(pg_url: str) -> int:
    from sqlalchemy.engine import make_url

    return make_url(pg_url).port or 5432


def test_no_overdraft_across_workers(two_workers, pg_engine, pg_url):
    user = new_user(pg_engine, credits=100)
    token = token_for(user)
    keys = [fresh_key("od") for _ in range(200)]

    def one(key: str) -> int:
        # A client per request: separate connections spread over both workers.
        with httpx.Client(base_url=two_workers.url, timeout=60) as client:
            return spend(client, token, 1, key)[0]

    statuses = in_parallel(one, keys, CLIENTS)

    assert statuses.count(200) == 100, statuses
    assert statuses.count(402) == 100, statuses
    assert balance_row(pg_engine, user) == 0
    assert sum(entries_by_key(pg_engine, user).values()) == 100
    # Both workers served requests: each holds its own pooled database connection.
    assert two_workers.workers_connected_to(_pg_port(pg_url)) == 2


def test_same_key_concurrently_on_both_workers_writes_one_entry(two_workers, pg_engine):
    user = new_user(pg_engine, credits=50)
    token = token_for(user)
    key = fresh_key("same")

    def one(_: int) -> tuple[int, dict]:
        with httpx.Client(base_url=two_workers.url, timeout=60) as client:
            return spend(client, token, 7, key)

    results = in_parallel(one, range(30), CLIENTS)

    assert {status for status, _ in results} == {200}, results
    assert len({body["entryId"] for _, body in results}) == 1
    assert [body["replayed"] for _, body in results].count(False) == 1
    assert entries_by_key(pg_engine, user) == {key: 1}
    assert balance_row(pg_engine, user) == 43


def test_same_key_with_other_amount_conflicts_on_any_worker(two_workers, pg_engine):
    user = new_user(pg_engine, credits=50)
    token = token_for(user)
    key = fresh_key("conflict")
    with two_workers.client() as client:
        assert spend(client, token, 5, key)[0] == 200

    def other(_: int) -> int:
        with httpx.Client(base_url=two_workers.url, timeout=60) as client:
            return spend(client, token, 6, key)[0]

    assert set(in_parallel(other, range(10), 10)) == {409}
    assert balance_row(pg_engine, user) == 45


def test_duplicate_webhook_deliveries_grant_once_across_workers(two_workers, simulator, pg_engine):
    user = new_user(pg_engine, credits=0)
    payments.sync_catalogue(two_workers.url)
    session_id = payments.start_checkout(two_workers.url, token_for(user, payments.BILLING_FEATURE))
    payments.pay(simulator.url, session_id)
    event = payments.completed_event(simulator.url, session_id)

    # The simulator's own delivery races 20 signed copies and 4 redeliveries, on both workers.
    def one(n: int) -> int:
        if n % 6 == 5:
            payments.resend(simulator.url, event["id"])
            return 200
        return payments.deliver(two_workers.url, event)

    statuses = in_parallel(one, range(24), 12)
    grants = payments.wait_for_grant(pg_engine, session_id)

    assert set(statuses) == {200}, statuses
    assert grants == [payments.PACK_CREDITS]
    assert balance_row(pg_engine, user) == payments.PACK_CREDITS
