"""A paid Checkout session or invoice becomes credits, line by line, exactly once.

Each billed line converts its own amount at its own price's rate: full periods (times quantity),
proration charges, and negative proration credits. The positive lines are granted as one
entry and the negative ones clawed back as one (debt where already spent), both keyed by
the Stripe object, so the purchase can never apply twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from credits_app.models import (
    LotSource,
    StripePayment,
    StripePurchase,
    StripePurchaseLine,
    utcnow,
)
from credits_app.services.billing.handlers.context import (
    EventContext,
    clawback_once,
    grant_once,
)
from credits_app.services.billing.money import clawback_share, line_credits
from credits_app.services.billing.rates import Rate
from credits_app.services.ledger import LotTerms
from credits_app.services.lots import PERIOD, expiry_of

SOURCES = {"checkout": "stripe_checkout", "invoice": "stripe_invoice"}


@dataclass(frozen=True)
class BilledLine:
    """One billed line and the rate of its price (None: not a price of ours)."""

    ref: str
    price_id: str | None
    quantity: int
    amount: int
    rate: Rate | None
    proration: bool = False
    description: str | None = None
    period_end: datetime | None = None  # the end of the billing period it pays for

    @property
    def credits(self) -> int:
        """The signed credits this line's own amount buys."""
        if self.rate is None:
            return 0
        return line_credits(self.amount, self.rate.unit_amount, self.rate.included_credits)


@dataclass(frozen=True)
class PurchaseFacts:
    """Everything needed to credit one purchase, gathered before the transaction.

    Attributes:
        id: The Checkout session or invoice id.
        kind: `checkout` or `invoice`.
        user_id: Our user.
        lines: What was billed.
        total: What the purchase cost after discounts, before any customer balance.
        amount_paid: What was collected from a payment method (0 if the balance paid).
        payment_intent_id: The payment that collected it, if any.
        label: How the ledger names it, e.g. "Monthly Plan renewal".
        paid_at: When Stripe reported it paid (the event's time); durations count from it.
    """

    id: str
    kind: str
    user_id: int
    lines: tuple[BilledLine, ...]
    currency: str
    total: int
    amount_paid: int
    payment_intent_id: str | None = None
    subscription_id: str | None = None
    label: str = "purchase"
    paid_at: datetime | None = None

    @property
    def source(self) -> str:
        """The ledger source of its entries."""
        return SOURCES[self.kind]

    @property
    def credits(self) -> int:
        """The net credits of all its lines."""
        return sum(line.credits for line in self.lines)


def apply_purchase(ctx: EventContext, facts: PurchaseFacts) -> bool:
    """Record the purchase with its lines and move its credits, unless it was applied before.

    Returns:
        True when it was applied now, False when an earlier event applied it already.
    """
    session = ctx.session
    if session.get(StripePurchase, facts.id) is not None:
        ctx.note(f"{facts.id} was credited before")
        return False
    session.add(_purchase_row(facts))
    session.flush()
    session.add_all(_line_rows(facts))
    gained = sum(line.credits for line in facts.lines if line.credits > 0)
    lost = -sum(line.credits for line in facts.lines if line.credits < 0)
    where = f"(Stripe {facts.kind} {facts.id})"
    terms = purchase_terms(facts, utcnow())
    grant_once(ctx, facts.user_id, gained, facts.source, facts.id, f"{facts.label} {where}", terms)
    reason = f"{facts.label}: unused time credited {where}"
    previous = _previous_purchase(ctx, facts)
    clawback_once(ctx, facts.user_id, lost, facts.source, facts.id, reason, previous)
    _record_payment(ctx, facts)
    ctx.note(f"{facts.id}: +{gained} -{lost} credits")
    return True


