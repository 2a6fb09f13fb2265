"""`/_sim/*` helpers that act as the customer or the bank: pay, settle, cards, disputes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import checkout_page
from .async_payments import settle_session
from .cards import lookup
from .checkout_payment import pay_session
from .params import as_bool, required
from .payments import close_dispute, open_dispute
from .sim_web import sim_endpoint, sim_route
from .simulator import Simulator

Obj = dict[str, Any]


def pay(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/checkout/sessions/{id}/pay` `{"card": "4242...", "delayed": false}`."""
    card = str(body.get("card") or "4242424242424242")
    return pay_session(sim, path["id"], card, as_bool(body.get("delayed", False), "delayed"))


_pay_json = sim_endpoint(pay)


async def pay_endpoint(request: Request) -> Response:
    """The hosted page posts a form here (HTML answer); tests post JSON (JSON answer)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return await checkout_page.submit(request)
    return await _pay_json(request)


def settle(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/checkout/sessions/{id}/settle` `{"outcome": "succeeded"|"failed"}`.

    Without `outcome`, the card paid with decides (a declining card fails).
    """
    return settle_session(sim, path["id"], str(body.get("outcome") or "") or None)


def set_card(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/customers/{id}/card` `{"card": ...}`: the card renewals will charge."""
    customer = sim.store.get("customer", path["id"])
    card = lookup(str(required(body, "card")))
    sim.store.cards[customer["id"]] = card.number
    return {"customer": customer["id"], "brand": card.brand, "last4": card.last4}


def dispute(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/charges/{id}/dispute` `{"amount": n, "reason": ...}` (a `ch_` or `pi_` id)."""
    return open_dispute(sim, path["id"], body)


def close(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/disputes/{id}/close` `{"status": "won"|"lost"}`."""
    return close_dispute(sim, path["id"], str(required(body, "status")))


ROUTES = [
    Route("/_sim/checkout/sessions/{id}/pay", pay_endpoint, methods=["POST"]),
    sim_route("/_sim/checkout/sessions/{id}/settle", settle),
    sim_route("/_sim/customers/{id}/card", set_card),
    sim_route("/_sim/charges/{id}/dispute", dispute),
    sim_route("/_sim/disputes/{id}/close", close),
]
