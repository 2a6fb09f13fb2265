"""A user's subscription: as the app last heard it from Stripe, or fetched afresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from sqlmodel import Session, select

from credits_app.models import Price, Product, Subscription, utcnow
from credits_app.services.billing.stripe_client import get_stripe_client, stripe_errors

# Statuses in which a subscription still entitles the user (Stripe's names).
ACTIVE_STATUSES = ("active", "trialing", "past_due")


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription as pages and the API show it."""

    id: str
    status: str
    price_id: str | None
    plan_name: str | None
    interval: str | None
    included_credits: int | None
    current_period_end: datetime | None
    cancel_at_period_end: bool


def active_subscription(*, session: Session, user_id: int) -> SubscriptionView | None:
    """Return the user's current subscription (active, trialing or past due), if any.

    When several are active (should not happen, checkout refuses a second) the one with the
    newest Stripe state wins.
    """
    query = (
        select(Subscription, Price, Product)
        .join(Price, Price.id == Subscription.price_id, isouter=True)
        .join(Product, Product.id == Price.product_id, isouter=True)
        .where(Subscription.user_id == user_id, Subscription.status.in_(ACTIVE_STATUSES))
        .order_by(Subscription.stripe_state_at.desc())
    )
    row = session.exec(query).first()
    if row is None:
        return None
    sub, price, product = row
    return SubscriptionView(
        id=sub.id,
        status=sub.status,
        price_id=sub.price_id,
        plan_name=product.name if product else None,
        interval=price.interval if price else None,
        included_credits=price.included_credits if price else None,
        current_period_end=sub.current_period_end,
        cancel_at_period_end=sub.cancel_at_period_end,
    )


def fetch_subscription(subscription_id: str) -> dict[str, Any] | None:
    """The subscription as Stripe has it now, or None when Stripe does not know it.

    Raises:
        Unavailable: When Stripe cannot be reached.
    """
    with stripe_errors("fetch a subscription"):
        try:
            return get_stripe_client().v1.subscriptions.retrieve(subscription_id).to_dict()
        except stripe.InvalidRequestError:
            # Gone, or from another account: the event's snapshot is all there is.
            return None


def _when(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None


def copy_state(row: Subscription, data: dict[str, Any]) -> None:
    """Copy a Stripe subscription's status, price and period onto our row."""
    items = (data.get("items") or {}).get("data") or [{}]
    item = items[0]
    customer = data.get("customer")
    row.stripe_customer_id = customer.get("id") if isinstance(customer, dict) else customer or ""
    row.price_id = (item.get("price") or {}).get("id") or row.price_id
    row.status = data.get("status") or row.status
    # Since API 2025-03-31 the period lives on the items; older shapes had it on the top.
    row.current_period_start = _when(item.get("current_period_start")) or _when(
        data.get("current_period_start")
    )
    row.current_period_end = _when(item.get("current_period_end")) or _when(
        data.get("current_period_end")
    )
    row.cancel_at_period_end = bool(data.get("cancel_at_period_end"))
    row.canceled_at = _when(data.get("canceled_at"))
    row.updated_at = utcnow()
