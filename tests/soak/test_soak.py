"""Mixed traffic from several processes against 2 workers, then an exact reconciliation.

CREDITS_SOAK_OPS sets the operations per client process (default: a modest CI size).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter, defaultdict

import pytest
from sqlalchemy import text

from credits_app.db import make_engine
from credits_app.stripe_sim.config import SimConfig
from credits_app.stripe_sim.control import TOKEN_ENV, SimControl
from credits_app.stripe_sim.testing import start_in_thread
from tests.runtime import payments
from tests.runtime.helpers import new_user
from tests.soak.traffic import FEATURE, ClientPlan, run_client
from tests.support import processes

CLIENTS = 4
USERS = 6
START_CREDITS = 200
OPS = int(os.environ.get("CREDITS_SOAK_OPS", "120"))


@pytest.mark.slow
def test_soak_reconciles_exactly(postgres_url, redis_url, tmp_path, test_secrets, monkeypatch):
    sim = start_in_thread(
        SimConfig(webhook_secret=processes.WEBHOOK_SECRET, retry_delays=(0.5, 1, 2, 3))
    )
    # The client processes pay and resend through the simulator's control endpoints; they
    # find its token in the environment they inherit (`SimControl` reads TOKEN_ENV).
    monkeypatch.setenv(TOKEN_ENV, sim.token)
    engine = make_engine(postgres_url)
    backend = processes.start_backend(
        postgres_url,
        tmp_path,
        workers=2,
        redis_url=redis_url,
        extra_env={"STRIPE_API_BASE": sim.url},
    )
    try:
        sim.config.forward_to = backend.webhook_url
        payments.sync_catalogue(backend.url)
        users = [new_user(engine, credits=START_CREDITS) for _ in range(USERS)]
        tokens = {user: payments_token(user) for user in users}
        billing = {user: payments_token(user, payments.BILLING_FEATURE) for user in users}
        plans = [ClientPlan(i, backend.url, sim.url, tokens, billing, OPS) for i in range(CLIENTS)]
        with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
            # A stuck client fails the test with its reason instead of hanging it.
            journals = pool.map_async(run_client, plans).get(timeout=300)
        control = SimControl(sim.url)
        assert control.wait_for_deliveries(timeout=60)["pending"] == 0
        control.close()
    finally:
        backend.stop()
        sim.stop()

    journal = [line for lines in journals for line in lines]
    kinds = Counter(line[0] for line in journal)
    print(f"soak: {CLIENTS} processes x {OPS} ops: {dict(kinds)}")
    _assert_reconciles(engine, users, journal)
    engine.dispose()


def payments_token(user: int, feature: str = FEATURE) -> str:
    from credits_app.services.tokens import generate_access_token

    return generate_access_token(user, feature, ttl_seconds=3600)


def _assert_reconciles(engine, users: list[int], journal) -> None:
    ledger = _ledger(engine)
    balances = _balances(engine)
    expected = dict.fromkeys(users, START_CREDITS)
    acked_ids: dict[str, int] = {}
    for kind, user, key, amount, entry_id in journal:
        if kind == "spend":
            expected[user] -= amount
            acked_ids[key] = entry_id
            assert ledger[("spend", key)] == [(user, amount, entry_id)], key
        elif kind == "grant":
            expected[user] += amount
            acked_ids[key] = entry_id
            assert ledger[("grant", key)] == [(user, amount, entry_id)], key
        elif kind == "capture":
            expected[user] -= amount
            assert [row[1] for row in ledger[("capture", key + "-c")]] == [amount], key
        elif kind == "release":
            assert len(ledger[("release", key + "-r")]) == 1, key
        elif kind == "purchase":
            grants = payments.grants_for(engine, key)
            assert grants == [payments.PACK_CREDITS], (key, grants)
            expected[user] += payments.PACK_CREDITS
    for kind, _, key, _, entry_id in journal:
        if kind == "replay":
            assert acked_ids[key] == entry_id, key
    # Nothing the clients did not see acknowledged was written.
    soak_keys = {k for (kind, k) in ledger if k.startswith("soak-") and kind in ("spend", "grant")}
    assert soak_keys == set(acked_ids)
    assert all(len(rows) == 1 for rows in ledger.values())
    for user in users:
        balance, held = balances[user]
        assert balance == expected[user], user
        assert held == 0
        grants = _sum(engine, user, "grant")
        assert grants - _sum(engine, user, "spend") - _sum(engine, user, "capture") == balance


def _ledger(engine) -> dict[tuple[str, str], list[tuple[int, int, int]]]:
    rows = defaultdict(list)
    with engine.connect() as conn:
        result = conn.execute(
            text("SELECT kind, idempotency_key, user_id, amount, id FROM credit_ledger")
        )
        for kind, key, user, amount, entry_id in result:
            rows[(kind, key)].append((user, amount, entry_id))
    return rows


def _balances(engine) -> dict[int, tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT user_id, balance, held FROM credit_account")).all()
    return {user: (balance, held) for user, balance, held in rows}


def _sum(engine, user: int, kind: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT COALESCE(SUM(ABS(delta)), 0) FROM credit_ledger "
                "WHERE user_id = :u AND kind = :k"
            ),
            {"u": user, "k": kind},
        ).scalar_one()
