"""Builders for catalogue, customer, checkout and portal objects in Stripe's JSON shape."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from typing import Any

from .ids import new_id

Obj = dict[str, Any]


def nulls(names: str) -> Obj:
    """Fields the simulator never fills, present (as null) so shapes match Stripe's."""
    return dict.fromkeys(names.split())


def product(now: int, name: str, *, product_id: str | None = None, **fields: Any) -> Obj:
    """A `product`; `fields` may set `description`, `active`, `metadata`."""
    obj = {
        "id": product_id or new_id("prod_", 14),
        "object": "product",
        "active": True,
        "created": now,
        "description": None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {},
        "name": name,
        "type": "service",
        "updated": now,
        **nulls("default_price package_dimensions shippable statement_descriptor tax_code"),
        **nulls("unit_label url"),
    }
    obj.update(fields)
    return obj


def price(now: int, product_id: str, unit_amount: int, currency: str, **fields: Any) -> Obj:
    """A `price`; `fields` may set `id`, `recurring`, `lookup_key`, `nickname`, `metadata`.

    `recurring` is given as `{"interval": "month", "interval_count": 1}` for plans.
    """
    recurring = fields.pop("recurring", None)
    if recurring is not None:
        recurring = {
            "interval": recurring["interval"],
            "interval_count": int(recurring.get("interval_count") or 1),
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
    obj = {
        "id": new_id("price_"),
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": now,
        "currency": currency.lower(),
        "livemode": False,
        "metadata": {},
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
        **nulls("custom_unit_amount lookup_key nickname tiers_mode transform_quantity"),
    }
    obj.update(fields)
    return obj


def customer(now: int, **fields: Any) -> Obj:
    """A `customer`; `fields` may set `email`, `name`, `description`, `phone`, `metadata`."""
    obj = {
        "id": new_id("cus_", 14),
        "object": "customer",
        "balance": 0,
        "created": now,
        "delinquent": False,
        "invoice_prefix": secrets.token_hex(4).upper(),
        "invoice_settings": {
            **nulls("custom_fields default_payment_method footer rendering_options")
        },
        "livemode": False,
        "metadata": {},
        "next_invoice_sequence": 1,
        "preferred_locales": [],
        "tax_exempt": "none",
        **nulls("address currency default_source description discount email name phone"),
        **nulls("shipping test_clock"),
    }
    obj.update(fields)
    return obj


def checkout_session(now: int, url_for: Callable[[str], str], **fields: Any) -> Obj:
    """An open `checkout.session`; `url_for(id)` gives its hosted page address."""
    session_id = new_id("cs_test_", 58)
    obj = {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": 0,
        "amount_total": 0,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "created": now,
        "custom_fields": [],
        "expires_at": now + 24 * 3600,
        "livemode": False,
        "metadata": {},
        "mode": "payment",
        "payment_method_collection": "always",
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "status": "open",
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": url_for(session_id),
        **nulls("after_expiration allow_promotion_codes billing_address_collection cancel_url"),
        **nulls("client_reference_id client_secret consent consent_collection currency"),
        **nulls("customer customer_creation customer_details customer_email invoice locale"),
        **nulls("payment_intent payment_link subscription success_url"),
    }
    obj.update(fields)
    return obj


def line_item(price_obj: Obj, description: str, quantity: int) -> Obj:
    """A checkout `item`: one entry of a session's `line_items`."""
    amount = price_obj["unit_amount"] * quantity
    return {
        "id": new_id("li_"),
        "object": "item",
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
        **nulls("flow locale on_behalf_of"),
    }
