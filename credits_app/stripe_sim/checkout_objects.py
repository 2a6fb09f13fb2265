"""Builders for checkout sessions, their line items and billing portal sessions."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .ids import new_id
from .objects import nulls

Obj = dict[str, Any]


def checkout_session(now: int, url_for: Callable[[str], str], **fields: Any) -> Obj:
    """An open `checkout.session`; `url_for(id)` gives its hosted page address."""
    session_id = new_id("cs_test_", 58)
    obj = {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": 0,
        "amount_total": 0,
        "adaptive_pricing": {"enabled": False},
        "automatic_tax": {"enabled": False, **nulls("liability provider status")},
        "created": now,
        "custom_fields": [],
        "custom_text": nulls("after_submit shipping_address submit terms_of_service_acceptance"),
        "discounts": [],
        "expires_at": now + 24 * 3600,
        "livemode": False,
        "metadata": {},
        "mode": "payment",
        "payment_method_collection": "always",
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": False},
        "shipping_options": [],
        "status": "open",
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": url_for(session_id),
        **nulls("after_expiration allow_promotion_codes billing_address_collection cancel_url"),
        **nulls("client_reference_id client_secret consent consent_collection currency"),
        **nulls("customer customer_creation customer_details customer_email invoice locale"),
        **nulls("payment_intent payment_link subscription success_url"),
        **nulls("collected_information currency_conversion customer_account invoice_creation"),
        **nulls("integration_identifier managed_payments origin_context permissions"),
        **nulls("payment_method_configuration_details recovered_from setup_intent"),
        **nulls("saved_payment_method_options shipping_address_collection shipping_cost"),
        **nulls("submit_type wallet_options"),
    }
    obj.update(fields)
    return obj


def line_item(price_obj: Obj, description: str, quantity: int) -> Obj:
    """A checkout `item`: one entry of a session's `line_items`."""
    amount = price_obj["unit_amount"] * quantity
    return {
        "id": new_id("li_"),
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price_obj["currency"],
        "description": description,
        "metadata": {},
        "price": copy.deepcopy(price_obj),
        "quantity": quantity,
    }


def portal_session(now: int, customer_id: str, return_url: str | None, url_for) -> Obj:
    """A `billing_portal.session`; `url_for(id)` gives its hosted page address."""
    session_id = new_id("bps_")
    return {
        "id": session_id,
        "object": "billing_portal.session",
        "configuration": "bpc_sim_default",
        "created": now,
        "customer": customer_id,
        "livemode": False,
        "return_url": return_url,
        "url": url_for(session_id),
        **nulls("customer_account flow locale on_behalf_of"),
    }
