"""Builders for invoices and invoice payments."""

from __future__ import annotations

from typing import Any

from .ids import new_id
from .objects import nulls

Obj = dict[str, Any]


def invoice(now: int, invoice_id: str, customer: Obj, subscription: Obj, **fields: Any) -> Obj:
    """A draft subscription `invoice`; `fields` sets `billing_reason`, `lines`, totals, period."""
    lines = fields.pop("lines")
    obj = {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Credits (Stripe simulator)",
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_shipping": 0,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {"enabled": False, **nulls("disabled_reason liability provider status")},
        "collection_method": "charge_automatically",
        "created": now,
        "currency": subscription["currency"],
        "customer": customer["id"],
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "discounts": [],
        "issuer": {"type": "self"},
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "total_count": len(lines),
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(subscription["metadata"]),
                "subscription": subscription["id"],
            },
        },
        "status": "draft",
        "status_transitions": nulls("finalized_at marked_uncollectible_at paid_at voided_at"),
        "total_discount_amounts": [],
        "total_taxes": [],
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_tax_rates": [],
        "payment_settings": nulls("default_mandate payment_method_options payment_method_types"),
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        **nulls("application default_payment_method default_source description due_date"),
        **nulls("effective_at footer hosted_invoice_url invoice_pdf last_finalization_error"),
        **nulls("next_payment_attempt number on_behalf_of receipt_number"),
        **nulls("statement_descriptor test_clock webhooks_delivered_at"),
        **nulls("account_tax_ids automatically_finalizes_at custom_fields customer_account"),
        **nulls("customer_address customer_phone customer_shipping from_invoice"),
        **nulls("latest_revision rendering shipping_cost shipping_details"),
        **nulls("total_pretax_credit_amounts"),
    }
    obj.update(fields)
    return obj


def invoice_payment(now: int, invoice_obj: Obj, intent_id: str, paid: bool) -> Obj:
    """An `invoice_payment` linking an invoice to the payment intent that paid it."""
    return {
        "id": new_id("inpay_"),
        "object": "invoice_payment",
        "amount_paid": invoice_obj["amount_due"] if paid else None,
        "amount_requested": invoice_obj["amount_due"],
        "created": now,
        "currency": invoice_obj["currency"],
        "invoice": invoice_obj["id"],
        "is_default": True,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": intent_id},
        "status": "paid" if paid else "open",
        "status_transitions": {"canceled_at": None, "paid_at": now if paid else None},
    }
