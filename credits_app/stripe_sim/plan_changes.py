"""Plan and quantity changes, prorated like Stripe: billed now or on the next invoice."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .billing import Line, day, describe, draft_invoice, product_name, set_cycle
from .invoice_items import add_pending_item
from .simulator import Simulator
from .subscription_objects import plan_of

Obj = dict[str, Any]


@dataclass
class PlanChange:
    """What a change produced: new invoice items (snapshots) and an invoice to collect now."""

    items: list[Obj] = field(default_factory=list)
    draft: Obj | None = None


def change_plan(
    sim: Simulator, sub: Obj, price: Obj, quantity: int, behaviour: str, previous: Obj
) -> PlanChange | None:
    """Move the subscription's item to `quantity` units of `price`; None when nothing changes.

    Follows Stripe's proration behaviours: `create_prorations` (the default) leaves
    pending invoice items for the unused time (a credit at the old price) and the remaining
    time (a charge at the new one), billed on the next invoice; `always_invoice` bills them
    at once (`subscription_update`); `none` creates none. A new interval (month <-> year)
    resets the billing cycle anchor and bills the new period in full now, with the credit
    for unused time on the same invoice. A trial is not prorated: nothing was paid for it.
    """
    item = sub["items"]["data"][0]
    old_price, old_quantity = item["price"], item["quantity"]
    if price["id"] == old_price["id"] and quantity == old_quantity:
        return None
    previous["items"] = copy.deepcopy(sub["items"])
    now = sim.store.now()
    credit, charge = _prorations(sim, sub, old_price, old_quantity, price, quantity, now)
    item.update(price=copy.deepcopy(price), plan=plan_of(price), quantity=quantity)
    if sub["status"] == "trialing":
        return PlanChange()
    if behaviour == "none":
        credit = charge = None
    if _interval(old_price) != _interval(price):
        previous["billing_cycle_anchor"] = sub["billing_cycle_anchor"]
        sub["billing_cycle_anchor"] = now
        period = set_cycle(sim, sub, now, 0)
        amount, text = price["unit_amount"] * quantity, describe(sim, price, quantity)
        full = Line(amount, period, price, text, quantity)
        items = _add_items(sim, sub, [credit])
        return PlanChange(items, _draft(sim, sub, previous, [full]))
    items = _add_items(sim, sub, [credit, charge])
    if behaviour == "always_invoice" and items:
        return PlanChange(items, _draft(sim, sub, previous, []))
    return PlanChange(items)


def _prorations(
    sim: Simulator, sub: Obj, old: Obj, old_quantity: int, new: Obj, quantity: int, now: int
) -> tuple[Line | None, Line | None]:
    """Credit for the unused time on the old plan, charge for the rest of the period."""
    item = sub["items"]["data"][0]
    start, end = item["current_period_start"], item["current_period_end"]
    share = max(0, end - now) / max(1, end - start)
    unused = round(old["unit_amount"] * old_quantity * share)
    remaining = round(new["unit_amount"] * quantity * share)
    when, period = day(now), (now, end)
    credit = Line(
        -unused,
        period,
        old,
        f"Unused time on {_units(sim, old, old_quantity)} after {when}",
        old_quantity,
        proration=True,
        credited=_debit(sim, sub, old),
    )
    charge = Line(
        remaining,
        period,
        new,
        f"Remaining time on {_units(sim, new, quantity)} after {when}",
        quantity,
        proration=True,
    )
    return (credit if unused else None), (charge if remaining else None)


def _debit(sim: Simulator, sub: Obj, price: Obj) -> tuple[str, list[str]] | None:
    """The lines of the latest invoice that billed `price`, which a credit refers to."""
    latest = sim.store.find(sub["latest_invoice"] or "")
    if latest is None:
        return None
    lines = [
        line["id"]
        for line in latest["lines"]["data"]
        if line["pricing"]["price_details"]["price"] == price["id"] and line["amount"] > 0
    ]
    return (latest["id"], lines) if lines else None


def _units(sim: Simulator, price: Obj, quantity: int) -> str:
    name = product_name(sim, price)
    return name if quantity == 1 else f"{quantity} \N{MULTIPLICATION SIGN} {name}"


def _interval(price: Obj) -> tuple[str, int]:
    return price["recurring"]["interval"], price["recurring"]["interval_count"]


def _add_items(sim: Simulator, sub: Obj, lines: list[Line | None]) -> list[Obj]:
    """Store pending items; returns their snapshots for `invoiceitem.created`."""
    return [copy.deepcopy(add_pending_item(sim, sub, line)) for line in lines if line]


def _draft(sim: Simulator, sub: Obj, previous: Obj, lines: list[Line]) -> Obj:
    previous["latest_invoice"] = sub["latest_invoice"]
    now = sim.store.now()
    return draft_invoice(sim, sub, "subscription_update", lines, (now, now))
