"""`/v1/customers/{id}/balance_transactions`: the customer's credit balance ledger."""

from __future__ import annotations

from typing import Any

from .customer_balance import create_balance_transaction
from .errors import resource_missing
from .listing import paginate
from .params import Params
from .simulator import Simulator
from .web import api_route

Obj = dict[str, Any]


def create(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/customers/{id}/balance_transactions` `{amount, currency, description?}`."""
    return create_balance_transaction(sim, path["id"], params)


def list_transactions(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/customers/{id}/balance_transactions`, newest first."""
    customer = sim.store.get("customer", path["id"])
    found = [
        t for t in sim.store.all("customer_balance_transaction") if t["customer"] == customer["id"]
    ]
    return paginate(found, params, f"/v1/customers/{customer['id']}/balance_transactions")


def retrieve(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/customers/{id}/balance_transactions/{transaction}`."""
    del params
    customer = sim.store.get("customer", path["id"])
    found = sim.store.find(path["transaction"])
    if found is None or found["customer"] != customer["id"]:
        raise resource_missing("customer_balance_transaction", path["transaction"])
    return found


ROUTES = [
    api_route("/v1/customers/{id}/balance_transactions", create, "POST"),
    api_route("/v1/customers/{id}/balance_transactions", list_transactions),
    api_route("/v1/customers/{id}/balance_transactions/{transaction}", retrieve),
]
