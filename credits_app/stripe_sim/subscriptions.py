"""Subscription lifecycle: start from checkout (with an optional trial), cancel, past due."""

from __future__ import annotations

from typing import Any

from .billing import Line, describe, draft_invoice, product_name, set_cycle
from .collection import collect_invoice
from .errors import invalid
from .simulator import Simulator
from .subscription_objects import subscription

Obj = dict[str, Any]


def start_subscription(
    sim: Simulator, customer: Obj, line: Obj, metadata: dict[str, str], trial_end: int | None = None
):
    """Create a subscription from a checkout line item and bill its first period.

    With `trial_end` the subscription is `trialing` until then: its first invoice
    (`subscription_create`) has one $0 line, "Trial period for <product>", and the first
    full period is billed when the clock reaches `trial_end` (`subscription_cycle`), as
    Stripe bills trials.

    Emits `customer.subscription.created`, then the first invoice's events.

    Returns:
        `(subscription, invoice)`.
    """
    store = sim.store
    now = store.now()
    price, quantity = line["price"], line["quantity"]
    sub = subscription(now, customer["id"], price, quantity, (now, now), metadata=metadata)
    if trial_end is None:
        period = set_cycle(sim, sub, now, 0)
        amount, text = price["unit_amount"] * quantity, describe(sim, price, quantity)
    else:
        # The trial is period -1 of a cycle anchored at its end, so renewals follow on.
        set_cycle(sim, sub, trial_end, -1)
        period = (now, trial_end)
        item = sub["items"]["data"][0]
        item["current_period_start"], item["current_period_end"] = period
        sub.update(
            status="trialing", trial_start=now, trial_end=trial_end, billing_cycle_anchor=trial_end
        )
        amount, text = 0, f"Trial period for {product_name(sim, price)}"
    first = Line(amount, period, price, text, quantity)
    store.put(sub)
    draft = draft_invoice(sim, sub, "subscription_create", [first], (now, now))
    sim.events.emit("customer.subscription.created", sub)
    collect_invoice(sim, draft)
    return sub, draft


def cancel_subscription(sim: Simulator, subscription_id: str) -> Obj:
    """Cancel now (`DELETE /v1/subscriptions/{id}`); emits `customer.subscription.deleted`."""
    sub = sim.store.get("subscription", subscription_id)
    if sub["status"] == "canceled":
        raise invalid(f"Subscription {subscription_id} is already canceled.")
    now = sim.store.now()
    sub.update(status="canceled", canceled_at=now, ended_at=now, cancel_at_period_end=False)
    sub["cancellation_details"]["reason"] = "cancellation_requested"
    sim.events.emit("customer.subscription.deleted", sub)
    return sub


def mark_past_due(sim: Simulator, sub: Obj) -> None:
    """A payment failed: `past_due` and `customer.subscription.updated`."""
    if sub["status"] in ("active", "trialing"):
        previous = {"status": sub["status"]}
        sub["status"] = "past_due"
        sim.events.emit("customer.subscription.updated", sub, previous)
