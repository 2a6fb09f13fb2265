"""charge.refunded / refund.*: claw back the refunded share of credits once per refund id."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from credits_app.models import StripePayment
from credits_app.models.billing import StripeRefund
from credits_app.services.billing.handlers.context import (
    EventContext,
    clawback_once,
    grant_once,
    payment_of,
)
from credits_app.services.billing.stripe_client import stripe_errors

logger = logging.getLogger(__name__)
SOURCE = "stripe_refund"
# Refunds that count: Stripe includes pending ones in the charge's amount_refunded.
COUNTED = ("succeeded", "pending")
REVERSED = ("failed", "canceled")


def charge_refunded(ctx: EventContext) -> None:
    """Claw back the part of `amount_refunded` (cumulative) not clawed back yet."""
    charge = ctx.obj
    payment = payment_of(ctx, charge.get("payment_intent"))
    if payment is None:
        logger.info("charge %s refunded, but it bought no credits here", charge.get("id"))
        return
    refunded_amount, _ = refunded_so_far(ctx, payment.payment_intent_id)
    if int(charge.get("amount_refunded") or 0) <= refunded_amount:
        return  # an older or repeated notice: nothing new was refunded
    refunds = (charge.get("refunds") or {}).get("data")
    if refunds is None:
        with stripe_errors("list refunds"):
            listed = ctx.stripe().v1.refunds.list(
                {"payment_intent": payment.payment_intent_id, "limit": 100}
            )
            refunds = [r.to_dict() for r in listed.auto_paging_iter()]
    for refund in sorted(refunds, key=lambda r: (r.get("created") or 0, r["id"])):
        apply_refund(ctx, payment, refund)


def refund_changed(ctx: EventContext) -> None:
    """Handle `refund.created` / `refund.updated`: a new refund, or one that failed."""
    payment = payment_of(ctx, ctx.obj.get("payment_intent"))
    if payment is None:
        return
    if ctx.obj.get("status") in REVERSED:
        reverse_refund(ctx, payment, ctx.obj)
    else:
        apply_refund(ctx, payment, ctx.obj)


def reverse_refund(ctx: EventContext, payment: StripePayment, refund: dict[str, Any]) -> None:
    """A refund failed or was canceled: give back what it clawed, and stop counting it.

    A row is recorded even for a refund never seen before, so a late `pending` notice of
    it can no longer claw anything back.
    """
    row = ctx.session.get(StripeRefund, refund["id"])
    if row is None:
        row = StripeRefund(
            id=refund["id"],
            payment_intent_id=payment.payment_intent_id,
            amount=int(refund.get("amount") or 0),
            credits=0,
        )
    elif row.failed:
        return
    row.failed = True
    ctx.session.add(row)
    ctx.session.flush()
    reason = f"Refund {refund['id']} {refund.get('status')}: credits returned"
    grant_once(ctx, payment.user_id, row.credits, SOURCE, refund["id"], reason)


def refunded_so_far(ctx: EventContext, payment_intent_id: str) -> tuple[int, int]:
    """(money refunded, credits clawed back) recorded for a payment so far."""
    query = select(
        func.coalesce(func.sum(StripeRefund.amount), 0),
        func.coalesce(func.sum(StripeRefund.credits), 0),
    ).where(StripeRefund.payment_intent_id == payment_intent_id, StripeRefund.failed.is_(False))
    amount, credits = ctx.session.exec(query).one()
    return int(amount), int(credits)


def apply_refund(ctx: EventContext, payment: StripePayment, refund: dict[str, Any]) -> None:
    """Record one refund and claw back its share, rounding on the running total."""
    if refund.get("status") not in COUNTED or ctx.session.get(StripeRefund, refund["id"]):
        return
    amount = int(refund.get("amount") or 0)
    done_amount, done_credits = refunded_so_far(ctx, payment.payment_intent_id)
    total = min(done_amount + amount, payment.amount)
    target = payment.credits * total // payment.amount if payment.amount > 0 else 0
    credits = max(0, target - done_credits)
    ctx.session.add(
        StripeRefund(
            id=refund["id"],
            payment_intent_id=payment.payment_intent_id,
            amount=amount,
            credits=credits,
        )
    )
    ctx.session.flush()
    reason = f"Refund {refund['id']} of {payment.source_ref}"
    clawback_once(ctx, payment.user_id, credits, SOURCE, refund["id"], reason)
