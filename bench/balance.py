"""Balance and 30-day totals for one user with 10^3 and 10^6 ledger rows: reads must not grow.

The 30-day totals per feature (`spentByFeature` in entitlements) read the daily usage
rollup, so they must cost the same at 10^6 usage rows as at 10^3 (within 1.5x).

Run: .venv/bin/python bench/balance.py [--db sqlite,postgres] [--sizes 1000,1000000] [--reads 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack

import _common
from _history import fill_history
from _runner import percentile
from sqlalchemy import create_engine, text

from credits_app.db import make_engine, read_session
from credits_app.services.accounts import balance_of
from credits_app.services.history import ledger_history, spent_by_feature

TARGET_GROWTH = 1.5


def time_calls(call: Callable[[], object], repeats: int) -> list[float]:
    """Time `call` `repeats` times after a short warm-up; return microseconds per call."""
    for _ in range(min(repeats, 20)):
        call()
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1e6)
    return samples


def summary(samples: list[float]) -> dict:
    """Return p50, mean and p99 of microsecond samples."""
    return {
        "p50_us": round(statistics.median(samples), 1),
        "mean_us": round(statistics.fmean(samples), 1),
        "p99_us": round(percentile(samples, 99), 1),
    }


def readers(url: str, user_id: int) -> tuple[dict[str, Callable[[], None]], Callable[[], None]]:
    """Return the reads to time (service balance, raw row, history page, totals) and a closer."""
    engine = make_engine(url)
    raw = create_engine(url)

    def service() -> None:
        with read_session(engine) as session:
            balance_of(session=session, user_id=user_id)

    def raw_read() -> None:
        with raw.connect() as conn:
            conn.execute(
                text("SELECT balance, held, debt FROM credit_account WHERE user_id = :u"),
                {"u": user_id},
            ).one()

    def page() -> None:
        with read_session(engine) as session:
            ledger_history(session=session, user_id=user_id, limit=50)

    def totals() -> None:
        with read_session(engine) as session:
            spent_by_feature(session=session, user_id=user_id)

    calls = {"balance": service, "raw_balance": raw_read, "history_page": page}
    calls["spent_by_feature"] = totals
    return calls, lambda: (engine.dispose(), raw.dispose())


def bench_database(kind: str, sizes: list[int], reads: int, rounds: int = 5) -> list[dict]:
    """Fill one fresh database per size, then time them in alternating rounds.

    Alternating rounds spread any background noise (other processes, autovacuum) evenly
    over the sizes instead of letting it land on one of them.
    """
    repeats = {"balance": reads, "raw_balance": reads, "history_page": max(20, reads // 10)}
    repeats["spent_by_feature"] = max(20, reads // 10)
    with ExitStack() as stack:
        targets = []
        for size in sizes:
            url = stack.enter_context(_common.database(kind))
            began = time.perf_counter()
            user_id = fill_history(url, size)
            filled = round(time.perf_counter() - began, 1)
            print(f"  {kind}: {size:,} rows filled in {filled} s", flush=True)
            calls, close = readers(url, user_id)
            stack.callback(close)
            targets.append(({"db": kind, "rows": size, "fill_s": filled}, calls, url))
        samples = {(n, name): [] for n in range(len(sizes)) for name in repeats}
        for _ in range(rounds):
            for n, (_, calls, _url) in enumerate(targets):
                for name, call in calls.items():
                    per_round = max(1, repeats[name] // rounds)
                    samples[n, name] += time_calls(call, per_round)
        rows = []
        for n, (row, _calls, url) in enumerate(targets):
            rows.append(row | {name: summary(samples[n, name]) for name in repeats})
            problems = _common.check_ledger(url) if row["rows"] <= 10_000 else []
            if problems:
                raise SystemExit(f"ledger check failed: {problems[:3]}")
    return rows


def report(rows: list[dict], notes: list[str]) -> None:
    """Print the table, the growth per database and the JSON line."""
    headers = ["db", "rows", "balance p50 us", "p99 us", "raw p50 us", "page p50 us", "by-feature"]
    print()
    _common.print_table(
        headers,
        [
            [
                r["db"],
                f"{r['rows']:,}",
                r["balance"]["p50_us"],
                r["balance"]["p99_us"],
                r["raw_balance"]["p50_us"],
                r["history_page"]["p50_us"],
                f"{r['spent_by_feature']['p50_us'] / 1000:.2f} ms",
            ]
            for r in rows
        ],
    )
    growth = {}
    for kind in dict.fromkeys(r["db"] for r in rows):
        mine = sorted((r for r in rows if r["db"] == kind), key=lambda r: r["rows"])
        growth[kind] = round(mine[-1]["balance"]["p50_us"] / mine[0]["balance"]["p50_us"], 2)
        totals = mine[-1]["spent_by_feature"]["p50_us"] / mine[0]["spent_by_feature"]["p50_us"]
        growth[f"{kind}_totals"] = round(totals, 2)
        big, small = f"{mine[-1]['rows']:,}", f"{mine[0]['rows']:,}"
        print(f"{kind}: balance p50 at {big} rows = {growth[kind]}x of {small}")
        print(f"{kind}: 30-day totals p50 at {big} rows = {growth[kind + '_totals']}x of {small}")
    for note in notes:
        print(f"note: {note}")
    print(f"target: largest within {TARGET_GROWTH}x of smallest")
    _common.emit_json("balance", {"results": rows, "growth": growth, "notes": notes})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sqlite,postgres", help="comma list: sqlite,postgres")
    parser.add_argument("--sizes", default="1000,1000000", help="ledger rows for the user")
    parser.add_argument("--reads", type=int, default=2000, help="balance reads per size")
    args = parser.parse_args()
    kinds, notes = _common.available_kinds(args.db.split(","))
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rows = [row for kind in kinds for row in bench_database(kind, sizes, args.reads)]
    report(rows, notes)


if __name__ == "__main__":
    main()
