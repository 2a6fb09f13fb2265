"""Spends per second and p50/p99 over HTTP (POST /api/credits/spend) at 1, 8 and 32 clients.

The real backend runs in production mode: 1 worker on SQLite, 2 workers on PostgreSQL with
Redis. The raw-SQL baseline runs on the same database with as many threads as clients.
Run: .venv/bin/python bench/api.py [--setups sqlite-1,postgres-2] [--clients 1,8,32] [--ops 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
import uuid

import _backend
import _common
import psutil
from _baseline import baseline_rate
from _http import Connection
from _runner import percentile

from credits_app.services.tokens import generate_access_token

FEATURE = "bench"
TARGET_RATIO = 0.25
TARGET_P99_MS = 50.0


async def _client(base_url, token, ops, tag, latencies, failures) -> None:
    """One client on its own keep-alive connection, spending `ops` times in a row."""
    connection = Connection(base_url)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for i in range(ops):
            body = {"amount": 1, "feature": FEATURE, "idempotencyKey": f"http-{tag}-{i}"}
            began = time.perf_counter()
            status, text = await connection.post("/api/credits/spend", body, headers)
            latencies.append((time.perf_counter() - began) * 1000)
            if status != 200:
                failures.append(f"{status} {text[:200]!r}")
    finally:
        await connection.close()


async def load(
    base_url: str, tokens: list[str], clients: int, ops: int
) -> tuple[float, list[float], list[str]]:
    """Run `ops` spends from `clients` concurrent clients, each spending for its own user.

    Returns:
        (seconds, latencies in ms, failure descriptions).
    """
    latencies: list[float] = []
    failures: list[str] = []
    tag = uuid.uuid4().hex[:8]
    await _client(base_url, tokens[0], 10, f"warm-{tag}", [], [])
    shares = [ops // clients + (1 if n < ops % clients else 0) for n in range(clients)]
    began = time.perf_counter()
    await asyncio.gather(
        *(
            _client(base_url, tokens[n % len(tokens)], shares[n], f"{tag}-{n}", latencies, failures)
            for n in range(clients)
        )
    )
    return time.perf_counter() - began, latencies, failures


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by these processes."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def measure_level(server, url, users, tokens, clients: int, ops: int, rounds: int) -> dict:
    """Alternate HTTP and baseline rounds at one client count; total each side.

    Also reports the app workers' CPU time per request, which shows what limits throughput
    on a small machine.
    """
    seconds, latencies, failures, base_rates, cpu = 0.0, [], [], [], 0.0
    share = max(clients, ops // rounds)
    workers = server.worker_pids()
    for _ in range(rounds):
        before = cpu_seconds(workers)
        took, lat, failed = asyncio.run(load(server.url, tokens, clients, share))
        cpu += cpu_seconds(workers) - before
        seconds, latencies, failures = seconds + took, latencies + lat, failures + failed
        base_rates.append(baseline_rate(url, users, threads=clients, ops=share))
    per_s = (len(latencies) - len(failures)) / seconds
    base = statistics.fmean(base_rates)
    return {
        "clients": clients,
        "baseline_per_s": round(base, 1),
        "per_s": round(per_s, 1),
        "ratio": round(per_s / base, 3) if base else 0.0,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "app_cpu_ms_per_req": round(cpu * 1000 / len(latencies), 2),
        "errors": len(failures),
        "first_error": failures[0] if failures else None,
    }


def bench_setup(setup: _backend.Setup, clients: list[int], ops: int, rounds: int) -> list[dict]:
    """Measure one deployment at each client count, with its baseline on the same database."""
    rows = []
    with _common.database(setup.db) as url:
        users = _common.seed_users(url, max(clients), credits=10**9)
        tokens = [generate_access_token(u, FEATURE, ttl_seconds=3600) for u in users]
        with _backend.backend(url, setup) as server:
            for count in clients:
                row = measure_level(server, url, users, tokens, count, ops, rounds)
                rows.append({"setup": setup.name} | row)
                print(f"  {setup.name} / {count} clients done", flush=True)
        problems = _common.check_ledger(url)
        if problems:
            raise SystemExit(f"ledger check failed on {setup.name}: {problems[:3]}")
    # The database's limit is its best baseline rate at any concurrency (SQLite's falls with
    # more writers, as they wait on one lock); compare against that too.
    best = max(r["baseline_per_s"] for r in rows)
    for row in rows:
        row["ratio_to_best"] = round(row["per_s"] / best, 3) if best else 0.0
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--setups", default="sqlite-1,postgres-2", help="comma list")
    parser.add_argument("--clients", default="1,8,32", help="comma list of client counts")
    parser.add_argument("--ops", type=int, default=1200, help="spends per client count")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per level")
    args = parser.parse_args()
    _backend.use_app_secrets()
    setups, notes = _backend.available_setups(args.setups.split(","))
    clients = [int(c) for c in args.clients.split(",")]
    rows = [row for setup in setups for row in bench_setup(setup, clients, args.ops, args.rounds)]
    headers = ["setup", "clients", "baseline/s", "http/s", "ratio", "vs best", "p50 ms", "p99 ms"]
    keys = ["setup", "clients", "baseline_per_s", "per_s", "ratio", "ratio_to_best", "p50_ms"]
    keys += ["p99_ms", "app_cpu_ms_per_req", "errors"]
    headers += ["app CPU ms/req", "errors"]
    print()
    _common.print_table(headers, [[r[k] for k in keys] for r in rows])
    for row in rows:
        if row["first_error"]:
            print(f"first error ({row['setup']}, {row['clients']} clients): {row['first_error']}")
    for note in notes:
        print(f"note: {note}")
    print(
        f"targets: postgres-2 >= {TARGET_RATIO:.0%} of baseline, p99 < {TARGET_P99_MS:.0f} ms "
        "at 32 clients"
    )
    _common.emit_json("api", {"results": rows, "notes": notes})


if __name__ == "__main__":
    main()
