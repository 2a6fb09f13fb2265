"""Builders for payment intents, charges and refunds."""

from __future__ import annotations

import secrets
from typing import Any

from .cards import TestCard
from .ids import new_id
from .objects import nulls

Obj = dict[str, Any]


def payment_intent(now: int, amount: int, currency: str, customer_id: str | None, **fields: Any):
    """A `payment_intent` waiting for a payment method; `fields` may set `metadata` etc."""
    intent_id = new_id("pi_")
    obj = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "capture_method": "automatic_async",
        "client_secret": f"{intent_id}_secret_{secrets.token_urlsafe(18)}",
        "confirmation_method": "automatic",
        "created": now,
        "currency": currency,
        "customer": customer_id,
        "livemode": False,
        "metadata": {},
        "payment_method_types": ["card"],
        "status": "requires_payment_method",
        **nulls("application application_fee_amount automatic_payment_methods canceled_at"),
        **nulls("cancellation_reason description last_payment_error latest_charge"),
        **nulls("next_action on_behalf_of payment_method processing receipt_email review"),
        **nulls("setup_future_usage shipping statement_descriptor transfer_data"),
        **nulls("statement_descriptor_suffix transfer_group customer_account"),
        **nulls("excluded_payment_method_types managed_payments source"),
        **nulls("payment_method_configuration_details"),
        "payment_method_options": {},
    }
    obj.update(fields)
    return obj


def charge(now: int, intent: Obj, card: TestCard, payment_method: str, email: str | None):
    """A `charge` for a payment intent's full amount, succeeded or failed per the card."""
    paid = card.succeeds
    return {
        "id": new_id("ch_"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"] if paid else 0,
        "amount_refunded": 0,
        "balance_transaction": new_id("txn_") if paid else None,
        "billing_details": {"email": email, **nulls("address name phone tax_id")},
        "calculated_statement_descriptor": "CREDITS SIM",
        "captured": paid,
        "created": now,
        "currency": intent["currency"],
        "customer": intent["customer"],
        "description": intent["description"],
        "disputed": False,
        "failure_code": card.code,
        "failure_message": card.message or None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "outcome": {
            "network_status": "approved_by_network" if paid else "declined_by_network",
            "reason": card.decline_code,
            "risk_level": "normal",
            "seller_message": "Payment complete." if paid else "The bank declined the payment.",
            "type": "authorized" if paid else "issuer_declined",
            **nulls("advice_code network_advice_code network_decline_code"),
        },
        "paid": paid,
        "payment_intent": intent["id"],
        "payment_method": payment_method,
        "payment_method_details": {"type": "card", "card": _card_details(card)},
        "receipt_url": None,
        "refunded": False,
        "status": "succeeded" if paid else "failed",
        **nulls("application application_fee application_fee_amount failure_balance_transaction"),
        **nulls("on_behalf_of receipt_email receipt_number review shipping source_transfer"),
        **nulls("statement_descriptor statement_descriptor_suffix transfer_data transfer_group"),
        "source": None,
    }


def _card_details(card: TestCard) -> Obj:
    return {
        "brand": card.brand,
        "country": "US",
        "exp_month": 12,
        "exp_year": 2034,
        "funding": "credit",
        "last4": card.last4,
        "network": card.brand,
        "checks": {"cvc_check": "pass", **nulls("address_line1_check address_postal_code_check")},
    }


def refund(now: int, charge_obj: Obj, amount: int, **fields: Any) -> Obj:
    """A succeeded `refund` of part or all of a charge."""
    obj = {
        "id": new_id("re_"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn_"),
        "charge": charge_obj["id"],
        "created": now,
        "currency": charge_obj["currency"],
        "customer": charge_obj["customer"],
        "customer_account": None,
        "destination_details": {"type": "card", "card": {"type": "refund"}},
        "metadata": {},
        "payment_intent": charge_obj["payment_intent"],
        "payment_method": charge_obj["payment_method"],
        "reason": None,
        "status": "succeeded",
        **nulls("receipt_number source_transfer_reversal transfer_reversal"),
    }
    obj.update(fields)
    return obj
