"""Invoice lines: what to bill (`Line`) and the `line_item` objects built from it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .ids import new_id

Obj = dict[str, Any]


@dataclass
class Line:
    """One invoice line to bill.

    Attributes:
        amount: Signed amount in minor units (a credit is negative).
        period: `(start, end)` of the service it bills.
        price: The price object billed.
        description: Wording like Stripe's.
        quantity: Units billed.
        proration: Whether it prorates a plan or quantity change.
        invoice_item: The pending invoice item it comes from; None for the subscription's
            own line.
        credited: For a credit proration, `(invoice, [line ids])` of the debit it credits.
    """

    amount: int
    period: tuple[int, int]
    price: Obj
    description: str
    quantity: int = 1
    proration: bool = False
    invoice_item: str | None = None
    credited: tuple[str, list[str]] | None = None


def invoice_line(invoice_id: str, subscription: Obj, line: Line) -> Obj:
    """A `line_item`: the subscription item's own line, or one from a pending invoice item."""
    price = line.price
    return {
        "id": new_id("il_"),
        "object": "line_item",
        "amount": line.amount,
        "currency": price["currency"],
        "description": line.description,
        "discount_amounts": [],
        # The SDK documents `discountable` as always false for prorations.
        "discountable": not line.proration,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": _line_parent(subscription, line),
        "period": {"end": line.period[1], "start": line.period[0]},
        "pretax_credit_amounts": [],
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": unit_amount_decimal(line),
        },
        "quantity": line.quantity,
        "quantity_decimal": str(line.quantity),
        "subscription": None,
        "subtotal": line.amount,
        "taxes": [],
    }


def unit_amount_decimal(line: Line) -> str:
    """The price's unit amount, or for a proration the prorated amount per unit."""
    if not line.proration:
        return line.price["unit_amount_decimal"]
    per_unit = Decimal(line.amount) / line.quantity
    return format(per_unit.normalize() if per_unit else Decimal(0), "f")


def _line_parent(subscription: Obj, line: Line) -> Obj:
    """Basil's `parent`: `invoice_item_details` for invoice items (prorations included)."""
    credited = None
    if line.credited:
        credited = {"invoice": line.credited[0], "invoice_line_items": line.credited[1]}
    details = {"proration": line.proration, "proration_details": {"credited_items": credited}}
    if line.invoice_item:
        return {
            "type": "invoice_item_details",
            "invoice_item_details": {
                "invoice_item": line.invoice_item,
                **details,
                "subscription": subscription["id"],
            },
            "subscription_item_details": None,
        }
    return {
        "type": "subscription_item_details",
        "invoice_item_details": None,
        "subscription_item_details": {
            "invoice_item": None,
            **details,
            "subscription": subscription["id"],
            "subscription_item": subscription["items"]["data"][0]["id"],
        },
    }
