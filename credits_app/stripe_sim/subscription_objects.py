"""Builders for subscriptions, their items and the legacy `plan` view of a price."""

from __future__ import annotations

import copy
from typing import Any

from .ids import new_id
from .objects import nulls

Obj = dict[str, Any]


def subscription_item(now: int, subscription_id: str, price: Obj, quantity: int, period):
    """A `subscription_item`; since API 2025-03-31 the billing period lives here."""
    return {
        "id": new_id("si_", 14),
        "object": "subscription_item",
        "created": now,
        "current_period_start": period[0],
        "current_period_end": period[1],
        "discounts": [],
        "metadata": {},
        "plan": plan_of(price),
        "price": copy.deepcopy(price),
        "quantity": quantity,
        "subscription": subscription_id,
        "billing_thresholds": None,
        "tax_rates": [],
    }


def plan_of(price: Obj) -> Obj:
    """The legacy `plan` view of a recurring price that subscription items still carry."""
    recurring = price["recurring"]
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": dict(price["metadata"]),
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def subscription(now: int, customer_id: str, price: Obj, quantity: int, period, **fields: Any):
    """An active `subscription` with one item; `fields` may set `metadata`."""
    subscription_id = new_id("sub_")
    item = subscription_item(now, subscription_id, price, quantity, period)
    obj = {
        "id": subscription_id,
        "object": "subscription",
        "automatic_tax": {"enabled": False, **nulls("disabled_reason liability")},
        "billing_cycle_anchor": period[0],
        "billing_mode": {"type": "classic", "flexible": None},
        "cancel_at_period_end": False,
        "cancellation_details": nulls("comment feedback reason"),
        "collection_method": "charge_automatically",
        "created": now,
        "currency": price["currency"],
        "customer": customer_id,
        "default_tax_rates": [],
        "discounts": [],
        "items": {
            "object": "list",
            "data": [item],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "invoice_settings": {
            "issuer": {"type": "self"},
            **nulls("account_tax_ids custom_fields description footer"),
        },
        "livemode": False,
        "metadata": {},
        "payment_settings": nulls(
            "payment_method_options payment_method_types save_default_payment_method"
        ),
        "start_date": now,
        "status": "active",
        "billing_schedules": [],
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        **nulls("application application_fee_percent billing_cycle_anchor_config cancel_at"),
        **nulls("canceled_at days_until_due default_payment_method default_source"),
        **nulls("description ended_at latest_invoice next_pending_invoice_item_invoice"),
        **nulls("on_behalf_of pause_collection pending_setup_intent pending_update schedule"),
        **nulls("test_clock transfer_data trial_end trial_start billing_thresholds"),
        **nulls("customer_account managed_payments pending_invoice_item_interval"),
    }
    obj.update(fields)
    return obj
