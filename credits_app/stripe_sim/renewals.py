"""The test clock: moving time forward renews, cancels and expires what fell due."""

from __future__ import annotations

import copy
from typing import Any

from .async_payments import settle_pending
from .billing import Line, describe, draft_invoice, set_cycle
from .collection import collect_invoice
from .errors import invalid
from .refunds import settle_pending_refunds
from .simulator import Simulator

Obj = dict[str, Any]
_BILLED_STATUSES = ("active", "past_due", "trialing")
MAX_ADVANCE = 10 * 366 * 86_400


def advance_clock(sim: Simulator, seconds: int) -> Obj:
    """Move the clock forward and process every period boundary passed, oldest first.

    Each boundary is processed with the clock pinned to it, so invoices and events carry
    the time they would have had in real life.

    Args:
        sim: The simulator.
        seconds: How far to move (must not be negative).

    Returns:
        A summary: the new `now`, and what `renewed`, was `canceled`, `expired_sessions`,
        `settled_sessions` (delayed payments) and `settled_refunds`.
    """
    if seconds < 0:
        raise invalid("The test clock can only move forward.", param="seconds")
    if seconds > MAX_ADVANCE:
        # Each call holds the store lock while it renews; keep that bounded.
        raise invalid("The test clock moves at most 10 years per call.", param="seconds")
    store = sim.store
    start = store.now()
    target = start + seconds
    summary: Obj = {"renewed": [], "canceled": [], "expired_sessions": []}
    while (due := _next_due(sim, target)) is not None:
        boundary, sub = due
        with store.clock.pinned(max(boundary, start)):
            if sub["cancel_at_period_end"]:
                summary["canceled"].append(_end_at_period_end(sim, sub))
            else:
                summary["renewed"].append(_renew(sim, sub))
    store.clock.advance(max(0, target - store.now()))
    summary["expired_sessions"] = _expire_sessions(sim)
    # Bank debits take days; any move of the clock lets the delayed payments land.
    summary["settled_sessions"] = settle_pending(sim)
    # Likewise refunds that were going to succeed or fail "some time later".
    summary["settled_refunds"] = settle_pending_refunds(sim)
    summary["now"] = store.now()
    return summary


def _next_due(sim: Simulator, target: int) -> tuple[int, Obj] | None:
    due = [
        (sub["items"]["data"][0]["current_period_end"], sub)
        for sub in reversed(sim.store.all("subscription"))
        if sub["status"] in _BILLED_STATUSES
    ]
    due = [entry for entry in due if entry[0] <= target]
    return min(due, key=lambda entry: entry[0]) if due else None


def _end_at_period_end(sim: Simulator, sub: Obj) -> str:
    sub.update(status="canceled", ended_at=sub["items"]["data"][0]["current_period_end"])
    sim.events.emit("customer.subscription.deleted", sub)
    return sub["id"]


def _renew(sim: Simulator, sub: Obj) -> Obj:
    """Start the next period and bill it (`billing_reason: subscription_cycle`).

    The pending invoice items (prorations) come first on that invoice. A trial that ends
    is billed the same way and becomes `active` once paid.
    """
    item = sub["items"]["data"][0]
    previous: Obj = {"items": copy.deepcopy(sub["items"]), "latest_invoice": sub["latest_invoice"]}
    ended = (item["current_period_start"], item["current_period_end"])
    anchor, cycle = sim.store.billing_anchor[sub["id"]]
    period = set_cycle(sim, sub, anchor, cycle + 1)
    amount = item["price"]["unit_amount"] * item["quantity"]
    text = describe(sim, item["price"], item["quantity"])
    line = Line(amount, period, item["price"], text, item["quantity"])
    draft = draft_invoice(sim, sub, "subscription_cycle", [line], ended)
    paid = collect_invoice(sim, draft)
    new_status = "active" if paid else "past_due"
    if sub["status"] != new_status:
        previous["status"] = sub["status"]
        sub["status"] = new_status
    sim.events.emit("customer.subscription.updated", sub, previous)
    return {
        "subscription": sub["id"],
        "invoice": draft["id"],
        "invoice_status": draft["status"],
        "period_start": period[0],
        "period_end": period[1],
    }


def _expire_sessions(sim: Simulator) -> list[str]:
    now = sim.store.now()
    expired = []
    for session in reversed(sim.store.all("checkout.session")):
        if session["status"] == "open" and session["expires_at"] <= now:
            session["status"] = "expired"
            sim.events.emit("checkout.session.expired", session)
            expired.append(session["id"])
    return expired
