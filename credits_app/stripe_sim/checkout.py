"""Checkout sessions: creation with Stripe's validation, and expiry."""

from __future__ import annotations

from typing import Any

from .checkout_objects import checkout_session, line_item
from .errors import invalid, missing_param
from .params import Params, as_dict, as_int, string_map
from .simulator import Simulator

Obj = dict[str, Any]


def create_session(sim: Simulator, params: Params) -> Obj:
    """Validate `POST /v1/checkout/sessions` parameters and store an open session."""
    store = sim.store
    mode = params.get("mode") or "payment"
    if mode not in ("payment", "subscription"):
        raise invalid(f"The simulator does not support mode '{mode}'.", param="mode")
    items = params.get("line_items")
    if not isinstance(items, list) or not items:
        raise missing_param("line_items")
    lines = [_line(sim, index, item, mode) for index, item in enumerate(items)]
    if mode == "subscription" and len(lines) != 1:
        raise invalid("The simulator supports one line item in subscription mode.", "line_items")
    if len({line["currency"] for line in lines}) != 1:
        raise invalid("All line items must use the same currency.", param="line_items")
    _check_customer(sim, params)
    total = sum(line["amount_total"] for line in lines)
    session = checkout_session(
        store.now(),
        lambda session_id: sim.url(f"/checkout/{session_id}"),
        mode=mode,
        amount_subtotal=total,
        amount_total=total,
        currency=lines[0]["currency"],
        customer=params.get("customer") or None,
        customer_email=params.get("customer_email") or None,
        customer_creation=None if params.get("customer") else "always",
        client_reference_id=params.get("client_reference_id") or None,
        metadata=string_map(params.get("metadata")),
        success_url=params.get("success_url") or None,
        cancel_url=params.get("cancel_url") or None,
    )
    subscription_data = as_dict(params.get("subscription_data"), "subscription_data")
    _check_trial(sim, subscription_data, mode)
    store.session_lines[session["id"]] = lines
    store.session_options[session["id"]] = {
        "payment_intent_data": as_dict(params.get("payment_intent_data"), "payment_intent_data"),
        "subscription_data": subscription_data,
    }
    return store.put(session)


def trial_end(sim: Simulator, subscription_data: Obj) -> int | None:
    """When a trial asked for in `subscription_data` ends, counted from now; None without."""
    if subscription_data.get("trial_end") not in (None, ""):
        return int(subscription_data["trial_end"])
    days = subscription_data.get("trial_period_days")
    return None if days in (None, "") else sim.store.now() + int(days) * 86_400


def _check_trial(sim: Simulator, data: Obj, mode: str) -> None:
    """Stripe's limits: 1 to 730 trial days, or a `trial_end` in the future."""
    asked = [key for key in ("trial_period_days", "trial_end") if data.get(key) not in (None, "")]
    if asked and mode != "subscription":
        raise invalid("Trials are only available in `subscription` mode.", "subscription_data")
    if "trial_period_days" in asked:
        param = "subscription_data[trial_period_days]"
        if as_int(data["trial_period_days"], param, minimum=1) > 730:
            raise invalid("trial_period_days must be at most 730.", param=param)
    if "trial_end" in asked:
        param = "subscription_data[trial_end]"
        if as_int(data["trial_end"], param) <= sim.store.now():
            raise invalid("trial_end must be in the future.", param=param)


def _check_customer(sim: Simulator, params: Params) -> None:
    if params.get("customer") and params.get("customer_email"):
        raise invalid("You may only specify one of these parameters: customer, customer_email.")
    if params.get("customer"):
        sim.store.get("customer", params["customer"], "customer")


def _line(sim: Simulator, index: int, item: Any, mode: str) -> Obj:
    param = f"line_items[{index}][price]"
    if not isinstance(item, dict) or not item.get("price"):
        raise missing_param(param)
    price = sim.store.get("price", item["price"], param)
    product = sim.store.get("product", price["product"])
    if not price["active"] or not product["active"]:
        message = "The price specified is inactive. This field only accepts active prices."
        raise invalid(message, param=param)
    if mode == "payment" and price["type"] == "recurring":
        raise invalid(
            "You specified `payment` mode but passed a recurring price. Either switch to "
            "`subscription` mode or use only one-time prices.",
            param=param,
        )
    if mode == "subscription" and price["type"] != "recurring":
        raise invalid(
            "You must provide at least one recurring price in `subscription` mode when using "
            "prices.",
            param=param,
        )
    quantity = as_int(item.get("quantity", 1), f"line_items[{index}][quantity]", minimum=1)
    return line_item(price, product["name"], quantity)


def expire_session(sim: Simulator, session_id: str) -> Obj:
    """Expire an open session: emits `checkout.session.expired`."""
    session = sim.store.get("checkout.session", session_id)
    if session["status"] != "open":
        raise invalid(
            'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{session["status"]}".'
        )
    session["status"] = "expired"
    sim.events.emit("checkout.session.expired", session)
    return session
