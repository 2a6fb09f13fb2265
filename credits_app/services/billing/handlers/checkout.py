"""checkout.session.*: a paid pack grants its credits once per Checkout session."""

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
SOURCE = "stripe_checkout"


def completed(ctx: EventContext) -> None:
    """Grant a pack paid at once; plans are granted by `invoice.paid`, delayed ones later.

    For a plan, the subscription is stored right away, so the success page can show it even
    before `customer.subscription.created` arrives.
    """
    if ctx.obj.get("mode") == "payment" and ctx.obj.get("payment_status") == "paid":
        _grant_pack(ctx)
    subscription = ctx.obj.get("subscription")
    if ctx.obj.get("mode") == "subscription" and subscription:
        sync_subscription(
            ctx, subscription.get("id") if isinstance(subscription, dict) else subscription
        )


def async_payment_succeeded(ctx: EventContext) -> None:
    """Grant a pack whose delayed payment (e.g. a bank debit) went through."""
    if ctx.obj.get("mode") == "payment" and ctx.obj.get("payment_status") == "paid":
        _grant_pack(ctx)


def async_payment_failed(ctx: EventContext) -> None:
    """A delayed payment failed: nothing was granted, so nothing to undo."""
    logger.info("checkout session %s: delayed payment failed", ctx.obj.get("id"))


def _grant_pack(ctx: EventContext) -> None:
    checkout = ctx.obj
    metadata = checkout.get("metadata") or {}
    user_id = user_from(
        ctx, metadata, checkout.get("customer"), checkout.get("client_reference_id")
    )
    if user_id is None:
        logger.warning("checkout session %s belongs to no user of ours", checkout["id"])
        return
    price_id, quantity = _price_of(ctx, checkout)
    credits, name = credits_for_price(ctx, price_id)
    credits *= quantity
    grant_once(ctx, user_id, credits, SOURCE, checkout["id"], f"{name} (Stripe checkout)")
    intent = checkout.get("payment_intent")
    record_payment(
        ctx,
        intent.get("id") if isinstance(intent, dict) else intent,
        user_id,
        source=SOURCE,
        source_ref=checkout["id"],
        amount=int(checkout.get("amount_total") or 0),
        currency=str(checkout.get("currency") or "usd"),
        credits=credits,
    )


def _price_of(ctx: EventContext, checkout: dict[str, Any]) -> tuple[str, int]:
    """The price bought, from our own metadata, else from the session's line items."""
    price_id = (checkout.get("metadata") or {}).get("price_id")
    if isinstance(price_id, str) and price_id:
        return price_id, 1
    with stripe_errors("read checkout line items"):
        items = ctx.stripe().v1.checkout.sessions.line_items.list(checkout["id"]).to_dict()
    first = items["data"][0]
    return first["price"]["id"], int(first.get("quantity") or 1)
