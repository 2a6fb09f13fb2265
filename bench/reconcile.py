"""Time to reconcile N Stripe objects against the simulator, through the SDK over HTTP.

Seeding: the simulator runs in this process, and its store is filled by the very functions
its API routes call (`create_session`, `pay_session`, `create_refund`, `open_dispute`), so
the objects and events are the ones the API would make, without an HTTP round trip per
object. The mix: credit packs (a session and its payment intent), monthly plans (a session,
its first invoice and payment intent), a partial refund of every 10th pack and a dispute of
every 20th. The ledger gets its matching state the webhook's own way: every event the app
handles goes through `process_event` in-process (signature checking is the only part of a
delivery left out). A few pack deliveries are dropped on purpose, so the run must find
exactly those as `paid_not_granted`.

Timed: one `reconcile()` over the window, as `python -m credits_app reconcile` runs it (the
official SDK, 100 objects per page, auto-pagination over HTTP to the simulator; our rows
read in chunks). Reported: objects, seconds, objects/s, pages fetched.
Run: .venv/bin/python bench/reconcile.py [--objects 10000] [--db sqlite] [--dropped 10]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta

import _common

from credits_app.db import engine_for, session_scope
from credits_app.models import utcnow
from credits_app.services.billing import stripe_client
from credits_app.services.billing.catalogue_sync import sync_prices
from credits_app.services.billing.handlers import HANDLERS
from credits_app.services.billing.reconcile import reconcile
from credits_app.services.billing.webhook import process_event
from credits_app.settings import get_settings
from credits_app.stripe_sim.checkout import create_session
from credits_app.stripe_sim.checkout_payment import pay_session
from credits_app.stripe_sim.config import SimConfig
from credits_app.stripe_sim.disputes import open_dispute
from credits_app.stripe_sim.refunds import create_refund
from credits_app.stripe_sim.testing import start_in_thread

CARD = "4242424242424242"
PACKS = ("price_sim_starter", "price_sim_pro")
PLAN = "price_sim_monthly"
PACK_USERS = 200
# The lists reconcile pages through (Stripe's list endpoints, GET without an id).
LISTS = ("/v1/checkout/sessions", "/v1/invoices", "/v1/payment_intents", "/v1/refunds")
LISTS += ("/v1/disputes",)
LABELS = ("checkoutSessions", "invoices", "paymentIntents", "refunds", "disputes")


def _metadata(user_id: int, price_id: str, credits: int) -> dict[str, str]:
    """What the app's checkout puts on a session (services/billing/checkout.py)."""
    return {"user_id": str(user_id), "price_id": price_id, "included_credits": str(credits)}


def _buy(sim, user_id: int, price_id: str, credits: int) -> dict:
    """Create and pay a Checkout session as the app's checkout and the hosted page would."""
    metadata = _metadata(user_id, price_id, credits)
    plan = price_id == PLAN
    params = {
        "mode": "subscription" if plan else "payment",
        "client_reference_id": str(user_id),
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": "http://shop.test/credits/success",
        "cancel_url": "http://shop.test/credits/cancel",
        "metadata": metadata,
        "subscription_data" if plan else "payment_intent_data": {"metadata": metadata},
    }
    session = create_session(sim, params)
    return pay_session(sim, session["id"], CARD)


def seed_stripe(sim, users: list[int], objects: int, dropped: int) -> dict:
    """Fill the simulator with about `objects` listed objects; return what was made."""
    credits = {"price_sim_starter": 100, "price_sim_pro": 500, PLAN: 1000}
    made = {"sessions": 0, "invoices": 0, "intents": 0, "refunds": 0, "disputes": 0}
    plan_users = iter(users[PACK_USERS:])
    drop: set[str] = set()
    n = 0
    with sim.lock:
        while sum(made.values()) < objects:
            if n % 5 == 4:
                user = next(plan_users)
                session = _buy(sim, user, PLAN, credits[PLAN])
                made["invoices"] += 1
            else:
                price = PACKS[n % 2]
                session = _buy(sim, users[n % PACK_USERS], price, credits[price])
                intent = session["payment_intent"]
                if n % 10 == 1:
                    create_refund(sim, {"payment_intent": intent, "amount": 100})
                    made["refunds"] += 1
                elif n % 20 == 2:
                    open_dispute(sim, intent, {})
                    made["disputes"] += 1
                elif n % 10 == 3 and len(drop) < dropped:
                    drop.add(session["id"])
            made["sessions"] += 1
            made["intents"] += 1
            n += 1
        events = list(reversed(sim.store.all("event")))
    return {"made": made, "purchases": n, "events": events, "dropped": drop}


