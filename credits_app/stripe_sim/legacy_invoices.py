"""Invoices, their lines and invoice items as API versions before 2025-03-31 showed them."""

from __future__ import annotations

import copy
from typing import Any

from .store import Store
from .subscription_objects import plan_of

Obj = dict[str, Any]


def invoice_shape(invoice: Obj, store: Store) -> None:
    """Pre-basil: `subscription`, `subscription_details`, `payment_intent`, `charge`, `paid`."""
    parent = invoice.pop("parent", None) or {}
    details = parent.get("subscription_details") or {}
    payments = [p for p in store.all("invoice_payment") if p["invoice"] == invoice["id"]]
    intent = store.find(payments[0]["payment"]["payment_intent"]) if payments else None
    invoice.update(
        subscription=details.get("subscription"),
        subscription_details={"metadata": details.get("metadata")},
        quote=None,
        payment_intent=intent["id"] if intent else None,
        charge=intent["latest_charge"] if intent else None,
        paid=invoice["status"] == "paid",
        paid_out_of_band=False,
    )
    for newer in ("payments", "amount_overpaid"):
        invoice.pop(newer, None)


def line_shape(line: Obj, store: Store) -> None:
    """Pre-basil line: top-level `type`, `price`, `plan`, `proration`, parents' ids."""
    parent = line.pop("parent", None) or {}
    pricing = line.pop("pricing", None) or {}
    kind = parent.get("type")
    details = parent.get(kind) or {}
    price = price_of(store, (pricing.get("price_details") or {}).get("price"))
    item = store.find(details.get("invoice_item") or "")
    sub_item = details.get("subscription_item")
    if item is not None:  # a proration still names the subscription item it prorates
        sub_item = item["parent"]["subscription_details"]["subscription_item"]
    line.pop("taxes", None)
    line.update(
        type="subscription" if kind == "subscription_item_details" else "invoiceitem",
        price=price,
        plan=plan_of(price) if price and price["recurring"] else None,
        proration=bool(details.get("proration")),
        proration_details=details.get("proration_details") or {"credited_items": None},
        subscription=details.get("subscription"),
        subscription_item=sub_item,
        invoice_item=details.get("invoice_item"),
        amount_excluding_tax=line["amount"],
        unit_amount_excluding_tax=pricing.get("unit_amount_decimal"),
        tax_amounts=[],
        tax_rates=[],
    )


def invoice_item_shape(item: Obj, store: Store) -> None:
    """Pre-basil invoice item: `price`, `plan`, `subscription`, `subscription_item`."""
    parent = item.pop("parent", None) or {}
    pricing = item.pop("pricing", None) or {}
    details = parent.get("subscription_details") or {}
    price = price_of(store, (pricing.get("price_details") or {}).get("price"))
    item.update(
        price=price,
        plan=plan_of(price) if price and price["recurring"] else None,
        subscription=details.get("subscription"),
        subscription_item=details.get("subscription_item"),
        unit_amount=price["unit_amount"] if price else None,
        unit_amount_decimal=pricing.get("unit_amount_decimal"),
    )


def price_of(store: Store, price_id: Any) -> Obj | None:
    """A copy of a stored price, or None."""
    found = store.find(price_id) if isinstance(price_id, str) else None
    return copy.deepcopy(found) if found else None
