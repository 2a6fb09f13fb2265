"""checkout.session.*: a paid pack grants its credits once per Checkout session.

Plans are credited by their invoices; a completed plan checkout stores the subscription
right away (so the success page can show it) and expires the user's other open plan
sessions, so a second plan cannot be paid from a tab left open.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from credits_app.services.billing.handlers.context import (
    EventContext,
    Handler,
    Lookup,
    is_ours,
    user_from,
)
from credits_app.services.billing.handlers.purchases import (
    BilledLine,
    PurchaseFacts,
    apply_purchase,
)
from credits_app.services.billing.handlers.subscriptions import (
    SubscriptionFacts,
    fetch_subscription_facts,
    store_subscription,
)
from credits_app.services.billing.open_sessions import expire_open_plan_sessions
from credits_app.services.billing.rates import rates_for
from credits_app.services.billing.stripe_client import stripe_errors
from credits_app.services.billing.stripe_shapes import object_id
from credits_app.services.errors import Unavailable

logger = logging.getLogger(__name__)
# A 100 % coupon completes a session without a payment; the coupon is the operator's choice.
PAID = ("paid", "no_payment_required")


@dataclass(frozen=True)
class CheckoutFacts:
    """A paid pack to credit, or a plan's subscription to store, or why neither."""

    purchase: PurchaseFacts | None = None
    subscription: SubscriptionFacts | None = None
    skipped: str | None = None
    skip_level: int = logging.INFO
    foreign: bool = False


def _prepare_completed(lookup: Lookup) -> CheckoutFacts:
    checkout = lookup.obj
    if checkout.get("mode") == "subscription":
        customer = object_id(checkout.get("customer"))
        if customer and is_ours(checkout.get("metadata")):
            expire_open_plan_sessions(customer, keep=checkout["id"])
        subscription = object_id(checkout.get("subscription"))
        facts = fetch_subscription_facts(lookup, subscription) if subscription else None
        return CheckoutFacts(subscription=facts)
    return _prepare_pack(lookup)


def _prepare_pack(lookup: Lookup) -> CheckoutFacts:
    checkout = lookup.obj
    if checkout.get("mode") != "payment" or checkout.get("payment_status") not in PAID:
        return CheckoutFacts(skipped=f"checkout {checkout['id']} is not paid yet")
    metadata = checkout.get("metadata") or {}
    lines = _lines(lookup, checkout)
    if not any(line.rate for line in lines):
        return CheckoutFacts(
            skipped=f"checkout {checkout['id']} sold nothing of ours", foreign=True
        )
    user_id = user_from(lookup.db, metadata, checkout.get("customer"))
    if user_id is None:
        reason = f"checkout {checkout['id']} belongs to no user of ours"
        return CheckoutFacts(skipped=reason, skip_level=logging.WARNING, foreign=True)
    amount = int(checkout.get("amount_total") or 0)
    purchase = PurchaseFacts(
        id=checkout["id"],
        kind="checkout",
        user_id=user_id,
        lines=lines,
        currency=str(checkout.get("currency") or "usd"),
        total=amount,
        amount_paid=amount,
        payment_intent_id=object_id(checkout.get("payment_intent")),
        label=next(line.rate.name for line in lines if line.rate),
        paid_at=datetime.fromtimestamp(lookup.created, UTC),
    )
    return CheckoutFacts(purchase=purchase)


def _lines(lookup: Lookup, checkout: dict[str, Any]) -> tuple[BilledLine, ...]:
    """What the session sold: our metadata names the price; otherwise ask for its lines.

    The amount is the subtotal before discounts, so credits follow the list price.
    """
    metadata = checkout.get("metadata") or {}
    if is_ours(metadata):
        price_id = str(metadata["price_id"])
        rate = rates_for(lookup.db, [price_id])[price_id]
        if rate is None:
            # Sold by our Checkout, so it must buy credits: retry once the price is fixed.
            logger.error("price %s of checkout %s grants no credits", price_id, checkout["id"])
            raise Unavailable(f"price {price_id} of checkout {checkout['id']} has no credits")
        amount = int(checkout.get("amount_subtotal") or 0)
        quantity = max(1, amount // rate.unit_amount)
        return (BilledLine(price_id, price_id, quantity, amount, rate),)
    with stripe_errors("read checkout line items"):
        listed = lookup.stripe().v1.checkout.sessions.line_items.list(checkout["id"])
        items = [item.to_dict() for item in listed.auto_paging_iter()]
    rates = rates_for(lookup.db, (object_id(item.get("price")) for item in items))
    return tuple(
        BilledLine(
            ref=item["id"],
            price_id=object_id(item.get("price")),
            quantity=int(item.get("quantity") or 1),
            amount=int(item.get("amount_subtotal") or 0),
            rate=rates.get(object_id(item.get("price")) or ""),
            description=item.get("description"),
        )
        for item in items
    )


def _apply_completed(ctx: EventContext) -> None:
    facts: CheckoutFacts = ctx.facts
    if facts.subscription is not None:
        store_subscription(ctx, facts.subscription)
    if facts.purchase is not None:
        apply_purchase(ctx, facts.purchase)
    elif facts.foreign:
        ctx.ignore(facts.skipped or "nothing of ours", facts.skip_level)
    elif facts.skipped:
        ctx.note(facts.skipped)


def _apply_failed(ctx: EventContext) -> None:
    """A delayed payment failed: nothing was granted, so nothing to undo."""
    ctx.note(f"checkout {ctx.obj.get('id')}: delayed payment failed")


completed = Handler(prepare=_prepare_completed, apply=_apply_completed)
# A delayed payment (e.g. a bank debit) went through: the same as paying at once.
async_payment_succeeded = Handler(prepare=_prepare_pack, apply=_apply_completed)
async_payment_failed = Handler(apply=_apply_failed)
