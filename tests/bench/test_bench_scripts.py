"""Each benchmark script runs end to end with tiny sizes and ends with its JSON line.

No timing is asserted: benchmarks print numbers, these tests only keep them from rotting
(each script also checks the ledger it wrote and exits non-zero on any inconsistency).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import services

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str, env: dict[str, str] | None = None) -> dict:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["bench"] == Path(script).stem
    assert last["results"], result.stdout
    return last


def _databases() -> tuple[str, dict[str, str]]:
    """SQLite always; PostgreSQL too when the test environment provides it."""
    url = os.environ.get("CREDITS_TEST_POSTGRES_URL", "")
    if not url:
        return "sqlite", {}
    return "sqlite,postgres", {"BENCH_POSTGRES_URL": url}


def test_ledger_bench_compares_service_and_baseline():
    kinds, env = _databases()
    out = _run(
        "ledger.py", "--db", kinds, "--threads", "1,2", "--ops", "20", "--users", "3",
        "--rounds", "1", env=env,
    )  # fmt: skip
    assert {r["db"] for r in out["results"]} == set(kinds.split(","))
    assert all(r["service_per_s"] > 0 and r["baseline_per_s"] > 0 for r in out["results"])


def test_balance_bench_reads_every_size():
    kinds, env = _databases()
    out = _run("balance.py", "--db", kinds, "--sizes", "10,200", "--reads", "20", env=env)
    assert {r["rows"] for r in out["results"]} == {10, 200}


def test_api_bench_spends_over_http_without_errors():
    out = _run("api.py", "--setups", "sqlite-1", "--clients", "1,2", "--ops", "20", "--rounds", "1")
    assert all(r["errors"] == 0 for r in out["results"]), out


def test_webhooks_bench_grants_each_event_once():
    out = _run("webhooks.py", "--setups", "sqlite-1", "--clients", "2", "--events", "10")
    assert set(out["results"][0]["statuses"]) <= {"200", "duplicate"}, out


@pytest.mark.browser
def test_live_bench_sees_balance_updates():
    services.chromium_path()
    out = _run("live.py", "--setups", "sqlite-1", "--spends", "3")
    assert out["results"][0]["spends"] == 3


def test_reconcile_bench_finds_exactly_the_dropped_deliveries():
    out = _run("reconcile.py", "--objects", "120", "--dropped", "3")
    [row] = out["results"]
    assert (row["drift_found"], row["db"]) == (3, "sqlite")
    # 51 purchases: 41 packs (5 refunded, 3 disputed) and 10 plans with their invoices.
    assert row["objects"] == 120
    listed = ("checkoutSessions", "invoices", "paymentIntents", "refunds", "disputes")
    assert [row["checked"][k] for k in listed] == [51, 10, 51, 5, 3]
    # 120 objects fit in one page of each of the five lists.
    assert row["pages"] == 5
