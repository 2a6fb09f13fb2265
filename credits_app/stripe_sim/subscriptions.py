"""Subscription lifecycle via the API: start from checkout, plan switches, cancellation."""

from __future__ import annotations

import copy
from typing import Any

from .billing import Line, collect_invoice, day, describe, draft_invoice, set_cycle
from .errors import invalid
from .params import Params, as_bool, merged_metadata
from .simulator import Simulator
from .subscription_objects import plan_of, subscription

Obj = dict[str, Any]
_PRORATION_BEHAVIOURS = ("create_prorations", "none", "always_invoice")


def start_subscription(sim: Simulator, customer: Obj, line: Obj, metadata: dict[str, str]):
    """Create an active subscription from a checkout line item and bill its first period.

    Emits `customer.subscription.created`, then the first invoice's events.

    Returns:
        `(subscription, invoice)`.
    """
    store = sim.store
    now = store.now()
    price, quantity = line["price"], line["quantity"]
    sub = subscription(now, customer["id"], price, quantity, (now, now), metadata=metadata)
    period = set_cycle(sim, sub, now, 0)
    store.put(sub)
    amount = price["unit_amount"] * quantity
    first = Line(amount, period, price, describe(sim, price, quantity))
    draft = draft_invoice(sim, sub, "subscription_create", [first], (now, now))
    sim.events.emit("customer.subscription.created", sub)
    collect_invoice(sim, draft)
    return sub, draft


def update_subscription(sim: Simulator, subscription_id: str, params: Params) -> Obj:
    """Apply `POST /v1/subscriptions/{id}`: plan switch, cancel at period end, metadata.

    Emits `customer.subscription.updated` (with `previous_attributes`) when anything
    changed, then the events of a proration invoice if the plan changed.
    """
    sub = sim.store.get("subscription", subscription_id)
    if sub["status"] == "canceled" and set(params) - {"metadata", "expand"}:
        raise invalid(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    new_price = _requested_price(sim, sub, params)
    behaviour = params.get("proration_behavior") or "create_prorations"
    if behaviour not in _PRORATION_BEHAVIOURS:
        raise invalid(f"Invalid proration_behavior: {behaviour}", param="proration_behavior")
    previous: Obj = {}
    if "metadata" in params:
        previous["metadata"] = sub["metadata"]
        sub["metadata"] = merged_metadata(sub["metadata"], params["metadata"])
    if params.get("cancel_at_period_end") not in (None, ""):
        _set_cancel_at_period_end(
            sim, sub, as_bool(params["cancel_at_period_end"], "cancel_at_period_end"), previous
        )
    draft = _switch_price(sim, sub, new_price, behaviour, previous) if new_price else None
    if previous:
        sim.events.emit("customer.subscription.updated", sub, previous)
    if draft is not None and not collect_invoice(sim, draft):
        mark_past_due(sim, sub)
    return sub


def cancel_subscription(sim: Simulator, subscription_id: str) -> Obj:
    """Cancel now (`DELETE /v1/subscriptions/{id}`); emits `customer.subscription.deleted`."""
    sub = sim.store.get("subscription", subscription_id)
    if sub["status"] == "canceled":
        raise invalid(f"Subscription {subscription_id} is already canceled.")
    now = sim.store.now()
    sub.update(status="canceled", canceled_at=now, ended_at=now, cancel_at_period_end=False)
    sub["cancellation_details"]["reason"] = "cancellation_requested"
    sim.events.emit("customer.subscription.deleted", sub)
    return sub


def mark_past_due(sim: Simulator, sub: Obj) -> None:
    """A payment failed: `past_due` and `customer.subscription.updated`."""
    if sub["status"] == "active":
        sub["status"] = "past_due"
        sim.events.emit("customer.subscription.updated", sub, {"status": "active"})


def _requested_price(sim: Simulator, sub: Obj, params: Params) -> Obj | None:
    items = params.get("items")
    if not items:
        return None
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise invalid("The simulator supports updating exactly one item.", param="items")
    item_id = items[0].get("id")
    if item_id and item_id != sub["items"]["data"][0]["id"]:
        raise invalid(f"No such subscription item: '{item_id}'", param="items[0][id]")
    if not items[0].get("price"):
        return None
    price = sim.store.get("price", items[0]["price"], "items[0][price]")
    if not price["active"] or price["type"] != "recurring":
        raise invalid("The price must be an active recurring price.", param="items[0][price]")
    if price["currency"] != sub["currency"]:
        raise invalid(
            "The new price must use the subscription's currency.", param="items[0][price]"
        )
    return price


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


def _switch_price(sim: Simulator, sub: Obj, price: Obj, behaviour: str, previous: Obj):
    """Move the item to `price`; returns the proration invoice to collect, if any."""
    item = sub["items"]["data"][0]
    old = item["price"]
    if old["id"] == price["id"]:
        return None
    previous["items"] = copy.deepcopy(sub["items"])
    now = sim.store.now()
    item["price"] = copy.deepcopy(price)
    item["plan"] = plan_of(price)
    lines = _proration_lines(sim, item, old, now) if behaviour != "none" else []
    if old["recurring"] != price["recurring"]:
        # A new interval restarts the billing cycle and bills the new period in full now.
        previous["billing_cycle_anchor"] = sub["billing_cycle_anchor"]
        sub["billing_cycle_anchor"] = now
        period = set_cycle(sim, sub, now, 0)
        amount = price["unit_amount"] * item["quantity"]
        lines = [*lines[:1], Line(amount, period, price, describe(sim, price, item["quantity"]))]
    if not lines:
        return None
    previous["latest_invoice"] = sub["latest_invoice"]
    return draft_invoice(sim, sub, "subscription_update", lines, (now, now))


def _proration_lines(sim: Simulator, item: Obj, old: Obj, now: int) -> list[Line]:
    """Credit for the unused time on the old price, charge for the rest on the new one."""
    start, end = item["current_period_start"], item["current_period_end"]
    share = max(0, end - now) / max(1, end - start)
    new = item["price"]
    old_name = sim.store.get("product", old["product"])["name"]
    new_name = sim.store.get("product", new["product"])["name"]
    unused = round(old["unit_amount"] * item["quantity"] * share)
    remaining = round(new["unit_amount"] * item["quantity"] * share)
    return [
        Line(-unused, (now, end), old, f"Unused time on {old_name} after {day(now)}", True),
        Line(remaining, (now, end), new, f"Remaining time on {new_name} after {day(now)}", True),
    ]
