"""`/v1/products` and `/v1/prices`."""

from __future__ import annotations

from typing import Any

from .errors import invalid
from .handlers import flag, list_of, retrieve
from .listing import paginate
from .objects import price, product
from .params import Params, as_bool, as_dict, as_int, required, string_map, text, update_fields
from .simulator import Simulator
from .web import api_route

Obj = dict[str, Any]
_INTERVALS = ("day", "week", "month", "year")


def create_product(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/products`: emits `product.created`."""
    del path
    store = sim.store
    if params.get("id") and store.find(params["id"]) is not None:
        raise invalid(f"Product already exists with id {params['id']}", param="id")
    new = product(
        store.now(),
        str(required(params, "name")),
        product_id=params.get("id") or None,
        active=as_bool(params.get("active", True), "active"),
        description=text(params.get("description"), "description"),
        metadata=string_map(params.get("metadata")),
    )
    store.put(new)
    sim.events.emit("product.created", new)
    return new


def update_product(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/products/{id}`: emits `product.updated` when something changed."""
    found = sim.store.get("product", path["id"])
    casts = {"name": text, "active": as_bool, "description": text, "default_price": text}
    if params.get("default_price"):
        sim.store.get("price", params["default_price"], "default_price")
    previous = update_fields(found, params, casts)
    if previous:
        found["updated"] = sim.store.now()
        sim.events.emit("product.updated", found, previous)
    return found


def create_price(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/prices` (with `product` or `product_data[name]`): emits `price.created`."""
    del path
    store = sim.store
    currency = str(required(params, "currency"))
    amount = as_int(required(params, "unit_amount"), "unit_amount", minimum=0)
    recurring = _recurring(params.get("recurring"))
    if params.get("product"):
        product_id = store.get("product", params["product"], "product")["id"]
    else:
        data = as_dict(required(params, "product_data"), "product_data")
        name = str(required(data, "name"))
        new_product = store.put(
            product(store.now(), name, metadata=string_map(data.get("metadata")))
        )
        sim.events.emit("product.created", new_product)
        product_id = new_product["id"]
    new = price(
        store.now(),
        product_id,
        amount,
        currency,
        recurring=recurring,
        active=as_bool(params.get("active", True), "active"),
        lookup_key=text(params.get("lookup_key"), "lookup_key"),
        nickname=text(params.get("nickname"), "nickname"),
        metadata=string_map(params.get("metadata")),
    )
    _claim_lookup_key(sim, new, params)
    store.put(new)
    sim.events.emit("price.created", new)
    return new


def update_price(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/prices/{id}` (`active`, `metadata`, `nickname`, `lookup_key`)."""
    found = sim.store.get("price", path["id"])
    if params.get("lookup_key"):
        _claim_lookup_key(sim, {**found, "lookup_key": params["lookup_key"]}, params)
    casts = {"active": as_bool, "nickname": text, "lookup_key": text}
    previous = update_fields(found, params, casts)
    if previous:
        sim.events.emit("price.updated", found, previous)
    return found


def list_prices(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/prices` with `active`, `type`, `product`, `currency`, `lookup_keys`."""
    del path
    prices = sim.store.all("price")
    if "active" in params:
        prices = [p for p in prices if p["active"] == flag(params["active"])]
    for name in ("type", "product", "currency"):
        if params.get(name):
            prices = [p for p in prices if p[name] == params[name]]
    if params.get("lookup_keys"):
        keys = params["lookup_keys"]
        keys = [keys] if isinstance(keys, str) else keys
        prices = [p for p in prices if p["lookup_key"] in keys]
    interval = as_dict(params.get("recurring"), "recurring").get("interval")
    if interval:
        prices = [p for p in prices if (p["recurring"] or {}).get("interval") == interval]
    return paginate(prices, params, "/v1/prices")


def _recurring(value: Any) -> Obj | None:
    if value in (None, ""):
        return None
    recurring = as_dict(value, "recurring")
    interval = recurring.get("interval")
    if interval not in _INTERVALS:
        raise invalid(
            "Invalid recurring[interval]: must be one of day, week, month, or year",
            param="recurring[interval]",
        )
    count = as_int(recurring.get("interval_count", 1), "recurring[interval_count]", minimum=1)
    return {"interval": interval, "interval_count": count}


def _claim_lookup_key(sim: Simulator, new: Obj, params: Params) -> None:
    """Lookup keys are unique; `transfer_lookup_key=true` moves one from another price."""
    key = new.get("lookup_key")
    holders = [p for p in sim.store.all("price") if key and p["lookup_key"] == key]
    holders = [p for p in holders if p["id"] != new["id"]]
    if holders and not as_bool(params.get("transfer_lookup_key", False), "transfer_lookup_key"):
        raise invalid(
            f"A price ({holders[0]['id']}) already uses that lookup key.", param="lookup_key"
        )
    for holder in holders:
        holder["lookup_key"] = None


ROUTES = [
    api_route("/v1/products", create_product, "POST"),
    api_route("/v1/products", list_of("product", "/v1/products", {"active": flag})),
    api_route("/v1/products/{id}", retrieve("product")),
    api_route("/v1/products/{id}", update_product, "POST"),
    api_route("/v1/prices", create_price, "POST"),
    api_route("/v1/prices", list_prices),
    api_route("/v1/prices/{id}", retrieve("price")),
    api_route("/v1/prices/{id}", update_price, "POST"),
]
