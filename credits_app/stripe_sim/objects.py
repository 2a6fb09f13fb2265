"""Builders for catalogue and customer objects in Stripe's JSON shape, and `nulls`."""

from __future__ import annotations

import secrets
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
