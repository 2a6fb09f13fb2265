"""Refunds: claw back the refunded share of a payment's credits once per refund id.

Card refunds are announced by `charge.refunded` (with the charge's cumulative
`amount_refunded`) and, since API 2024-10-28, by `refund.created|updated|failed`; older
versions report a refund's later changes with `charge.refund.updated`. All of them lead here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from credits_app.models import StripePayment
from credits_app.models.billing import StripeRefund
from credits_app.services.billing.handlers.context import (
    EventContext,
    Handler,
    Lookup,
    clawback_once,
    grant_once,
    restore_terms,
)
from credits_app.services.billing.handlers.payments import (
    PaymentState,
    clawed_so_far,
    payment_state,
    refunded_so_far,
    usable_payment,
)
from credits_app.services.billing.money import clawback_share
from credits_app.services.billing.stripe_client import stripe_errors
from credits_app.services.billing.stripe_shapes import embedded_refunds, object_id

SOURCE = "stripe_refund"
# Refunds that count: Stripe includes pending ones in the charge's amount_refunded.
COUNTED = ("succeeded", "pending")
REVERSED = ("failed", "canceled")


@dataclass(frozen=True)
class RefundFacts:
    """The payment's state and the refunds to apply (empty when nothing is new)."""

    state: PaymentState
    intent: str | None
    refunds: tuple[dict[str, Any], ...] = ()


def _prepare_charge(lookup: Lookup) -> RefundFacts:
    charge = lookup.obj
    intent = object_id(charge.get("payment_intent"))
    state = payment_state(lookup, intent)
    if state is not PaymentState.KNOWN:
        return RefundFacts(state, intent)
    if int(charge.get("amount_refunded") or 0) <= refunded_so_far(lookup.db, intent)[0]:
        return RefundFacts(state, intent)  # an older or repeated notice: nothing new
    refunds = embedded_refunds(charge)
    if refunds is None:
        with stripe_errors("list refunds"):
            listed = lookup.stripe().v1.refunds.list({"payment_intent": intent, "limit": 100})
            refunds = [refund.to_dict() for refund in listed.auto_paging_iter()]
    return RefundFacts(state, intent, tuple(refunds))


def _apply_charge(ctx: EventContext) -> None:
    facts: RefundFacts = ctx.facts
    payment = usable_payment(ctx, facts.state, facts.intent)
    if payment is None:
        return
    for refund in sorted(facts.refunds, key=lambda r: (r.get("created") or 0, r["id"])):
        if refund.get("status") in REVERSED:
            reverse_refund(ctx, payment, refund)
        else:
            apply_refund(ctx, payment, refund)


def _prepare_refund(lookup: Lookup) -> RefundFacts:
    intent = object_id(lookup.obj.get("payment_intent"))
    return RefundFacts(payment_state(lookup, intent), intent, (lookup.obj,))


charge_refunded = Handler(prepare=_prepare_charge, apply=_apply_charge)
# refund.created / refund.updated / refund.failed, and the legacy charge.refund.updated.
refund_changed = Handler(prepare=_prepare_refund, apply=_apply_charge)


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
    returned = row.credits
    row.failed, row.credits = True, 0
    ctx.session.add(row)
    ctx.session.flush()
    reason = f"Refund {refund['id']} {refund.get('status')}: credits returned"
    terms = restore_terms(ctx.session, payment.source_ref)
    grant_once(ctx, payment.user_id, returned, SOURCE, refund["id"], reason, terms)


def apply_refund(ctx: EventContext, payment: StripePayment, refund: dict[str, Any]) -> None:
    """Record one refund and claw back its share, rounding up on the running total.

    Refunds and disputes of one payment together never take back more than it bought.
    """
    if refund.get("status") not in COUNTED or ctx.session.get(StripeRefund, refund["id"]):
        return
    intent = payment.payment_intent_id
    amount = int(refund.get("amount") or 0)
    done_amount, done_credits = refunded_so_far(ctx.session, intent)
    total = min(done_amount + amount, payment.amount)
    share = clawback_share(payment.credits, total, payment.amount) - done_credits
    left = payment.credits - clawed_so_far(ctx.session, intent)
    credits = max(0, min(share, left))
    ctx.session.add(
        StripeRefund(id=refund["id"], payment_intent_id=intent, amount=amount, credits=credits)
    )
    ctx.session.flush()
    reason = f"Refund {refund['id']} of {payment.source_ref}"
    clawback_once(ctx, payment.user_id, credits, SOURCE, refund["id"], reason, payment.source_ref)
