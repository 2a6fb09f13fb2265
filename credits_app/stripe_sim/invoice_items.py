"""Pending invoice items: prorations that wait for the subscription's next invoice."""

from __future__ import annotations

from typing import Any

from .ids import new_id
from .line_objects import Line, unit_amount_decimal
from .simulator import Simulator

Obj = dict[str, Any]


def add_pending_item(sim: Simulator, subscription: Obj, line: Line) -> Obj:
    """Store a pending `invoiceitem` for a proration; the caller emits `invoiceitem.created`.

    Stripe bills pending items on the subscription's next invoice (with
    `proration_behavior=create_prorations`, the renewal), listed before its own lines.
    """
    price = line.price
    credited = None
    if line.credited:
        credited = {
            "type": "invoice_line_items",
            "invoice_item": None,
            "invoice_line_item_details": {
                "invoice": line.credited[0],
                "invoice_line_items": line.credited[1],
            },
        }
    item = {
        "id": new_id("ii_"),
        "object": "invoiceitem",
        "amount": line.amount,
        "currency": price["currency"],
        "customer": subscription["customer"],
        "customer_account": None,
        "date": sim.store.now(),
        "description": line.description,
        "discountable": not line.proration,
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": {},
        "net_amount": line.amount,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {
                "subscription": subscription["id"],
                "subscription_item": subscription["items"]["data"][0]["id"],
            },
        },
        "period": {"end": line.period[1], "start": line.period[0]},
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": unit_amount_decimal(line),
        },
        "proration": line.proration,
        # Changelog 2026-09-30.endive: a credit proration names the debit it credits.
        "proration_details": {"credited_items": credited, "discount_amounts": []},
        "quantity": line.quantity,
        "quantity_decimal": str(line.quantity),
        "tax_rates": [],
        "test_clock": None,
    }
    return sim.store.put(item)


def pending_items(sim: Simulator, subscription: Obj) -> list[Obj]:
    """The subscription's invoice items not yet on an invoice, oldest first."""
    items = reversed(sim.store.all("invoiceitem"))
    return [
        item
        for item in items
        if item["invoice"] is None
        and item["parent"]["subscription_details"]["subscription"] == subscription["id"]
    ]


def line_of(sim: Simulator, item: Obj) -> Line:
    """The invoice line a pending item becomes."""
    details = item["proration_details"]["credited_items"]
    credited = None
    if details and details["invoice_line_item_details"]:
        found = details["invoice_line_item_details"]
        credited = (found["invoice"], list(found["invoice_line_items"]))
    return Line(
        item["amount"],
        (item["period"]["start"], item["period"]["end"]),
        sim.store.get("price", item["pricing"]["price_details"]["price"]),
        item["description"],
        quantity=item["quantity"],
        proration=item["proration"],
        invoice_item=item["id"],
        credited=credited,
    )
