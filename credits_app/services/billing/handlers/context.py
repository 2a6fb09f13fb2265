"""What every event handler gets, and the exactly-once ledger writes they share."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import stripe
from sqlalchemy import select
from sqlmodel import Session

from credits_app.models import EntryKind, LedgerEntry, Price, Product, StripePayment, User
from credits_app.services.billing.catalogue_sync import included_credits
from credits_app.services.billing.customers import user_of_customer
from credits_app.services.billing.stripe_client import get_stripe_client, stripe_errors
from credits_app.services.errors import Unavailable
from credits_app.services.ledger import LedgerResult, post_clawback, post_grant

logger = logging.getLogger(__name__)
entries = LedgerEntry.__table__


@dataclass
class EventContext:
    """One event being applied inside the webhook's transaction.

    Attributes:
        session: The open transaction; handlers write without committing.
        event: The verified event as a dict.
        changed: The last ledger result per user whose balance this event changed.
    """

    session: Session
    event: dict[str, Any]
    changed: dict[int, LedgerResult] = field(default_factory=dict)

    @property
    def obj(self) -> dict[str, Any]:
        """The event's `data.object`."""
        return self.event["data"]["object"]

    @property
    def created(self) -> int:
        """When Stripe created the event (unix seconds)."""
        return self.event["created"]

    def stripe(self) -> stripe.StripeClient:
        """The Stripe client, for re-fetching objects."""
        return get_stripe_client()


def find_entry(session: Session, kind: str, source: str, ref: str) -> Any:
    """Return the ledger entry written for this business object, if any."""
    query = select(entries).where(
        entries.c.kind == kind, entries.c.source == source, entries.c.source_ref == ref
    )
    return session.execute(query).first()


def grant_once(ctx: EventContext, user_id: int, amount: int, source: str, ref: str, reason: str):
    """Grant credits for a Stripe object unless it granted already; True if it did now."""
    return _post_once(ctx, EntryKind.GRANT, post_grant, user_id, amount, source, ref, reason)


def clawback_once(ctx: EventContext, user_id: int, amount: int, source: str, ref: str, reason):
    """Claw credits back for a Stripe object unless it did already; True if it did now."""
    return _post_once(ctx, EntryKind.CLAWBACK, post_clawback, user_id, amount, source, ref, reason)


def _post_once(ctx: EventContext, kind, post, user_id, amount, source, ref, reason) -> bool:
    if amount <= 0 or find_entry(ctx.session, kind, source, ref) is not None:
        return False
    ctx.changed[user_id] = post(
        ctx.session,
        user_id=user_id,
        amount=amount,
        reason=reason[:255],
        idempotency_key=f"{source}:{ref}",
        source=source,
        source_ref=ref,
    )
    return True


def user_from(ctx: EventContext, metadata: Any, customer: Any, reference: Any = None):
    """Find our user: client reference or metadata user id first, then the Stripe customer."""
    for raw in (reference, (metadata or {}).get("user_id")):
        if isinstance(raw, str) and raw.isdigit() and ctx.session.get(User, int(raw)):
            return int(raw)
    if isinstance(customer, dict):
        customer = customer.get("id")
    return user_of_customer(session=ctx.session, stripe_customer_id=customer)


def credits_for_price(ctx: EventContext, price_id: str) -> tuple[int, str]:
    """Return (credits, product name) for a price: from the catalogue, else from Stripe.

    Raises:
        Unavailable: When the price carries no usable includedCredits, so Stripe retries
            after an operator fixes the metadata rather than the purchase granting nothing.
    """
    row = ctx.session.get(Price, price_id)
    if row is not None:
        product = ctx.session.get(Product, row.product_id)
        return row.included_credits, product.name if product else price_id
    with stripe_errors("look up a price"):
        price = ctx.stripe().v1.prices.retrieve(price_id).to_dict()
    credits, problem = included_credits(price)
    if credits is None:
        logger.error("price %s cannot grant credits: %s", price_id, problem)
        raise Unavailable(f"price {price_id} cannot grant credits: {problem}")
    return credits, price.get("nickname") or price_id


def record_payment(ctx: EventContext, intent: str | None, user_id: int, **values: Any) -> None:
    """Remember what a payment intent bought, so refunds and disputes can claw it back."""
    if not intent or ctx.session.get(StripePayment, intent) is not None:
        return
    ctx.session.add(StripePayment(payment_intent_id=intent, user_id=user_id, **values))
    ctx.session.flush()


# How long a refund or dispute of a payment we have not recorded yet is retried (by answering
# 5xx): its purchase event may still be on its way, e.g. after a failed delivery.
UNKNOWN_PAYMENT_RETRY_SECONDS = 24 * 3600


def payment_of(ctx: EventContext, intent: Any) -> StripePayment | None:
    """The recorded payment for a payment intent id (or expanded object), locked, if any.

    The row lock serialises refunds and disputes of one payment (on PostgreSQL; SQLite
    writers are serial anyway), so each sees what the other clawed back.

    Raises:
        Unavailable: When the payment is unknown but the event is recent: its purchase may
            not have been applied yet, so Stripe should deliver this event again later.
    """
    if isinstance(intent, dict):
        intent = intent.get("id")
    if not isinstance(intent, str):
        return None
    payment = ctx.session.get(StripePayment, intent, with_for_update=True, populate_existing=True)
    if payment is None and time.time() - ctx.created < UNKNOWN_PAYMENT_RETRY_SECONDS:
        raise Unavailable(f"payment {intent} is not recorded yet; retry this event later")
    return payment
