"""Spends per second through the ledger service versus the raw-SQL baseline, same database.

Scenarios: "many users" (spends spread over --users users, one lot each), "hot user" (every
spend to one user with one lot) and "100 lots" (every spend to one user with 100 live lots
of varied priority, expiry and category, so each spend orders them by burn order). The sides
of a comparison run in alternating rounds; each rate is the median over rounds, and each
ratio the median of the per-round ratios, so a burst of load in one round decides nothing.
The hot user and the 100-lot user are measured in the same rounds, so the ratio of their
service rates (target >= 80 %) compares like with like.

Run: .venv/bin/python bench/ledger.py [--db sqlite,postgres] [--threads 1,8] [--ops 2000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import uuid
from datetime import timedelta

import _common
from _baseline import baseline_factory
from _runner import Result, WorkerFactory, combine, run_threads
from sqlmodel import Session

from credits_app.db import make_engine
from credits_app.models import LotCategory, LotSource, utcnow
from credits_app.services.ledger import LotTerms, grant_credits, spend_credits

TARGET_RATIO = 0.5  # service vs raw SQL (issue 7)
TARGET_LOTS = 0.8  # a spend among 100 lots vs a spend from one lot (issue 13)
LOTS = 100
CREDITS_PER_LOT = 10**7
# Service / raw-SQL ratios docs/benchmarks.md showed before lots (25 Nov 2026, issue 7):
# a scenario's ratio must not fall below them. The 100-lot user is held to the hot user's.
BEFORE = {
    ("sqlite", "many users", 1): 0.39,
    ("sqlite", "many users", 8): 0.53,
    ("sqlite", "hot user", 1): 0.38,
    ("sqlite", "hot user", 8): 0.62,
    ("postgres", "many users", 1): 0.58,
    ("postgres", "many users", 8): 0.68,
    ("postgres", "hot user", 1): 0.66,
    ("postgres", "hot user", 8): 0.58,
}


class ServiceSide:
    """Spends through `spend_credits`, one session per spend, on one engine (one pool).

    The engine lives for a whole measurement, as it does in a running app, so opening
    connections is not counted in any round.
    """

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def factory(self, users: list[int], tag: str) -> WorkerFactory:
        """A worker factory for `run_threads` spending for `users` in turn."""

        def make(_thread: int):
            def spend(i: int) -> bool:
                with Session(self.engine, expire_on_commit=False) as session:
                    spend_credits(
                        session=session,
                        user_id=users[i % len(users)],
                        amount=1,
                        feature="bench",
                        idempotency_key=f"svc-{tag}-{i}",
                    )
                return True

            return spend, lambda: None

        return make

    def close(self) -> None:
        """Close the pool."""
        self.engine.dispose()


class RawSide:
    """Spends as raw SQL (`_baseline`), one connection per thread, opened before the round."""

    def __init__(self, url: str) -> None:
        self.url = url

    def factory(self, users: list[int], tag: str) -> WorkerFactory:
        """A worker factory for `run_threads` spending for `users` in turn."""
        return baseline_factory(self.url, users, tag)

    def close(self) -> None:
        """Nothing to close: each round's connections close when it ends."""


def lot_terms(rng: random.Random, n: int) -> LotTerms:
    """Terms of the n-th lot of the 100-lot user: every burn-order key varies.

    Priorities 0 to 2, expiries from 2 days to 2 years away or never, about a third
    promotional, started up to a year ago. None runs out during a run, so all stay live.
    """
    now = utcnow()
    promotional = rng.random() < 0.3
    never = rng.random() < 0.25
    return LotTerms(
        source=rng.choice([LotSource.PROMOTION, LotSource.TRIAL])
        if promotional
        else rng.choice([LotSource.PURCHASE, LotSource.PLAN_PERIOD, LotSource.ADMIN]),
        category=LotCategory.PROMOTIONAL if promotional else LotCategory.PAID,
        priority=rng.choice([0, 0, 1, 2]),
        effective_at=now - timedelta(days=rng.randint(1, 365), seconds=n),
        expires_at=None if never else now + timedelta(days=rng.randint(2, 730), seconds=n),
    )


def seed_lots_user(url: str, lots: int = LOTS) -> int:
    """Create one user holding `lots` live lots, granted through the service; return its id."""
    user_id = _common.seed_users(url, 1, credits=CREDITS_PER_LOT)[0]
    rng = random.Random(13)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        for n in range(1, lots):
            grant_credits(
                session=session,
                user_id=user_id,
                amount=CREDITS_PER_LOT,
                reason="benchmark lot",
                idempotency_key=f"bench-lot-{n}",
                terms=lot_terms(rng, n),
            )
    engine.dispose()
    return user_id


