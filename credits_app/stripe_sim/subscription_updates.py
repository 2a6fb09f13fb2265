"""`POST /v1/subscriptions/{id}`: plan and quantity changes, cancel at period end, metadata."""

from __future__ import annotations

from typing import Any

from .collection import collect_invoice
from .config import PRORATION_BEHAVIORS
from .errors import invalid
from .params import Params, as_bool, as_int, merged_metadata
from .plan_changes import change_plan
from .simulator import Simulator
from .subscriptions import mark_past_due

Obj = dict[str, Any]


def update_subscription(sim: Simulator, subscription_id: str, params: Params) -> Obj:
    """Apply an update.

    Emits `customer.subscription.updated` (with `previous_attributes`) when anything
    changed, then `invoiceitem.created` for each proration, then the events of an invoice
    billed now (`always_invoice`, or a new interval).
    """
    sub = sim.store.get("subscription", subscription_id)
    if sub["status"] == "canceled" and set(params) - {"metadata", "expand"}:
        raise invalid(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    price, quantity = _requested_item(sim, sub, params)
    behaviour = params.get("proration_behavior") or "create_prorations"
    if behaviour not in PRORATION_BEHAVIORS:
        raise invalid(f"Invalid proration_behavior: {behaviour}", param="proration_behavior")
    previous: Obj = {}
    if "metadata" in params:
        previous["metadata"] = sub["metadata"]
        sub["metadata"] = merged_metadata(sub["metadata"], params["metadata"])
    if params.get("cancel_at_period_end") not in (None, ""):
        flag = as_bool(params["cancel_at_period_end"], "cancel_at_period_end")
        _set_cancel_at_period_end(sim, sub, flag, previous)
    change = change_plan(sim, sub, price, quantity, behaviour, previous)
    if previous:
        sim.events.emit("customer.subscription.updated", sub, previous)
    if change is not None:
        for item in change.items:
            sim.events.emit("invoiceitem.created", item)
        if change.draft is not None and not collect_invoice(sim, change.draft):
            mark_past_due(sim, sub)
    return sub


def _requested_item(sim: Simulator, sub: Obj, params: Params) -> tuple[Obj, int]:
    """The price and quantity asked for in `items[0]` (the current ones when absent)."""
    item = sub["items"]["data"][0]
    items = params.get("items")
    if not items:
        return item["price"], item["quantity"]
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise invalid("The simulator supports updating exactly one item.", param="items")
    item_id = items[0].get("id")
    if item_id and item_id != item["id"]:
        raise invalid(f"No such subscription item: '{item_id}'", param="items[0][id]")
    quantity = item["quantity"]
    if items[0].get("quantity") not in (None, ""):
        quantity = as_int(items[0]["quantity"], "items[0][quantity]", minimum=1)
    if not items[0].get("price"):
        return item["price"], quantity
    price = sim.store.get("price", items[0]["price"], "items[0][price]")
    if not price["active"] or price["type"] != "recurring":
        raise invalid("The price must be an active recurring price.", param="items[0][price]")
    if price["currency"] != sub["currency"]:
        raise invalid(
            "The new price must use the subscription's currency.", param="items[0][price]"
        )
    return price, quantity


def _set_cancel_at_period_end(sim: Simulator, sub: Obj, flag: bool, previous: Obj) -> None:
    if flag == sub["cancel_at_period_end"]:
        return
    previous.update(
        cancel_at_period_end=sub["cancel_at_period_end"],
        cancel_at=sub["cancel_at"],
        canceled_at=sub["canceled_at"],
    )
    period_end = sub["items"]["data"][0]["current_period_end"]
    sub.update(
        cancel_at_period_end=flag,
        cancel_at=period_end if flag else None,
        canceled_at=sim.store.now() if flag else None,
    )
    sub["cancellation_details"]["reason"] = "cancellation_requested" if flag else None
