"""`/v1/customers` (with search) and `/v1/billing_portal/sessions`."""

from __future__ import annotations

import re
from typing import Any

from .checkout_objects import portal_session
from .errors import invalid
from .handlers import retrieve
from .listing import paginate
from .objects import customer
from .params import Params, optional_int, required, string_map, text, update_fields
from .simulator import Simulator
from .web import api_route

Obj = dict[str, Any]
_TEXT_FIELDS = ("email", "name", "description", "phone")
# One clause of Stripe's search language: `email:'a@b.c'` or `metadata['user_id']:'42'`.
_CLAUSE = re.compile(r"""(\w+)(?:\[['"](.+?)['"]\])?\s*:\s*['"](.*?)['"]""")


def create_customer(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/customers`: emits `customer.created`."""
    del path
    fields = {name: text(params.get(name), name) for name in _TEXT_FIELDS}
    new = customer(sim.store.now(), metadata=string_map(params.get("metadata")), **fields)
    sim.store.put(new)
    sim.events.emit("customer.created", new)
    return new


def update_customer(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/customers/{id}`: emits `customer.updated` when something changed."""
    found = sim.store.get("customer", path["id"])
    previous = update_fields(found, params, dict.fromkeys(_TEXT_FIELDS, text))
    if previous:
        sim.events.emit("customer.updated", found, previous)
    return found


def list_customers(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/customers`, optionally by exact `email` (case-insensitive, like Stripe)."""
    del path
    found = sim.store.all("customer")
    if params.get("email"):
        email = str(params["email"]).lower()
        found = [c for c in found if (c["email"] or "").lower() == email]
    return paginate(found, params, "/v1/customers")


def search_customers(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/customers/search` for `field:'value'` clauses joined with AND."""
    del path
    query = str(required(params, "query"))
    clauses = _CLAUSE.findall(query)
    if not clauses:
        raise invalid(f"The simulator cannot parse this search query: {query}", param="query")
    found = [c for c in sim.store.all("customer") if all(_matches(c, *cl) for cl in clauses)]
    limit = min(optional_int(params, "limit", minimum=1) or 10, 100)
    return {
        "object": "search_result",
        "data": found[:limit],
        "has_more": len(found) > limit,
        "next_page": None,
        "url": "/v1/customers/search",
    }


def _matches(obj: Obj, field: str, key: str, value: str) -> bool:
    actual = obj.get("metadata", {}).get(key) if field == "metadata" else obj.get(field)
    return str(actual or "").lower() == value.lower()


def create_portal_session(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/billing_portal/sessions`: a link to the simulator's portal page."""
    del path
    customer_id = sim.store.get("customer", required(params, "customer"), "customer")["id"]
    session = portal_session(
        sim.store.now(),
        customer_id,
        text(params.get("return_url"), "return_url"),
        lambda session_id: sim.url(f"/portal/{session_id}"),
    )
    return sim.store.put(session)


ROUTES = [
    api_route("/v1/customers", create_customer, "POST"),
    api_route("/v1/customers", list_customers),
    api_route("/v1/customers/search", search_customers),
    api_route("/v1/customers/{id}", retrieve("customer")),
    api_route("/v1/customers/{id}", update_customer, "POST"),
    api_route("/v1/billing_portal/sessions", create_portal_session, "POST"),
]
