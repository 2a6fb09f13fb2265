"""Metrics of a 2-worker production backend add up exactly in one scrape; JSON logs.

Each worker counts in its own process; `run-prod` gives them a folder of this run (emptied
at start) where prometheus-client's multiprocess mode keeps each one's values, and any
worker answering /metrics sums them all.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from credits_app.db import make_engine
from credits_app.observability.multiproc import MULTIPROC_ENV, multiprocess_env, run_dir
from credits_app.runtime.ports import free_port
from tests.ops.support import event, signed, value
from tests.runtime.helpers import in_parallel, new_user, spend, token_for
from tests.support import databases, processes

SPEND = "/api/credits/spend"
OUTCOMES = ("ok", "replay", "conflict", "insufficient")
CLIENTS = 16


@pytest.fixture(scope="module")
def pg_url(postgres_base_url):
    """A migrated PostgreSQL schema of this module's own."""
    schema, url = databases.create_postgres_schema(postgres_base_url)
    yield url
    databases.drop_postgres_schema(postgres_base_url, schema)


@pytest.fixture
def ledger_check_urls(ledger_check_urls, pg_url):
    """Also run the after-test ledger check on the module's schema."""
    return [*ledger_check_urls, pg_url]


def _worker_spends(folder: Path, pid: int, scratch: Path) -> Counter:
    """One worker's own spend counts: its value file read on its own."""
    alone = scratch / str(pid)
    alone.mkdir(parents=True)
    for path in folder.glob(f"*_{pid}.db"):
        shutil.copy(path, alone / path.name)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(alone))
    text = generate_latest(registry).decode()
    return Counter({o: value(text, "credits_spends_total", outcome=o) for o in OUTCOMES})


def _unpriced_checkout(user_id: int) -> dict:
    """A paid checkout of our Checkout for a price the app has not synced: it asks Stripe."""
    return event(
        "checkout.session.completed",
        {
            "id": f"cs_test_{uuid.uuid4().hex[:12]}",
            "object": "checkout.session",
            "mode": "payment",
            "payment_status": "paid",
            "amount_subtotal": 500,
            "amount_total": 500,
            "currency": "usd",
            "metadata": {"user_id": str(user_id), "price_id": "price_ops_unsynced"},
        },
    )


def _outcome(status: int, body: dict) -> str:
    if status == 200:
        return "replay" if body["replayed"] else "ok"
    return {402: "insufficient", 409: "conflict"}[status]


def test_two_workers_add_up_exactly_in_one_scrape(
    pg_url, redis_url, test_secrets, tmp_path, monkeypatch
):
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    engine = make_engine(pg_url)
    user = new_user(engine, credits=30)
    engine.dispose()
    token = token_for(user)
    # JSON logs, and a Stripe that does not answer: a webhook that needs it fails (503).
    stripe_down = f"http://127.0.0.1:{free_port()}"
    backend = processes.start_backend(
        pg_url,
        tmp_path / "backend",
        workers=2,
        redis_url=redis_url,
        extra_env={"LOG_FORMAT": "json", "STRIPE_API_BASE": stripe_down},
    )
    try:
        workers = backend.worker_pids()
        assert len(workers) == 2, backend.log.read_text()[-2000:]
        port = int(backend.url.rsplit(":", 1)[1])
        folder = run_dir(tmp_path / "backend" / "data", port)

        def one(key: str) -> tuple[int, dict]:
            # A client per request: separate connections spread over both workers.
            with httpx.Client(base_url=backend.url, timeout=60) as client:
                amount = 2 if key == "conflict" else 1
                return spend(client, token, amount, "again" if key == "conflict" else key)

        # One key sent 7 times (1 spend, 6 replays), then 3 times with another amount
        # (conflicts), then 40 spends of 1 credit for the 29 credits left.
        sent = Counter(_outcome(*one("again")) for _ in range(7))
        sent += Counter(_outcome(*r) for r in in_parallel(one, ["conflict"] * 3, 3))
        keys = [f"k-{uuid.uuid4().hex}" for _ in range(40)]
        sent += Counter(_outcome(*r) for r in in_parallel(one, keys, CLIENTS))
        # More (refused) spends until both workers have served some.
        for _ in range(10):
            per_worker = [_worker_spends(folder, pid, tmp_path / f"w{_}") for pid in workers]
            if all(sum(part.values()) for part in per_worker):
                break
            sent += Counter(_outcome(*r) for r in in_parallel(one, keys[:10], CLIENTS))

        payload, headers = signed(_unpriced_checkout(user), processes.WEBHOOK_SECRET)
        with httpx.Client(base_url=backend.url, timeout=60) as client:
            hook = client.post(
                "/api/webhooks/stripe",
                content=payload,
                headers={**headers, "X-Request-ID": "ops-workers-1"},
            )
            scrape = client.get("/metrics")
            ready = client.get("/api/ready")
    finally:
        backend.stop()

    assert sent["ok"] == 30
    assert sent["replay"] == 6
    assert sent["conflict"] == 3
    assert scrape.status_code == 200
    text = scrape.text
    totals = Counter({o: value(text, "credits_spends_total", outcome=o) for o in OUTCOMES})
    assert totals == sent
    # Both workers counted part of it, and the scrape is exactly their sum.
    assert all(sum(part.values()) > 0 for part in per_worker), per_worker
    assert per_worker[0] + per_worker[1] == totals
    assert value(text, "credits_insufficient_credits_total", route=SPEND) == sent["insufficient"]
    assert (
        value(text, "credits_http_responses_total", method="POST", route=SPEND, status="409")
        == sent["conflict"]
    )
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}
    # The failed delivery: counted, and its request id is on the service's JSON log line.
    assert (hook.status_code, hook.headers["x-request-id"]) == (503, "ops-workers-1")
    assert value(text, "credits_webhook_deliveries_total", outcome="failed") == 1
    logged = [json.loads(line) for line in backend.log.read_text().splitlines() if line[:1] == "{"]
    [line] = [r for r in logged if r["request_id"] == "ops-workers-1"]
    assert (line["level"], line["logger"]) == (
        "WARNING",
        "credits_app.services.billing.stripe_client",
    )
    assert line["message"] == (
        f"Stripe at {stripe_down} (the simulator: is `make stripe-sim` running?) unreachable "
        "(APIConnectionError) trying to look up a price"
    )


def test_a_server_starts_with_no_counts_from_an_earlier_run(tmp_path, monkeypatch):
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    folder = run_dir(tmp_path, 8123)
    folder.mkdir(parents=True)
    (folder / "counter_4242.db").write_bytes(b"an earlier run's values")
    (folder / "notes.txt").write_text("not ours")

    env = multiprocess_env(tmp_path, 8123, workers=2)

    assert env == {MULTIPROC_ENV: str(folder)}
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    # One worker keeps its values in memory: no folder at all.
    assert multiprocess_env(tmp_path, 8124, workers=1) == {}
    assert not run_dir(tmp_path, 8124).exists()