def purchase_terms(facts: PurchaseFacts, now: datetime) -> LotTerms:
    """The lot a purchase's credits become, set by the price of its main line.

    On a subscription invoice that bills a period of the plan (a first period, a renewal,
    a new interval), the main line is the plan's own line, even when the prorations before
    it buy more; otherwise (a pack, an invoice of prorations only) it is the line that buys
    the most. Its price's `creditsExpireAfter` decides the expiry:
    - an ISO 8601 duration counts from the moment of payment;
    - `period` ends with the latest billing period the invoice pays for (a renewal's new
      period, not the old one its proration lines look back on);
    - nothing means never.
    A plan's period is a `plan_period` lot, which may roll over up to the price's
    `rolloverMax`. The lot starts at the payment (`paid_at`, never later than `now`), so
    its credits expire one duration after the purchase however late the webhook came.
    """
    bought_at = min(facts.paid_at or now, now)
    paying = [line for line in facts.lines if line.credits > 0 and line.rate is not None]
    if not paying:
        return LotTerms(source=LotSource.PURCHASE, effective_at=bought_at, funded_by=facts.id)
    periods = [line for line in paying if not line.proration] if facts.subscription_id else []
    main = max(periods or paying, key=lambda line: line.credits)
    policy = main.rate.expire_after if main.rate else None
    ends = [line.period_end for line in paying if line.period_end is not None]
    effective_at, expires_at = lot_window(
        bought_at, expiry_of(policy, bought_at, max(ends, default=None))
    )
    return LotTerms(
        source=LotSource.PLAN_PERIOD if periods else LotSource.PURCHASE,
        effective_at=effective_at,
        expires_at=expires_at,
        funded_by=facts.id,
        rollover_max=main.rate.rollover_max if periods and policy == PERIOD else None,
    )


def lot_window(start: datetime, end: datetime | None) -> tuple[datetime, datetime | None]:
    """A lot's `(effective_at, expires_at)`, never an empty window.

    Credits whose end has already come (a webhook delivered after the period it paid for
    ended) are granted in a window that closed a second before it ended, so they expire at
    once instead of being refused by the lot table's check.
    """
    if end is not None and end <= start:
        return end - timedelta(seconds=1), end
    return start, end


def _previous_purchase(ctx: EventContext, facts: PurchaseFacts) -> str | None:
    """The subscription's purchase before this one.

    Unused time credited back on a plan change comes out of the lot that period bought.
    """
    if not facts.subscription_id:
        return None
    query = (
        select(StripePurchase.id)
        .where(
            StripePurchase.subscription_id == facts.subscription_id,
            StripePurchase.id != facts.id,
        )
        .order_by(StripePurchase.created_at.desc())
        .limit(1)
    )
    return ctx.session.exec(query).first()


def _purchase_row(facts: PurchaseFacts) -> StripePurchase:
    return StripePurchase(
        id=facts.id,
        user_id=facts.user_id,
        kind=facts.kind,
        subscription_id=facts.subscription_id,
        payment_intent_id=facts.payment_intent_id,
        currency=facts.currency,
        amount=sum(line.amount for line in facts.lines),
        amount_paid=facts.amount_paid,
        credits=facts.credits,
    )


def _line_rows(facts: PurchaseFacts) -> list[StripePurchaseLine]:
    return [
        StripePurchaseLine(
            purchase_id=facts.id,
            line_ref=line.ref,
            price_id=line.price_id,
            quantity=line.quantity,
            amount=line.amount,
            unit_amount=line.rate.unit_amount if line.rate else None,
            included_credits=line.rate.included_credits if line.rate else None,
            proration=line.proration,
            credits=line.credits,
            description=(line.description or "")[:255] or None,
        )
        for line in facts.lines
    ]


def _record_payment(ctx: EventContext, facts: PurchaseFacts) -> None:
    """Remember what the collected money bought, so refunds and disputes can claw it back.

    When a customer balance paid part of the purchase, the payment funded only its share
    of the credits (rounded up, so a full refund takes all of that share back).
    """
    intent = facts.payment_intent_id
    if not intent or facts.amount_paid <= 0:
        return
    if ctx.session.get(StripePayment, intent) is not None:
        return
    funded = clawback_share(facts.credits, facts.amount_paid, max(facts.total, facts.amount_paid))
    ctx.session.add(
        StripePayment(
            payment_intent_id=intent,
            user_id=facts.user_id,
            source=facts.source,
            source_ref=facts.id,
            amount=facts.amount_paid,
            currency=facts.currency,
            credits=funded,
        )
    )
    ctx.session.flush()
