"""Refunds and disputes: money that left (or came back) moved the credits it paid for.

The amounts follow the refund and dispute handlers' rules (`clawback_share` of the payment,
never more than it still holds); only objects of payments we recorded are checked, as the
handlers ignore the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session

from credits_app.models import EntryKind
from credits_app.services.billing.handlers.disputes import SOURCE as DISPUTE_SOURCE
from credits_app.services.billing.handlers.disputes import WITHDRAWN
from credits_app.services.billing.handlers.payments import clawed_so_far
from credits_app.services.billing.handlers.refunds import SOURCE as REFUND_SOURCE
from credits_app.services.billing.money import clawback_share
from credits_app.services.billing.reconcile import drift as d
from credits_app.services.billing.reconcile.drift import Drift, DriftKind, money
from credits_app.services.billing.reconcile.records import Records
from credits_app.services.billing.stripe_shapes import object_id

Obj = dict[str, Any]


def check_refund(records: Records, refund: Obj) -> Iterator[Drift]:
    """A refund of a recorded payment took its share of credits back (or gave it back)."""
    payment = records.payments.get(object_id(refund.get("payment_intent")) or "")
    if payment is None:
        return
    rid, status = refund["id"], refund.get("status")
    row = records.refunds.get(rid)
    amount = money(refund.get("amount"), refund.get("currency"))
    returned = records.entry(REFUND_SOURCE, rid, EntryKind.GRANT)
    if returned is not None and status not in d.REVERSED_REFUND:
        yield Drift(
            DriftKind.GRANTED_WITHOUT_PAYMENT,
            rid,
            payment.user_id,
            f"gave back {returned.amount} credits as if refund {rid} had failed, but at Stripe "
            f"it is {status}",
            excess=returned.amount,
        )
    elif status in d.COUNTED_REFUND and row is None:
        yield Drift(
            DriftKind.REFUND_NOT_CLAWED_BACK,
            rid,
            payment.user_id,
            f"{amount} of {payment.source_ref} was refunded ({status}), but its share of the "
            f"{payment.credits} credits was never clawed back",
            d.REFUND,
            int(refund.get("created") or 0),
        )
    elif status in d.COUNTED_REFUND and row.amount != int(refund.get("amount") or 0):
        yield Drift(
            DriftKind.AMOUNT_MISMATCH,
            rid,
            payment.user_id,
            f"Stripe refunded {amount}, but we recorded {money(row.amount, payment.currency)}",
        )
    elif status in d.REVERSED_REFUND and row is not None and not row.failed and row.credits:
        yield Drift(
            DriftKind.AMOUNT_MISMATCH,
            rid,
            payment.user_id,
            f"refund {rid} {status} at Stripe, but the {row.credits} credits it clawed back "
            "were never given back",
            d.REFUND_REVERSED,
            int(refund.get("created") or 0),
        )


def check_dispute(db: Session, records: Records, dispute: Obj) -> Iterator[Drift]:
    """A dispute of a recorded payment clawed back while its funds were out, and gave back."""
    payment = records.payments.get(object_id(dispute.get("payment_intent")) or "")
    if payment is None:
        return
    did, status = dispute["id"], str(dispute.get("status") or "")
    taken = records.entry(DISPUTE_SOURCE, did, EntryKind.CLAWBACK)
    restored = records.entry(DISPUTE_SOURCE, did, EntryKind.GRANT)
    if status in WITHDRAWN and taken is None:
        share = clawback_share(
            payment.credits, min(int(dispute.get("amount") or 0), payment.amount), payment.amount
        )
        share = min(share, payment.credits - clawed_so_far(db, payment.payment_intent_id))
        if share > 0:
            yield Drift(
                DriftKind.DISPUTE_NOT_CLAWED_BACK,
                did,
                payment.user_id,
                f"{money(dispute.get('amount'), dispute.get('currency'))} of "
                f"{payment.source_ref} is disputed ({status}), but its {share} credits were "
                "never clawed back",
                d.DISPUTE_WITHDRAWN,
                int(dispute.get("created") or 0),
            )
    elif status == "won" and taken is not None and restored is None:
        yield Drift(
            DriftKind.WON_NOT_RESTORED,
            did,
            payment.user_id,
            f"the dispute of {payment.source_ref} was won, but the {taken.amount} credits it "
            "clawed back were never given back",
            d.DISPUTE_WON,
            int(dispute.get("created") or 0),
        )
    elif restored is not None and status != "won":
        yield Drift(
            DriftKind.GRANTED_WITHOUT_PAYMENT,
            did,
            payment.user_id,
            f"gave back {restored.amount} credits as if the dispute were won, but at Stripe it "
            f"is {status}",
            excess=restored.amount,
        )
