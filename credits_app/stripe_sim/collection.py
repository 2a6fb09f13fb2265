"""Finalizing invoices and collecting their payment (from the balance, then the card)."""

from __future__ import annotations

from typing import Any

from .billing_objects import invoice_payment
from .customer_balance import apply_balance
from .payments import attempt_charge, new_intent
from .simulator import Simulator

Obj = dict[str, Any]


def collect_invoice(sim: Simulator, draft: Obj) -> bool:
    """Announce, finalize and try to pay a draft invoice.

    Emits `invoice.created`, applies the customer's balance (`customer.updated` when it
    changes), emits `invoice.finalized`, then the events of `pay_invoice`.

    Returns:
        True when the invoice ended up paid.
    """
    store = sim.store
    sim.events.emit("invoice.created", draft)
    customer = store.get("customer", draft["customer"])
    sequence = customer["next_invoice_sequence"]
    customer["next_invoice_sequence"] = sequence + 1
    apply_balance(sim, draft)
    now = store.now()
    draft.update(
        status="open",
        number=f"{customer['invoice_prefix']}-{sequence:04d}",
        effective_at=now,
        webhooks_delivered_at=now,
    )
    draft["status_transitions"]["finalized_at"] = now
    if draft["amount_due"] > 0:
        # Stripe creates the invoice's payment intent when it finalizes the invoice.
        _payment_record(sim, draft)
    sim.events.emit("invoice.finalized", draft)
    return pay_invoice(sim, draft)


def pay_invoice(sim: Simulator, open_invoice: Obj) -> bool:
    """Charge the customer's card for what an open invoice still owes.

    Emits `invoice.paid` + `invoice.payment_succeeded`, or `invoice.payment_failed`. An
    invoice the balance covered (`amount_due` 0) is paid without a payment intent;
    `amount_paid` counts only money collected, so it stays 0 then. Stripe sends
    `invoice.payment_succeeded` for such $0 invoices (trials) too.

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
