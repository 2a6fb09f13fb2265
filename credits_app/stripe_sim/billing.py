"""Subscription invoices: billing periods, line wording and drafting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .billing_objects import invoice
from .clock import add_interval
from .ids import new_id
from .invoice_items import line_of, pending_items
from .line_objects import Line, invoice_line
from .money import format_amount
from .simulator import Simulator

Obj = dict[str, Any]
__all__ = ["Line", "day", "describe", "draft_invoice", "set_cycle"]


def set_cycle(sim: Simulator, subscription: Obj, anchor: int, cycle: int) -> tuple[int, int]:
    """Put the subscription in billing period number `cycle` counted from `anchor`.

    Returns:
        The new `(current_period_start, current_period_end)`.
    """
    item = subscription["items"]["data"][0]
    recurring = item["price"]["recurring"]
    interval, count = recurring["interval"], recurring["interval_count"]
    period = (
        add_interval(anchor, interval, cycle * count),
        add_interval(anchor, interval, (cycle + 1) * count),
    )
    sim.store.billing_anchor[subscription["id"]] = (anchor, cycle)
    item["current_period_start"], item["current_period_end"] = period
    return period


def product_name(sim: Simulator, price: Obj) -> str:
    """The name of a price's product."""
    return sim.store.get("product", price["product"])["name"]


def describe(sim: Simulator, price: Obj, quantity: int) -> str:
    """Line wording like Stripe's: `1 x Monthly Plan (at $15.00 / month)`."""
    unit = format_amount(price["unit_amount"], price["currency"])
    return (
        f"{quantity} \N{MULTIPLICATION SIGN} {product_name(sim, price)} "
        f"(at {unit} / {price['recurring']['interval']})"
    )


def day(timestamp: int) -> str:
    """A date for line descriptions, e.g. `12 Mar 2027`."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%d %b %Y")


def draft_invoice(sim: Simulator, subscription: Obj, reason: str, lines: list[Line], period):
    """Create a draft invoice for a subscription and make it the `latest_invoice`.

    The subscription's pending invoice items (prorations) come first, as Stripe sorts
    them, then `lines`. The customer's balance is shown as it stands; it is applied when
    the invoice is finalized (see `collection.collect_invoice`).

    Args:
        sim: The simulator.
        subscription: The subscription being billed.
        reason: The `billing_reason`, e.g. `subscription_cycle`.
        lines: The subscription's own lines.
        period: The invoice's own `(period_start, period_end)`.
    """
    store = sim.store
    customer = store.get("customer", subscription["customer"])
    invoice_id = new_id("in_")
    items = pending_items(sim, subscription)
    billed = [line_of(sim, item) for item in items] + lines
    total = sum(line.amount for line in billed)
    due = max(total + customer["balance"], 0)
    draft = invoice(
        store.now(),
        invoice_id,
        customer,
        subscription,
        lines=[invoice_line(invoice_id, subscription, line) for line in billed],
        billing_reason=reason,
        subtotal=total,
        subtotal_excluding_tax=total,
        total=total,
        total_excluding_tax=total,
        amount_due=due,
        amount_remaining=due,
        starting_balance=customer["balance"],
        ending_balance=None,
        period_start=period[0],
        period_end=period[1],
    )
    for item in items:
        item["invoice"] = invoice_id
    subscription["latest_invoice"] = invoice_id
    return store.put(draft)
