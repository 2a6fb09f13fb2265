"""Find the recorded payment behind a refund or dispute, and what was clawed from it so far."""

from __future__ import annotations

import logging
import time
from enum import StrEnum
from typing import Any

import stripe
from sqlalchemy import func
from sqlmodel import Session, select

from credits_app.models import StripeDispute, StripePayment, StripeRefund
from credits_app.services.billing.customers import user_of_customer
from credits_app.services.billing.handlers.context import EventContext, Lookup, is_ours
from credits_app.services.billing.stripe_client import stripe_errors
from credits_app.services.billing.stripe_shapes import object_id
from credits_app.services.errors import Unavailable

logger = logging.getLogger(__name__)
# How long a refund or dispute of a payment of ours that is not recorded yet is retried (by
# answering 503): its purchase event may still be on its way, e.g. after a failed delivery.
UNKNOWN_PAYMENT_RETRY_SECONDS = 24 * 3600


class PaymentState(StrEnum):
    """What the app knows of the payment an event is about."""

    KNOWN = "known"  # recorded: it bought credits here
    FOREIGN = "foreign"  # not sold by this app: acknowledge and ignore
    NEVER_LANDED = "never_landed"  # ours, but its purchase never arrived within a day


def payment_state(lookup: Lookup, intent: Any) -> PaymentState:
    """Classify the payment intent behind an event (prepare phase).

    Raises:
        Unavailable: When the payment is ours but not recorded yet and the event is recent,
            so Stripe delivers it again once the purchase has landed.
    """
    intent = object_id(intent)
    if intent is None:
        return PaymentState.FOREIGN
    if lookup.db.get(StripePayment, intent) is not None:
        return PaymentState.KNOWN
    if not _intent_is_ours(lookup, intent):
        return PaymentState.FOREIGN
    if time.time() - lookup.created < UNKNOWN_PAYMENT_RETRY_SECONDS:
        raise Unavailable(f"payment {intent} is not recorded yet; retry this event later")
    return PaymentState.NEVER_LANDED


def _intent_is_ours(lookup: Lookup, intent: str) -> bool:
    """A payment of ours carries our Checkout metadata or belongs to one of our customers."""
    with stripe_errors("fetch a payment intent"):
        try:
            data = lookup.stripe().v1.payment_intents.retrieve(intent).to_dict()
        except stripe.InvalidRequestError:
            return False
    if is_ours(data.get("metadata")):
        return True
    customer = object_id(data.get("customer"))
    return user_of_customer(session=lookup.db, stripe_customer_id=customer) is not None


def usable_payment(ctx: EventContext, state: PaymentState, intent: Any) -> StripePayment | None:
    """The recorded payment, locked (apply phase); None after noting why there is none.

    The row lock serialises refunds and disputes of one payment (on PostgreSQL; SQLite
    writers are serial anyway), so each sees what the others clawed back.
    """
    intent = object_id(intent)
    if state is PaymentState.FOREIGN or intent is None:
        ctx.ignore(f"payment {intent} was not sold by this app")
        return None
    if state is PaymentState.NEVER_LANDED:
        ctx.ignore(f"payment {intent} is ours but its purchase never arrived", logging.ERROR)
        return None
    return ctx.session.get(StripePayment, intent, with_for_update=True, populate_existing=True)


def refunded_so_far(session: Session, intent: str) -> tuple[int, int]:
    """(money refunded, credits clawed back) by the refunds recorded for a payment."""
    query = select(
        func.coalesce(func.sum(StripeRefund.amount), 0),
        func.coalesce(func.sum(StripeRefund.credits), 0),
    ).where(StripeRefund.payment_intent_id == intent, StripeRefund.failed.is_(False))
    amount, credits = session.exec(query).one()
    return int(amount), int(credits)


def clawed_so_far(session: Session, intent: str) -> int:
    """Credits that refunds and disputes of a payment hold back now."""
    disputed = select(func.coalesce(func.sum(StripeDispute.credits), 0)).where(
        StripeDispute.payment_intent_id == intent
    )
    return refunded_so_far(session, intent)[1] + int(session.exec(disputed).one())
