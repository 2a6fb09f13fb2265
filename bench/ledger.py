"""Spends per second through the ledger service versus the raw-SQL baseline, same database.

Run: .venv/bin/python bench/ledger.py [--db sqlite,postgres] [--threads 1,8] [--ops 1000]
"""

from __future__ import annotations

import argparse
import itertools
import uuid

import _common
from _baseline import baseline_factory
from _runner import Result, combine, run_threads
from sqlmodel import Session

from credits_app.db import make_engine
from credits_app.services.ledger import spend_credits

SCENARIOS = ("many users", "hot user")
TARGET_RATIO = 0.5


def service_factory(url: str, users: list[int], tag: str):
    """Return a worker factory that spends through `spend_credits`, one session per spend."""
    engine = make_engine(url)

    def factory(thread: int):
        def spend(i: int) -> bool:
            with Session(engine, expire_on_commit=False) as session:
                spend_credits(
                    session=session,
                    user_id=users[i % len(users)],
                    amount=1,
                    feature="bench",
                    idempotency_key=f"svc-{tag}-{i}",
                )
            return True

        return spend, (engine.dispose if thread == 0 else lambda: None)

    return factory


def measure(
    url: str, users: list[int], threads: int, ops: int, rounds: int
) -> tuple[Result, Result]:
    """Run baseline and service in alternating rounds (after a warm-up) and total each.

    Alternating spreads background noise on a shared machine over both sides evenly.
    """
    makers = (baseline_factory, service_factory)
    for make in makers:
        run_threads(make(url, users, uuid.uuid4().hex[:8]), threads=threads, ops=min(ops, 50))
    runs: tuple[list[Result], list[Result]] = ([], [])
    for _ in range(rounds):
        for make, out in zip(makers, runs, strict=True):
            factory = make(url, users, uuid.uuid4().hex[:8])
            out.append(run_threads(factory, threads=threads, ops=max(threads, ops // rounds)))
    return combine(runs[0]), combine(runs[1])


def bench_database(kind: str, args) -> list[dict]:
    """Measure every scenario and thread count on one fresh database."""
    rows = []
    with _common.database(kind) as url:
        users = _common.seed_users(url, args.users, credits=10**9)
        for scenario, threads in itertools.product(SCENARIOS, args.threads):
            chosen = users if scenario == "many users" else users[:1]
            base, svc = measure(url, chosen, threads, args.ops, args.rounds)
            rows.append(
                {
                    "db": kind,
                    "scenario": scenario,
                    "threads": threads,
                    "baseline_per_s": round(base.per_second, 1),
                    "service_per_s": round(svc.per_second, 1),
                    "ratio": round(svc.per_second / base.per_second, 3),
                    "service_p50_ms": round(svc.p50_ms, 2),
                    "service_p99_ms": round(svc.p99_ms, 2),
                    "baseline_p50_ms": round(base.p50_ms, 2),
                    "service_cpu_us": round(svc.cpu_us_per_op),
                    "baseline_cpu_us": round(base.cpu_us_per_op),
                }
            )
            print(f"  {kind} / {scenario} / {threads} threads done", flush=True)
        problems = _common.check_ledger(url)
        if problems:
            raise SystemExit(f"ledger check failed on {kind}: {problems[:3]}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sqlite,postgres", help="comma list: sqlite,postgres")
    parser.add_argument("--threads", default="1,8", help="comma list of thread counts")
    parser.add_argument("--ops", type=int, default=2000, help="spends per config and side")
    parser.add_argument("--users", type=int, default=200, help="users in 'many users'")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per config")
    args = parser.parse_args()
    args.threads = [int(t) for t in args.threads.split(",")]
    kinds, notes = _common.available_kinds(args.db.split(","))
    rows = [row for kind in kinds for row in bench_database(kind, args)]
    headers = ["db", "scenario", "threads", "baseline/s", "service/s", "ratio", "p50 ms", "p99 ms"]
    keys = ["db", "scenario", "threads", "baseline_per_s", "service_per_s", "ratio"]
    keys += ["service_p50_ms", "service_p99_ms", "baseline_cpu_us", "service_cpu_us"]
    headers += ["raw CPU us", "svc CPU us"]
    table = [[r[k] for k in keys] for r in rows]
    print()
    _common.print_table(headers, table)
    for note in notes:
        print(f"note: {note}")
    worst = min((r["ratio"] for r in rows), default=0.0)
    print(f"target: service >= {TARGET_RATIO:.0%} of baseline; worst ratio {worst:.0%}")
    _common.emit_json(
        "ledger", {"results": rows, "notes": notes, "target_ratio": TARGET_RATIO, "worst": worst}
    )


if __name__ == "__main__":
    main()
