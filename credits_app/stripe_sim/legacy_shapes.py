"""Render stored (current-shape) objects as an older API version would show them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .legacy_invoices import invoice_item_shape, invoice_shape, line_shape
from .store import Store
from .versions import BASIL, CHARGE_REFUNDS_EXPANDABLE, before, is_current

Obj = dict[str, Any]


def render(value: Any, version: str, store: Store) -> Any:
    """A copy of `value` (an object, list envelope or event) shaped for `version`.

    Events are left as they are: each was rendered once, in its own `api_version`, when it
    happened, as Stripe fixes an event's data when it creates the event.
    """
    if is_current(version):
        return value
    return _walk(copy.deepcopy(value), version, store)


def render_event_data(data: Obj, version: str, store: Store) -> Obj:
    """Shape an event's `data` (`object` and `previous_attributes`) for `version`."""
    if is_current(version):
        return data
    obj = data["object"]
    previous = data.get("previous_attributes")
    if previous and obj.get("object") == "subscription" and "items" in previous:
        _previous_periods(obj, previous)
    return _walk(data, version, store)


def _walk(node: Any, version: str, store: Store) -> Any:
    if isinstance(node, list):
        return [_walk(item, version, store) for item in node]
    if not isinstance(node, dict) or node.get("object") == "event":
        return node
    kind = node.get("object") if isinstance(node.get("object"), str) else None
    for change, transforms in _TRANSFORMS:
        if before(version, change) and kind in transforms:
            transforms[kind](node, store)
    for key, value in node.items():
        node[key] = _walk(value, version, store)
    return node


def _subscription(sub: Obj, store: Store) -> None:
    """Pre-basil: one billing period on the subscription, none on its items."""
    del store
    items = sub["items"]["data"]
    if items and "current_period_start" in items[0]:
        sub["current_period_start"] = items[0]["current_period_start"]
        sub["current_period_end"] = items[0]["current_period_end"]


def _subscription_item(item: Obj, store: Store) -> None:
    del store
    item.pop("current_period_start", None)
    item.pop("current_period_end", None)


def _charge_invoice(obj: Obj, store: Store) -> None:
    """Pre-basil charges and payment intents name the invoice they paid."""
    intent_id = obj["id"] if obj["object"] == "payment_intent" else obj.get("payment_intent")
    payments = store.all("invoice_payment")
    paying = [p for p in payments if p["payment"]["payment_intent"] == intent_id]
    obj["invoice"] = paying[0]["invoice"] if paying else None


def _charge_refunds(charge: Obj, store: Store) -> None:
    """Before 2022-11-15 a charge embedded its refunds: at most 10, newest first, `has_more`."""
    if isinstance(charge.get("refunds"), dict):
        return
    refunds = [r for r in store.all("refund") if r["charge"] == charge["id"]]
    charge["refunds"] = {
        "object": "list",
        "data": copy.deepcopy(refunds[:10]),
        "has_more": len(refunds) > 10,
        "total_count": len(refunds),
        "url": f"/v1/charges/{charge['id']}/refunds",
    }


def _intent_charges(intent: Obj, store: Store) -> None:
    """Before 2022-11-15 a payment intent embedded its charges (changelog 2022-11-15)."""
    charges = [c for c in store.all("charge") if c["payment_intent"] == intent["id"]]
    intent["charges"] = {
        "object": "list",
        "data": copy.deepcopy(charges),
        "has_more": False,
        "total_count": len(charges),
        "url": f"/v1/charges?payment_intent={intent['id']}",
    }


def _previous_periods(sub: Obj, previous: Obj) -> None:
    """A renewal's `previous_attributes` name the old subscription-level period."""
    old = (previous["items"].get("data") or [{}])[0]
    now = sub["items"]["data"][0]
    for field in ("current_period_start", "current_period_end"):
        if field in old and old[field] != now.get(field):
            previous[field] = old[field]


_Transform = Callable[[Obj, Store], None]
_TRANSFORMS: list[tuple[str, dict[str, _Transform]]] = [
    (
        BASIL,
        {
            "invoice": invoice_shape,
            "line_item": line_shape,
            "invoiceitem": invoice_item_shape,
            "subscription": _subscription,
            "subscription_item": _subscription_item,
            "charge": _charge_invoice,
            "payment_intent": _charge_invoice,
        },
    ),
    (CHARGE_REFUNDS_EXPANDABLE, {"charge": _charge_refunds, "payment_intent": _intent_charges}),
]
