"""`/v1/checkout/sessions`."""

from __future__ import annotations

from typing import Any

from .checkout import create_session, expire_session
from .handlers import list_of, retrieve
from .listing import paginate
from .params import Params
from .simulator import Simulator
from .web import api_route

Obj = dict[str, Any]
_FILTERS = {"customer": str, "payment_intent": str, "subscription": str, "status": str}


def create(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/checkout/sessions`."""
    del path
    return create_session(sim, params)


def expire(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/checkout/sessions/{id}/expire`."""
    del params
    return expire_session(sim, path["id"])


def line_items(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/checkout/sessions/{id}/line_items`."""
    session = sim.store.get("checkout.session", path["id"])
    url = f"/v1/checkout/sessions/{session['id']}/line_items"
    return paginate(sim.store.session_lines.get(session["id"], []), params, url)


ROUTES = [
    api_route("/v1/checkout/sessions", create, "POST"),
    api_route(
        "/v1/checkout/sessions", list_of("checkout.session", "/v1/checkout/sessions", _FILTERS)
    ),
    api_route("/v1/checkout/sessions/{id}", retrieve("checkout.session")),
    api_route("/v1/checkout/sessions/{id}/expire", expire, "POST"),
    api_route("/v1/checkout/sessions/{id}/line_items", line_items),
]
