"""Signed Stripe webhook events processed per second, duplicates included, over real HTTP.

Each unique event is a paid `checkout.session.completed` for a credit pack; a share of them is
delivered twice at once (as Stripe may). Afterwards every event must have granted exactly once.
Run: .venv/bin/python bench/webhooks.py [--setups sqlite-1,postgres-2] [--events 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import _backend
import _common
import stripe
from _baseline import baseline_rate
from _events import add_pack, deliveries
from _http import Connection
from _runner import percentile
from sqlalchemy import text

from credits_app.db import make_engine
from tests.support.processes import WEBHOOK_SECRET


async def _deliver(base_url, queue, latencies, statuses) -> None:
    connection = Connection(base_url)
    try:
        while queue:
            payload = queue.pop()
            header = stripe.WebhookSignature.generate_signature_header(
                payload.decode(), WEBHOOK_SECRET
            )
            began = time.perf_counter()
            status, body = await connection.post(
                "/api/webhooks/stripe", payload, {"Stripe-Signature": header}
            )
            latencies.append((time.perf_counter() - began) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            if b'"duplicate":true' in body.replace(b" ", b""):
                statuses["duplicate"] = statuses.get("duplicate", 0) + 1
    finally:
        await connection.close()


async def send_all(base_url: str, payloads: list[bytes], clients: int) -> dict:
    """Deliver every payload from `clients` concurrent senders; duplicates race each other."""
    queue = list(reversed(payloads))
    latencies: list[float] = []
    statuses: dict[int | str, int] = {}
    began = time.perf_counter()
    await asyncio.gather(*(_deliver(base_url, queue, latencies, statuses) for _ in range(clients)))
    seconds = time.perf_counter() - began
    return {
        "deliveries": len(payloads),
        "per_s": round(len(payloads) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def verify(url: str, unique: int, users: list[int]) -> None:
    """Every unique event granted exactly once, and the ledger reconciles."""
    engine = make_engine(url)
    with engine.connect() as conn:
        grants = conn.execute(
            text("SELECT count(*) FROM credit_ledger WHERE source = 'stripe_checkout'")
        ).scalar_one()
    engine.dispose()
    if grants != unique:
        raise SystemExit(f"expected {unique} pack grants, found {grants}")
    problems = _common.check_ledger(url)
    if problems:
        raise SystemExit(f"ledger check failed: {problems[:3]}")


def bench_setup(setup: _backend.Setup, args) -> list[dict]:
    """Deliver the events at each sender count to one deployment, then verify the ledger."""
    rows = []
    with _common.database(setup.db) as url:
        users = _common.seed_users(url, 50, credits=10**6)
        add_pack(url)
        unique = 0
        with _backend.backend(url, setup) as server:
            for clients in args.clients:
                payloads = deliveries(users, args.events, args.duplicates)
                unique += args.events
                measured = asyncio.run(send_all(server.url, payloads, clients))
                events_per_s = measured["per_s"] * args.events / measured["deliveries"]
                rows.append(
                    {"setup": setup.name, "clients": clients}
                    | measured
                    | {"events_per_s": round(events_per_s, 1)}
                )
                print(f"  {setup.name} / {clients} senders done", flush=True)
        verify(url, unique, users)
        base = baseline_rate(url, users, threads=8, ops=1000)
        for row in rows:
            row["baseline_spends_per_s"] = round(base, 1)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--setups", default="sqlite-1,postgres-2", help="comma list")
    parser.add_argument("--clients", default="1,8", help="concurrent senders, comma list")
    parser.add_argument("--events", type=int, default=1000, help="unique events per level")
    parser.add_argument("--duplicates", type=float, default=0.25, help="share sent twice")
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    _backend.use_app_secrets()
    setups, notes = _backend.available_setups(args.setups.split(","))
    rows = [row for setup in setups for row in bench_setup(setup, args)]
    headers = ["setup", "senders", "deliveries", "deliveries/s", "events/s", "p50 ms", "p99 ms"]
    keys = ["setup", "clients", "deliveries", "per_s", "events_per_s", "p50_ms", "p99_ms"]
    print()
    _common.print_table(headers, [[r[k] for k in keys] for r in rows])
    for row in rows:
        print(f"{row['setup']} / {row['clients']} senders: HTTP statuses {row['statuses']}")
    for note in notes:
        print(f"note: {note}")
    print("every unique event granted exactly once; ledger check OK")
    _common.emit_json("webhooks", {"results": rows, "notes": notes})


if __name__ == "__main__":
    main()
