"""One subscription per user: when two get paid anyway, cancel and refund the newer one.

Checkout expires a user's other open plan sessions when one is created or completed, but
two sessions paid at the same moment can still both succeed. Whichever event first sees
both live subscriptions at Stripe cancels the newer one (by creation time, then id) and
refunds its payments in full; the refund's own events then claw its credits back. Every
call is idempotent, so concurrent deliveries converge on the same outcome.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe

from credits_app.services.billing.customers import user_of_customer
from credits_app.services.billing.handlers.context import Lookup
from credits_app.services.billing.stripe_client import stripe_errors
from credits_app.services.billing.stripe_shapes import invoice_payment_intent, object_id
from credits_app.services.billing.subscriptions import ACTIVE_STATUSES, fetch_subscription

logger = logging.getLogger(__name__)


def settle_duplicates(lookup: Lookup, data: dict[str, Any]) -> dict[str, Any]:
    """Cancel and refund every live subscription of this user's customer but the oldest.

    Returns:
        The subscription `data` describes, re-fetched when it was the one canceled.
    """
    customer = object_id(data.get("customer"))
    if data.get("status") not in ACTIVE_STATUSES or customer is None:
        return data
    if user_of_customer(session=lookup.db, stripe_customer_id=customer) is None:
        return data
    client = lookup.stripe()
    with stripe_errors("list a customer's subscriptions"):
        listed = client.v1.subscriptions.list({"customer": customer, "limit": 100})
        live = [s.to_dict() for s in listed.auto_paging_iter()]
    live = [s for s in live if s.get("status") in ACTIVE_STATUSES]
    if len(live) < 2:
        return data
    keep = min(live, key=lambda s: (s.get("created") or 0, s["id"]))
    for sub in live:
        if sub["id"] != keep["id"]:
            logger.warning(
                "customer %s paid for two subscriptions: canceling and refunding the newer %s",
                customer,
                sub["id"],
            )
            _cancel_and_refund(client, sub["id"])
    if data["id"] == keep["id"]:
        return data
    return fetch_subscription(data["id"]) or data


def _cancel_and_refund(client: stripe.StripeClient, subscription_id: str) -> None:
    with stripe_errors("cancel a duplicate subscription"):
        try:
            client.v1.subscriptions.cancel(
                subscription_id,
                {"prorate": False},
                {"idempotency_key": f"credits-duplicate-cancel-{subscription_id}"},
            )
        except stripe.InvalidRequestError:
            logger.info("subscription %s was canceled already", subscription_id)
        invoices = client.v1.invoices.list({"subscription": subscription_id, "limit": 100})
        for invoice in invoices.auto_paging_iter():
            _refund_invoice(client, invoice.to_dict())


def _refund_invoice(client: stripe.StripeClient, invoice: dict[str, Any]) -> None:
    if invoice.get("status") != "paid" or not invoice.get("amount_paid"):
        return
    intent = invoice_payment_intent(invoice)
    if intent is None:
        payments = client.v1.invoice_payments.list({"invoice": invoice["id"]})
        intent = invoice_payment_intent({"payments": payments.to_dict()})
    if intent is None:
        return
    try:
        client.v1.refunds.create(
            {"payment_intent": intent, "metadata": {"reason": "duplicate_subscription"}},
            {"idempotency_key": f"credits-duplicate-refund-{intent}"},
        )
    except stripe.InvalidRequestError:
        logger.info("payment %s of invoice %s was refunded already", intent, invoice["id"])
