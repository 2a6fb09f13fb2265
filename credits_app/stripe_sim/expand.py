"""Response expansion: replace ids with objects and fill include-only lists on request."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .errors import invalid
from .store import Store

Obj = dict[str, Any]


def _sub_list(data: list[Obj], url: str) -> Obj:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def _session_line_items(store: Store, session: Obj) -> Obj:
    url = f"/v1/checkout/sessions/{session['id']}/line_items"
    return _sub_list(store.session_lines.get(session["id"], []), url)


def _invoice_payments(store: Store, invoice: Obj) -> Obj:
    data = [p for p in store.all("invoice_payment") if p["invoice"] == invoice["id"]]
    return _sub_list(data, f"/v1/invoices/{invoice['id']}/payments")


def _charge_refunds(store: Store, charge: Obj) -> Obj:
    data = [r for r in store.all("refund") if r["charge"] == charge["id"]]
    return _sub_list(data, f"/v1/charges/{charge['id']}/refunds")


# Fields Stripe only includes when asked for with `expand`.
INCLUDABLE: dict[str, dict[str, Callable[[Store, Obj], Obj]]] = {
    "checkout.session": {"line_items": _session_line_items},
    "invoice": {"payments": _invoice_payments},
    "charge": {"refunds": _charge_refunds},
}


def render(store: Store, obj: Obj, paths: list[str]) -> Obj:
    """Return a deep copy of `obj` with every `expand` path applied.

    Args:
        store: Where ids are resolved.
        obj: A stored object or list envelope (left untouched).
        paths: Dotted paths such as `data.product` or `latest_invoice.payments`.
    """
    result = copy.deepcopy(obj)
    for path in paths:
        _expand(store, result, path.split("."), path)
    return result


def _expand(store: Store, node: Any, segments: list[str], path: str) -> None:
    if not segments or not isinstance(node, dict):
        return
    head, rest = segments[0], segments[1:]
    if node.get("object") in ("list", "search_result") and head == "data":
        for item in node["data"]:
            _expand(store, item, rest, path)
        return
    include = INCLUDABLE.get(node.get("object", ""), {}).get(head)
    if include is not None and not isinstance(node.get(head), dict):
        node[head] = copy.deepcopy(include(store, node))
    if head not in node:
        raise invalid(f"This property cannot be expanded ({path}).", param="expand")
    value = node[head]
    if isinstance(value, str):
        found = store.find(value)
        if found is not None:
            node[head] = value = copy.deepcopy(found)
    _expand(store, value, rest, path)
