"""Subscription invoices: periods, drafting, finalising and collecting payment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .billing_objects import invoice, invoice_line, invoice_payment
from .clock import add_interval
from .ids import new_id
from .money import format_amount
from .payments import attempt_charge, new_intent
from .simulator import Simulator

Obj = dict[str, Any]


@dataclass
class Line:
    """One invoice line to bill: amount, service period, price and wording."""

    amount: int
    period: tuple[int, int]
    price: Obj
    description: str
    proration: bool = False


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


def describe(sim: Simulator, price: Obj, quantity: int) -> str:
    """Line wording like Stripe's: `1 x Monthly Plan (at $15.00 / month)`."""
    name = sim.store.get("product", price["product"])["name"]
    unit = format_amount(price["unit_amount"], price["currency"])
    return (
        f"{quantity} \N{MULTIPLICATION SIGN} {name} (at {unit} / {price['recurring']['interval']})"
    )


def day(timestamp: int) -> str:
    """A date for line descriptions, e.g. `12 Mar 2027`."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%d %b %Y")


def draft_invoice(sim: Simulator, subscription: Obj, reason: str, lines: list[Line], period):
    """Create a draft invoice for a subscription and make it the `latest_invoice`.

    The customer's credit balance (a negative `balance`) is applied, and a negative total
    (a downgrade) becomes credit, as Stripe does.

    Args:
        sim: The simulator.
        subscription: The subscription being billed.
        reason: The `billing_reason`, e.g. `subscription_cycle`.
        lines: What to bill.
        period: The invoice's own `(period_start, period_end)`.
    """
    store = sim.store
    customer = store.get("customer", subscription["customer"])
    invoice_id = new_id("in_")
    built = [
        invoice_line(
            invoice_id,
            subscription,
            line.amount,
            line.period,
            price=line.price,
            description=line.description,
            proration=line.proration,
        )
        for line in lines
    ]
    total = sum(line.amount for line in lines)
    combined = total + customer["balance"]
    draft = invoice(
        store.now(),
        invoice_id,
        customer,
        subscription,
        lines=built,
        billing_reason=reason,
        subtotal=total,
        subtotal_excluding_tax=total,
        total=total,
        total_excluding_tax=total,
        amount_due=max(combined, 0),
        amount_remaining=max(combined, 0),
        starting_balance=customer["balance"],
        ending_balance=None,
        period_start=period[0],
        period_end=period[1],
    )
    customer["balance"] = min(combined, 0)
    subscription["latest_invoice"] = invoice_id
    return store.put(draft)


def collect_invoice(sim: Simulator, draft: Obj) -> bool:
    """Announce, finalise and try to pay a draft invoice.

    Emits `invoice.created` and `invoice.finalized`, then the events of `pay_invoice`.

    Returns:
        True when the invoice ended up paid.
    """
    store = sim.store
    sim.events.emit("invoice.created", draft)
    customer = store.get("customer", draft["customer"])
    sequence = customer["next_invoice_sequence"]
    customer["next_invoice_sequence"] = sequence + 1
    now = store.now()
    draft.update(
        status="open",
        number=f"{customer['invoice_prefix']}-{sequence:04d}",
        effective_at=now,
        ending_balance=customer["balance"],
        webhooks_delivered_at=now,
    )
    draft["status_transitions"]["finalized_at"] = now
    sim.events.emit("invoice.finalized", draft)
    return pay_invoice(sim, draft)


def pay_invoice(sim: Simulator, open_invoice: Obj) -> bool:
    """Charge the customer's card for an open invoice.

    Emits `invoice.paid` + `invoice.payment_succeeded`, or `invoice.payment_failed`.

    Returns:
        True when paid.
    """
    store = sim.store
    open_invoice.update(attempted=True, attempt_count=open_invoice["attempt_count"] + 1)
    if open_invoice["amount_due"] > 0:
        payment = _payment_record(sim, open_invoice)
        intent = store.get("payment_intent", payment["payment"]["payment_intent"])
        charge = attempt_charge(sim, intent, store.card_for(open_invoice["customer"]))
        if not charge["paid"]:
            sim.events.emit("invoice.payment_failed", open_invoice)
            return False
        payment.update(status="paid", amount_paid=open_invoice["amount_due"])
        payment["status_transitions"]["paid_at"] = store.now()
    open_invoice.update(status="paid", amount_paid=open_invoice["amount_due"], amount_remaining=0)
    open_invoice["status_transitions"]["paid_at"] = store.now()
    sim.events.emit("invoice.paid", open_invoice)
    sim.events.emit("invoice.payment_succeeded", open_invoice)
    return True


def _payment_record(sim: Simulator, open_invoice: Obj) -> Obj:
    """The invoice's open invoice payment, created with its payment intent on first use."""
    for payment in sim.store.all("invoice_payment"):
        if payment["invoice"] == open_invoice["id"] and payment["status"] == "open":
            return payment
    intent = new_intent(
        sim,
        open_invoice["amount_due"],
        open_invoice["currency"],
        open_invoice["customer"],
        description=open_invoice["billing_reason"].replace("_", " ").capitalize(),
    )
    return sim.store.put(invoice_payment(sim.store.now(), open_invoice, intent["id"], paid=False))