def measure(
    url: str, sides: dict[str, tuple[bool, list[int]]], threads: int, ops: int, rounds: int
) -> dict[str, list[Result]]:
    """Run every side in alternating rounds (after a warm-up); return each side's rounds.

    `sides` maps a name to (through the service?, users). Alternating spreads background
    noise on a shared machine over all sides evenly, and comparing sides round by round
    keeps a burst of load in one round from deciding a ratio.
    """
    service, raw = ServiceSide(url), RawSide(url)
    try:
        makers = {name: (service if svc else raw, users) for name, (svc, users) in sides.items()}
        for side, users in makers.values():
            factory = side.factory(users, uuid.uuid4().hex[:8])
            run_threads(factory, threads=threads, ops=max(threads, min(ops, 50)))
        runs: dict[str, list[Result]] = {name: [] for name in sides}
        per_round = max(threads, ops // rounds)
        for _ in range(rounds):
            for name, (side, users) in makers.items():
                factory = side.factory(users, uuid.uuid4().hex[:8])
                runs[name].append(run_threads(factory, threads=threads, ops=per_round))
        return runs
    finally:
        service.close()


def _median(values: list[float], digits: int) -> float:
    return round(statistics.median(values), digits)


def _quartiles(values: list[float]) -> list[float]:
    """[25th, 75th] percentile of `values` (both the value itself when there is one)."""
    if len(values) < 2:
        return [round(values[0], 3)] * 2
    q = statistics.quantiles(values, n=4, method="inclusive")
    return [round(q[0], 3), round(q[2], 3)]


def _round_ratios(top: list[Result], bottom: list[Result]) -> list[float]:
    return [t.per_second / b.per_second for t, b in zip(top, bottom, strict=True)]


def scenario_row(kind: str, scenario: str, threads: int, base: list[Result], svc: list[Result]):
    """One table row: per-round medians, and the median of the per-round ratios."""
    ratios = _round_ratios(svc, base)
    before = BEFORE.get((kind, "hot user" if scenario == "100 lots" else scenario, threads))
    ratio = _median(ratios, 3)
    base_all, svc_all = combine(base), combine(svc)
    return {
        "db": kind,
        "scenario": scenario,
        "threads": threads,
        "baseline_per_s": _median([r.per_second for r in base], 1),
        "service_per_s": _median([r.per_second for r in svc], 1),
        "ratio": ratio,
        "ratio_iqr": _quartiles(ratios),
        "before": before,
        "holds": None if before is None else ratio >= before,
        "service_p50_ms": round(svc_all.p50_ms, 2),
        "service_p99_ms": round(svc_all.p99_ms, 2),
        "baseline_p50_ms": round(base_all.p50_ms, 2),
        "service_cpu_us": round(svc_all.cpu_us_per_op),
        "baseline_cpu_us": round(base_all.cpu_us_per_op),
    }


def lots_row(kind: str, threads: int, runs: dict[str, list[Result]]) -> dict:
    """The 100-lot spend rate against the one-lot rate, round by round."""
    ratios = _round_ratios(runs["svc-100"], runs["svc-1"])
    cpu_one = combine(runs["svc-1"]).cpu_us_per_op
    cpu_many = combine(runs["svc-100"]).cpu_us_per_op
    ratio = _median(ratios, 3)
    return {
        "db": kind,
        "threads": threads,
        "one_lot_per_s": _median([r.per_second for r in runs["svc-1"]], 1),
        "many_lots_per_s": _median([r.per_second for r in runs["svc-100"]], 1),
        "ratio": ratio,
        "ratio_iqr": _quartiles(ratios),
        "cpu_ratio": round(cpu_one / cpu_many, 3) if cpu_many else 0.0,
        "baseline_ratio": _median(_round_ratios(runs["raw-100"], runs["raw-1"]), 3),
        "met": ratio >= TARGET_LOTS,
    }


def bench_database(kind: str, args) -> tuple[list[dict], list[dict]]:
    """Measure every scenario and thread count on one fresh database."""
    rows, lots = [], []
    with _common.database(kind) as url:
        users = _common.seed_users(url, args.users, credits=10**9)
        hot, many_lots = users[:1], [seed_lots_user(url)]
        for threads in args.threads:
            spread = {"base": (False, users), "svc": (True, users)}
            runs = measure(url, spread, threads, args.ops, args.rounds)
            rows.append(scenario_row(kind, "many users", threads, runs["base"], runs["svc"]))
            paired = {
                "raw-1": (False, hot),
                "svc-1": (True, hot),
                "raw-100": (False, many_lots),
                "svc-100": (True, many_lots),
            }
            runs = measure(url, paired, threads, args.ops, args.rounds)
            for scenario, n in (("hot user", "1"), ("100 lots", "100")):
                base, svc = runs[f"raw-{n}"], runs[f"svc-{n}"]
                rows.append(scenario_row(kind, scenario, threads, base, svc))
            lots.append(lots_row(kind, threads, runs))
            print(f"  {kind} / {threads} threads done", flush=True)
        problems = _common.check_ledger(url)
        if problems:
            raise SystemExit(f"ledger check failed on {kind}: {problems[:3]}")
    return rows, lots


def report(rows: list[dict], lots: list[dict], notes: list[str], args) -> None:
    """Print both tables, the verdicts and the JSON line."""
    headers = ["db", "scenario", "threads", "baseline/s", "service/s", "ratio", "IQR"]
    headers += ["before", "p50 ms", "p99 ms", "raw CPU us", "svc CPU us"]
    table = [
        [
            r["db"],
            r["scenario"],
            r["threads"],
            r["baseline_per_s"],
            r["service_per_s"],
            r["ratio"],
            "{:.2f}-{:.2f}".format(*r["ratio_iqr"]),
            "-" if r["before"] is None else r["before"],
            r["service_p50_ms"],
            r["service_p99_ms"],
            r["baseline_cpu_us"],
            r["service_cpu_us"],
        ]
        for r in rows
    ]
    print(f"\nservice vs raw SQL (medians over {args.rounds} alternating rounds)")
    _common.print_table(headers, table)
    print(f"\n{LOTS} lots vs one lot, service spends (same rounds)")
    headers = ["db", "threads", "1 lot/s", f"{LOTS} lots/s", "ratio", "IQR", "CPU ratio"]
    headers += ["raw ratio", "target"]
    table = [
        [
            r["db"],
            r["threads"],
            r["one_lot_per_s"],
            r["many_lots_per_s"],
            r["ratio"],
            "{:.2f}-{:.2f}".format(*r["ratio_iqr"]),
            r["cpu_ratio"],
            r["baseline_ratio"],
            "holds" if r["met"] else "MISSED",
        ]
        for r in lots
    ]
    _common.print_table(headers, table)
    for note in notes:
        print(f"note: {note}")
    worst = min((r["ratio"] for r in rows), default=0.0)
    fallen = [r for r in rows if r["holds"] is False]
    print(f"target: service >= {TARGET_RATIO:.0%} of baseline; worst ratio {worst:.0%}")
    print(
        "target: ratio not below the documented one (before lots): "
        + ("holds everywhere" if not fallen else "MISSED for " + _where(fallen))
    )
    missed = [r for r in lots if not r["met"]]
    print(
        f"target: {LOTS}-lot spend >= {TARGET_LOTS:.0%} of a one-lot spend: "
        + ("holds everywhere" if not missed else "MISSED for " + _where(missed))
    )
    payload = {"results": rows, "lots": lots, "notes": notes, "target_ratio": TARGET_RATIO}
    payload |= {"target_lots": TARGET_LOTS, "worst": worst, "rounds": args.rounds}
    _common.emit_json("ledger", payload)


def _where(rows: list[dict]) -> str:
    return ", ".join(f"{r['db']}/{r.get('scenario', 'lots')}/{r['threads']}" for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sqlite,postgres", help="comma list: sqlite,postgres")
    parser.add_argument("--threads", default="1,8", help="comma list of thread counts")
    parser.add_argument("--ops", type=int, default=2000, help="spends per config and side")
    parser.add_argument("--users", type=int, default=200, help="users in 'many users'")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds per config")
    args = parser.parse_args()
    args.threads = [int(t) for t in args.threads.split(",")]
    kinds, notes = _common.available_kinds(args.db.split(","))
    rows, lots = [], []
    for kind in kinds:
        more_rows, more_lots = bench_database(kind, args)
        rows += more_rows
        lots += more_lots
    report(rows, lots, notes, args)


if __name__ == "__main__":
    main()
