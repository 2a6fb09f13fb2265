"""charge.dispute.*: credits follow the disputed money out, and back in when it returns.

The dispute is re-fetched, so events arriving late or out of order act on its current
status. An inquiry (`warning_*`) moves no money and takes nothing; once the bank escalates
it (`needs_response`, announced by `charge.dispute.updated` / `funds_withdrawn` on the same
dispute) the disputed share is clawed back, once. Reinstated funds (a won dispute) give it
back, once. A `prevented` dispute (Visa RDR) settles by a refund, which claws back on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from credits_app.models import EntryKind, StripeDispute, utcnow
from credits_app.services.billing.handlers.context import (
    EventContext,
    Handler,
    Lookup,
    clawback_once,
    find_entry,
    grant_once,
    restore_terms,
)
from credits_app.services.billing.handlers.payments import (
    PaymentState,
    clawed_so_far,
    payment_state,
    usable_payment,
)
from credits_app.services.billing.money import clawback_share
from credits_app.services.billing.stripe_client import stripe_errors
from credits_app.services.billing.stripe_shapes import object_id

SOURCE = "stripe_dispute"
# Statuses in which the disputed funds have left the account.
WITHDRAWN = ("needs_response", "under_review", "lost")


@dataclass(frozen=True)
class DisputeFacts:
    """The dispute as Stripe has it now, and the state of its payment."""

    dispute: dict[str, Any]
    intent: str | None
    state: PaymentState


def _prepare(lookup: Lookup) -> DisputeFacts:
    client = lookup.stripe()
    with stripe_errors("fetch a dispute"):
        dispute = client.v1.disputes.retrieve(lookup.obj["id"]).to_dict()
        intent = object_id(dispute.get("payment_intent"))
        if intent is None and object_id(dispute.get("charge")):
            charge = client.v1.charges.retrieve(object_id(dispute["charge"])).to_dict()
            intent = object_id(charge.get("payment_intent"))
    return DisputeFacts(dispute, intent, payment_state(lookup, intent))


def _apply(ctx: EventContext) -> None:
    facts: DisputeFacts = ctx.facts
    payment = usable_payment(ctx, facts.state, facts.intent)
    if payment is None:
        return
    dispute = facts.dispute
    status = str(dispute.get("status") or "")
    row = ctx.session.get(StripeDispute, dispute["id"]) or StripeDispute(
        id=dispute["id"], payment_intent_id=payment.payment_intent_id, amount=0, status=status
    )
    row.amount, row.status, row.updated_at = int(dispute.get("amount") or 0), status, utcnow()
    taken = find_entry(ctx.session, EntryKind.CLAWBACK, SOURCE, dispute["id"])
    reinstated = status == "won" or ctx.event["type"] == "charge.dispute.funds_reinstated"
    if status in WITHDRAWN and taken is None:
        share = clawback_share(payment.credits, min(row.amount, payment.amount), payment.amount)
        row.credits = max(
            0, min(share, payment.credits - clawed_so_far(ctx.session, payment.payment_intent_id))
        )
        reason = f"Dispute {dispute['id']} of {payment.source_ref}"
        funded_by = payment.source_ref
        clawback_once(ctx, payment.user_id, row.credits, SOURCE, dispute["id"], reason, funded_by)
    elif reinstated and taken is not None:
        reason = f"Dispute {dispute['id']} won"
        terms = restore_terms(ctx.session, payment.source_ref)
        grant_once(ctx, taken.user_id, taken.amount, SOURCE, dispute["id"], reason, terms)
        row.credits = 0
    ctx.note(f"dispute {dispute['id']} {status}")
    ctx.session.add(row)
    ctx.session.flush()


dispute_changed = Handler(prepare=_prepare, apply=_apply)
