"""invoice.*: a paid subscription invoice grants the plan's credits once per invoice."""

from __future__ import annotations

import logging
from typing import Any

from credits_app.services.billing.handlers.context import (
    EventContext,
    credits_for_price,
    grant_once,
    record_payment,
    user_from,
)
from credits_app.services.billing.handlers.subscriptions import sync_subscription
from credits_app.services.billing.stripe_client import stripe_errors

logger = logging.getLogger(__name__)
SOURCE = "stripe_invoice"
# First period and renewals grant; prorations (plan switches) and manual invoices do not.
GRANTING_REASONS = {"subscription_create": "first period", "subscription_cycle": "renewal"}
# A plan switch that changes the interval restarts the cycle: Stripe bills the new plan's
# whole period on the switch invoice (a line that is not a proration), so it grants too.
NEW_PERIOD_REASON = "new period after a plan change"


def paid(ctx: EventContext) -> None:
    """Grant the plan's credits for an invoice that pays a whole period of a plan."""
    invoice = ctx.obj
    reason = GRANTING_REASONS.get(invoice.get("billing_reason"))
    if invoice.get("billing_reason") == "subscription_update" and _price_of(invoice):
        reason = NEW_PERIOD_REASON
    if reason is None:
        return
    _, metadata = subscription_of(invoice)
    user_id = user_from(ctx, metadata, invoice.get("customer"))
    if user_id is None:
        logger.warning("invoice %s belongs to no user of ours", invoice["id"])
        return
    price_id = _price_of(invoice)
    if price_id is None:
        logger.error("invoice %s has no subscription line with a price", invoice["id"])
        return
    credits, name = credits_for_price(ctx, price_id)
    grant_once(ctx, user_id, credits, SOURCE, invoice["id"], f"{name} {reason} (Stripe invoice)")
    record_payment(
        ctx,
        _payment_intent_of(ctx, invoice),
        user_id,
        source=SOURCE,
        source_ref=invoice["id"],
        amount=int(invoice.get("amount_paid") or 0),
        currency=str(invoice.get("currency") or "usd"),
        credits=credits,
    )


def payment_failed(ctx: EventContext) -> None:
    """A renewal failed: refresh the subscription's status (e.g. past_due); grant nothing."""
    subscription_id, _ = subscription_of(ctx.obj)
    if subscription_id:
        sync_subscription(ctx, subscription_id)


def subscription_of(invoice: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The invoice's subscription id and metadata (`parent.subscription_details` since 2025)."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = details.get("subscription") or invoice.get("subscription")
    if isinstance(subscription, dict):
        return subscription.get("id"), subscription.get("metadata") or {}
    return subscription, details.get("metadata") or {}


def _price_of(invoice: dict[str, Any]) -> str | None:
    for line in (invoice.get("lines") or {}).get("data") or []:
        parent = (line.get("parent") or {}).get("subscription_item_details") or {}
        if parent.get("proration"):
            continue
        details = (line.get("pricing") or {}).get("price_details") or {}
        price = details.get("price") or (line.get("price") or {}).get("id")
        if price:
            return price.get("id") if isinstance(price, dict) else price
    return None


def _payment_intent_of(ctx: EventContext, invoice: dict[str, Any]) -> str | None:
    """The payment intent that paid the invoice, via its invoice payments."""
    payments = (invoice.get("payments") or {}).get("data")
    if payments is None:
        with stripe_errors("list invoice payments"):
            listed = ctx.stripe().v1.invoice_payments.list({"invoice": invoice["id"]})
        payments = listed.to_dict()["data"]
    for payment in payments:
        if payment.get("status") == "paid":
            intent = (payment.get("payment") or {}).get("payment_intent")
            return intent.get("id") if isinstance(intent, dict) else intent
    return invoice.get("payment_intent")