def seed_ledger(events: list[dict], dropped: set[str]) -> int:
    """Process every event the app handles, oldest first, as deliveries would.

    The `checkout.session.completed` of the dropped sessions is skipped. Returns how many
    events were processed.
    """
    processed = 0
    for event in events:
        if event["type"] not in HANDLERS:
            continue
        obj = event["data"]["object"]
        if event["type"] == "checkout.session.completed" and obj["id"] in dropped:
            continue
        with session_scope() as session:
            process_event(session=session, event=event)
        processed += 1
    return processed


def users_needed(objects: int) -> int:
    """Pack buyers, plus one user per plan (a user has one plan at a time)."""
    return PACK_USERS + objects // 10 + 10


def run(args) -> dict:
    """Seed, time one reconciliation, check what it found and the ledger."""
    with _common.database(args.db) as url:
        running = start_in_thread(SimConfig())
        os.environ.update(DATABASE_URL=url, STRIPE_API_BASE=running.url, PAYMENTS_MODE="simulated")
        get_settings.cache_clear()
        stripe_client._client.cache_clear()
        try:
            with session_scope() as session:
                sync_prices(session=session)
            users = _common.seed_users(url, users_needed(args.objects), credits=1)
            began = time.perf_counter()
            seeded = seed_stripe(running.sim, users, args.objects, args.dropped)
            stripe_seconds = time.perf_counter() - began
            began = time.perf_counter()
            deliveries = seed_ledger(seeded["events"], seeded["dropped"])
            ledger_seconds = time.perf_counter() - began
            print(
                f"  seeded {sum(seeded['made'].values())} objects ({seeded['purchases']} "
                f"purchases) in {stripe_seconds:.1f} s, the ledger through {deliveries} "
                f"events in {ledger_seconds:.1f} s",
                flush=True,
            )
            with running.sim.lock:
                running.sim.store.requests.clear()
            began = time.perf_counter()
            report = reconcile(since=utcnow() - timedelta(days=1))
            seconds = time.perf_counter() - began
            with running.sim.lock:
                requests = list(running.sim.store.requests)
        finally:
            running.stop()
            engine_for(url).dispose()
        found = sorted((x.kind.value, x.object) for x in report.drift)
        expected = sorted(("paid_not_granted", ref) for ref in seeded["dropped"])
        if found != expected:
            raise SystemExit(f"expected exactly the dropped deliveries, found {found[:5]}")
        problems = _common.check_ledger(url)
        if problems:
            raise SystemExit(f"ledger check failed: {problems[:3]}")
    listed = sum(report.checked[label] for label in LABELS)
    pages = [r for r in requests if r["method"] == "GET" and r["path"] in LISTS]
    return {
        "db": args.db,
        "objects": listed,
        "seconds": round(seconds, 2),
        "objects_per_s": round(listed / seconds, 1),
        "pages": len(pages),
        "requests": len(requests),
        "drift_found": len(found),
        "checked": report.checked,
        "seed_stripe_s": round(stripe_seconds, 1),
        "seed_ledger_s": round(ledger_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=10_000, help="Stripe objects to seed")
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--dropped", type=int, default=10, help="pack deliveries to drop")
    args = parser.parse_args()
    kinds, notes = _common.available_kinds([args.db])
    if not kinds:
        raise SystemExit(notes[0])
    row = run(args)
    print()
    headers = ["db", "objects", "seconds", "objects/s", "pages", "requests", "drift found"]
    keys = ["db", "objects", "seconds", "objects_per_s", "pages", "requests", "drift_found"]
    _common.print_table(headers, [[row[k] for k in keys]])
    print(f"checked: {row['checked']}")
    print(f"found exactly the {row['drift_found']} dropped deliveries; ledger check OK")
    _common.emit_json("reconcile", {"results": [row], "notes": notes})


if __name__ == "__main__":
    main()
