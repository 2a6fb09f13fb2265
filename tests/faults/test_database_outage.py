"""Stop a throwaway PostgreSQL under spend load: 503s, no 500s or hangs, nothing lost."""

from __future__ import annotations

import time

import httpx
import pytest

from credits_app.db import make_engine
from credits_app.migrations import upgrade_database
from credits_app.stripe_sim.config import SimConfig
from credits_app.stripe_sim.control import SimControl
from credits_app.stripe_sim.testing import start_in_thread
from tests.faults import servers
from tests.faults.storm import Storm, plan
from tests.runtime import payments
from tests.runtime.helpers import balance_row, entries_by_key, new_user, spend, token_for
from tests.support import processes, services
from tests.support.cli import assert_check_ok

START_BALANCE = 100_000
RETRY_DELAYS = (0.5, 1, 1, 2, 2, 3, 5, 5, 10)


@pytest.fixture
def cluster():
    """A PostgreSQL server of the test's own, which it may stop and start."""
    try:
        server = servers.start_postgres_cluster()
    except (FileNotFoundError, OSError) as exc:
        services.unavailable("services", f"cannot start a throwaway PostgreSQL: {exc}")
    yield server
    server.destroy()


@pytest.fixture
def simulator():
    """The Stripe simulator, retrying failed deliveries for ~30 s."""
    running = start_in_thread(
        SimConfig(webhook_secret=processes.WEBHOOK_SECRET, retry_delays=RETRY_DELAYS)
    )
    yield running
    running.stop()


@pytest.mark.slow
def test_database_outage_answers_503_and_loses_nothing(cluster, simulator, tmp_path, test_secrets):
    upgrade_database(cluster.url)
    engine = make_engine(cluster.url)
    user, buyer = new_user(engine, credits=START_BALANCE), new_user(engine, credits=0)
    token = token_for(user)
    keys = plan(clients=4, keys_each=120, prefix="outage")
    backend = processes.start_backend(
        cluster.url, tmp_path, extra_env={"STRIPE_API_BASE": simulator.url}
    )
    simulator.config.forward_to = backend.webhook_url
    payments.sync_catalogue(backend.url)
    checkout = payments.start_checkout(backend.url, token_for(buyer, payments.BILLING_FEATURE))
    storm = Storm(backend.url, token, keys).start()
    try:
        _wait_for(lambda: len(storm.outcome.acked) >= 40)
        acked_before = dict(storm.outcome.acked)
        cluster.stop("immediate")
        _wait_for(lambda: storm.outcome.statuses[503] >= 20)
        with backend.client() as client:
            status, body = spend(client, token, 1, "outage-probe")
        # Paid while the database is down: the simulator's delivery fails and is retried.
        payments.pay(simulator.url, checkout)
        event = payments.completed_event(simulator.url, checkout)
        direct_status = payments.deliver(backend.url, event)
        cluster.start()
        engine.dispose()  # the test's own pooled connections died with the server
        storm.join()
        with backend.client() as client:
            sample = list(acked_before.items())[:20]
            replays = {k: _retried(client, token, amount, k) for k, (amount, _) in sample}
        grants = payments.wait_for_grant(engine, checkout)
        payments.resend(simulator.url, event["id"])
        _wait_for(lambda: _delivered(simulator, event["id"]) >= 2)
    finally:
        storm.stop.set()
        backend.stop()

    assert status == 503, body
    assert body["error"]["code"] == "unavailable"
    outcome = storm.outcome
    assert set(outcome.statuses) <= {200, 503}, (outcome.statuses, outcome.codes)
    assert set(outcome.codes[503]) == {"unavailable"}
    all_keys = {key: amount for client in keys for key, amount in client}
    assert set(outcome.acked) == set(all_keys)
    assert all(len(ids) == 1 for ids in outcome.entry_ids.values())
    for key, (reply_status, reply) in replays.items():
        assert reply_status == 200 and reply["replayed"] is True, (key, reply)
        assert reply["entryId"] == acked_before[key][1]
    assert entries_by_key(engine, user) == dict.fromkeys(all_keys, 1)
    assert balance_row(engine, user) == START_BALANCE - sum(all_keys.values())
    # Webhooks: 5xx while down, then the redelivery granted once and the resend nothing more.
    assert direct_status >= 500
    assert _failed_attempts(simulator, event["id"]) >= 1
    assert grants == [payments.PACK_CREDITS]
    assert payments.grants_for(engine, checkout) == grants
    assert balance_row(engine, buyer) == payments.PACK_CREDITS
    engine.dispose()
    assert_check_ok(cluster.url)


def _retried(client, token: str, amount: int, key: str) -> tuple[int, dict]:
    """Spend like a client does: a 503 (e.g. a connection that died with the server) retries."""
    for _ in range(10):
        status, body = spend(client, token, amount, key)
        if status != 503:
            break
        time.sleep(0.2)
    return status, body


def _attempts(simulator, event_id: str) -> list[dict]:
    control = SimControl(simulator.url)
    try:
        deliveries = control.deliveries(event_id)
    finally:
        control.close()
    return [attempt for d in deliveries for attempt in d.get("attempts", [])]


def _delivered(simulator, event_id: str) -> int:
    return sum(1 for a in _attempts(simulator, event_id) if a.get("status") == 200)


def _failed_attempts(simulator, event_id: str) -> int:
    return sum(1 for a in _attempts(simulator, event_id) if (a.get("status") or 0) >= 500)


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the load to progress"
        time.sleep(0.01)


def test_unreachable_database_gets_503_not_a_hang(cluster, tmp_path, test_secrets):
    """With the server already down, a request is answered (503), it does not hang."""
    upgrade_database(cluster.url)
    engine = make_engine(cluster.url)
    user = new_user(engine, credits=10)
    engine.dispose()
    backend = processes.start_backend(cluster.url, tmp_path)
    try:
        cluster.stop("fast")
        with httpx.Client(base_url=backend.url, timeout=30) as client:
            status, body = spend(client, token_for(user), 1, "down-1")
    finally:
        backend.stop()
    assert status == 503, body
    assert body["error"]["code"] == "unavailable"
