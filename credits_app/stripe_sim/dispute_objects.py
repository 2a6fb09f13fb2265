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


def dispute(now: int, charge_obj: Obj, amount: int, reason: str) -> Obj:
    """A `dispute` (chargeback) that needs a response."""
    card = charge_obj["payment_method_details"]["card"]
    return {
        "id": new_id("dp_"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge_obj["id"],
        "created": now,
        "currency": charge_obj["currency"],
        "enhanced_eligibility_types": [],
        "evidence": nulls(_EVIDENCE),
        "evidence_details": {
            "due_by": now + 7 * 86_400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge_obj["payment_intent"],
        "payment_method_details": {
            "type": "card",
            "card": {
                "brand": card["brand"],
                "case_type": "chargeback",
                "network": card["network"],
                "network_reason_code": None,
            },
        },
        "reason": reason,
        "status": "needs_response",
    }
