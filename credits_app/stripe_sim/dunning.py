"""Recovering unpaid invoices: paying an open invoice again, `past_due` back to `active`."""

from __future__ import annotations

from typing import Any

from .collection import pay_invoice
from .errors import StripeError, invalid
from .simulator import Simulator

Obj = dict[str, Any]


def retry_invoice(sim: Simulator, invoice_id: str) -> Obj:
    """`POST /v1/invoices/{id}/pay`: charge the customer's current card again.

    Emits the events of `pay_invoice`; when the invoice is its subscription's latest and
    the subscription was `past_due`, it becomes `active` (`customer.subscription.updated`).

    Raises:
        StripeError: 400 when the invoice is not open, a `card_error` when the card fails.
    """
    store = sim.store
    found = store.get("invoice", invoice_id)
    if found["status"] != "open":
        raise invalid(
            f"Invoice {invoice_id} is {found['status']} and cannot be paid.",
            code="invoice_not_open",
        )
    if not pay_invoice(sim, found):
        intent = _latest_intent(sim, invoice_id)
        error = (intent or {}).get("last_payment_error") or {"message": "Payment failed."}
        extra = {k: v for k, v in error.items() if k not in ("message", "type", "doc_url")}
        raise StripeError(402, error["message"], type="card_error", **extra)
    subscription_id = found["parent"]["subscription_details"]["subscription"]
    sub = store.find(subscription_id)
    if sub and sub["status"] == "past_due" and sub["latest_invoice"] == invoice_id:
        sub["status"] = "active"
        sim.events.emit("customer.subscription.updated", sub, {"status": "past_due"})
    return found


def _latest_intent(sim: Simulator, invoice_id: str) -> Obj | None:
    for payment in sim.store.all("invoice_payment"):
        if payment["invoice"] == invoice_id:
            return sim.store.find(payment["payment"]["payment_intent"])
    return None
