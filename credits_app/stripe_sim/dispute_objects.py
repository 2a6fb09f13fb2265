"""Builder for disputes (chargebacks) in Stripe's JSON shape."""

from __future__ import annotations

from typing import Any

from .ids import new_id
from .objects import nulls

Obj = dict[str, Any]
# Every field of a dispute's `evidence`; the simulator never collects any.
_EVIDENCE = (
    "access_activity_log billing_address cancellation_policy cancellation_policy_disclosure "
    "cancellation_rebuttal customer_communication customer_email_address customer_name "
    "customer_purchase_ip customer_signature duplicate_charge_documentation "
    "duplicate_charge_explanation duplicate_charge_id enhanced_evidence product_description "
    "receipt refund_policy refund_policy_disclosure refund_refusal_explanation service_date "
    "service_documentation shipping_address shipping_carrier shipping_date "
    "shipping_documentation shipping_tracking_number uncategorized_file uncategorized_text"
)


def dispute(now: int, charge_obj: Obj, amount: int, reason: str, kind: str = "chargeback"):
    """A new `dispute`: `kind` is its card `case_type` (`chargeback`, `inquiry`, `resolution`).

    An inquiry starts as `warning_needs_response` and the charge can still be refunded; a
    Visa RDR resolution is `prevented` (changelog 2025-08-27.basil); a chargeback
    `needs_response`.
    """
    card = charge_obj["payment_method_details"]["card"]
    status = {"inquiry": "warning_needs_response", "resolution": "prevented"}.get(
        kind, "needs_response"
    )
    return {
        "id": new_id("dp_"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge_obj["id"],
        "created": now,
        "currency": charge_obj["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {**nulls(_EVIDENCE), "enhanced_evidence": {}},
        "evidence_details": {
            "due_by": now + 7 * 86_400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
            "submission_method": "not_submitted",
        },
        "is_charge_refundable": kind == "inquiry",
        "livemode": False,
        "metadata": {},
        "payment_intent": charge_obj["payment_intent"],
        "payment_method_details": {
            "type": "card",
            "card": {
                "brand": card["brand"],
                "case_type": kind,
                "network": card["network"],
                "network_reason_code": None,
            },
        },
        "reason": reason,
        "status": status,
    }


def funds_transaction(now: int, found: Obj, amount: int, fee: int, description: str) -> Obj:
    """The `balance_transaction` of money a dispute takes (negative) or gives back."""
    details = []
    if fee:
        details = [
            {
                "amount": fee,
                "application": None,
                "currency": found["currency"],
                "description": "Dispute fee",
                "type": "stripe_fee",
            }
        ]
    return {
        "id": new_id("txn_"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": now,
        "balance_type": "payments",
        "created": now,
        "currency": found["currency"],
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": details,
        "net": amount - fee,
        "reporting_category": "dispute" if amount < 0 else "dispute_reversal",
        "source": found["id"],
        "status": "available",
        "type": "adjustment",
    }
