"""Read Stripe objects in both shapes: the current API and the one before 2025-03-31.

Stripe renders webhook events in the webhook endpoint's API version, which on most existing
accounts predates 2025-03-31 ("basil"). Basil moved `invoice.subscription` under
`parent.subscription_details`, a line's `price` under `pricing.price_details` and its
`proration` flag under `parent.*_details`, and removed `invoice.payment_intent`. Every handler
reads those fields through this module, never directly.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def object_id(value: Any) -> str | None:
    """The id of a field that is either an id or an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def invoice_subscription(invoice: Obj) -> str | None:
    """The invoice's subscription id (`parent.subscription_details`, or legacy top level)."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return object_id(details.get("subscription")) or object_id(invoice.get("subscription"))


def invoice_metadata(invoice: Obj) -> Obj:
    """The subscription metadata copied onto the invoice, in either shape."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    legacy = invoice.get("subscription_details") or {}
    expanded = invoice.get("subscription") if isinstance(invoice.get("subscription"), dict) else {}
    return details.get("metadata") or legacy.get("metadata") or expanded.get("metadata") or {}


def invoice_payment_intent(invoice: Obj) -> str | None:
    """The payment intent named on the invoice itself, or None.

    That is the paid entry of an included `payments` list, else the legacy `payment_intent`.
    """
    for payment in (invoice.get("payments") or {}).get("data") or []:
        if payment.get("status") == "paid":
            return object_id((payment.get("payment") or {}).get("payment_intent"))
    return object_id(invoice.get("payment_intent"))


def line_price_id(line: Obj) -> str | None:
    """The price a line bills: `pricing.price_details.price` or the legacy `price`."""
    details = (line.get("pricing") or {}).get("price_details") or {}
    return object_id(details.get("price")) or object_id(line.get("price"))


def line_is_proration(line: Obj) -> bool:
    """Whether a line is a proration, wherever this API version puts the flag."""
    parent = line.get("parent") or {}
    for kind in ("subscription_item_details", "invoice_item_details"):
        if (parent.get(kind) or {}).get("proration"):
            return True
    return bool(line.get("proration"))


def line_quantity(line: Obj) -> int:
    """A line's quantity (1 when absent)."""
    quantity = line.get("quantity")
    return quantity if isinstance(quantity, int) and quantity > 0 else 1


def embedded_refunds(charge: Obj) -> list[Obj] | None:
    """A charge's refunds when the event carries all of them, else None (list them instead).

    Since 2022-11-15 `charge.refunds` is absent unless expanded; before, it held at most
    ten refunds and `has_more` said whether there were others.
    """
    refunds = charge.get("refunds")
    if not isinstance(refunds, dict) or refunds.get("has_more") or "data" not in refunds:
        return None
    return list(refunds["data"])
