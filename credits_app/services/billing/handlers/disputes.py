"""charge.dispute.*: a chargeback claws the credits back; a won dispute gives them back."""

from __future__ import annotations

import logging
from typing import Any

from credits_app.models import EntryKind
from credits_app.services.billing.handlers.context import (
    EventContext,
    clawback_once,
    find_entry,
    grant_once,
    payment_of,
)
from credits_app.services.billing.handlers.refunds import refunded_so_far
from credits_app.services.billing.stripe_client import stripe_errors

logger = logging.getLogger(__name__)
SOURCE = "stripe_dispute"


def created(ctx: EventContext) -> None:
    """Claw back the disputed share of the payment's credits (less what refunds took)."""
    dispute = _current(ctx)
    if dispute.get("status") == "won":
        return  # closed in our favour before this notice arrived
    if str(dispute.get("status", "")).startswith("warning_"):
        return  # an inquiry: no money was taken, so no credits are either
    payment = payment_of(ctx, dispute.get("payment_intent"))
    if payment is None:
        logger.info("dispute %s is on a payment that bought no credits here", dispute["id"])
        return
    amount = min(int(dispute.get("amount") or 0), payment.amount)
    share = payment.credits * amount // payment.amount if payment.amount > 0 else 0
    _, refunded_credits = refunded_so_far(ctx, payment.payment_intent_id)
    credits = min(share, payment.credits - refunded_credits)
    reason = f"Dispute {dispute['id']} of {payment.source_ref}"
    clawback_once(ctx, payment.user_id, credits, SOURCE, dispute["id"], reason)


def closed(ctx: EventContext) -> None:
    """A won dispute re-grants what it clawed back; a lost one keeps the clawback."""
    dispute = ctx.obj
    if dispute.get("status") != "won":
        return
    taken = find_entry(ctx.session, EntryKind.CLAWBACK, SOURCE, dispute["id"])
    if taken is None:
        return
    reason = f"Dispute {dispute['id']} won"
    grant_once(ctx, taken.user_id, taken.amount, SOURCE, dispute["id"], reason)


def _current(ctx: EventContext) -> dict[str, Any]:
    """The dispute as Stripe has it now: it may have closed before this event came in."""
    with stripe_errors("fetch a dispute"):
        return ctx.stripe().v1.disputes.retrieve(ctx.obj["id"]).to_dict()
