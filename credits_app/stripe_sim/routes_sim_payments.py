"""`/_sim/*` helpers acting as the customer or the bank: pay, settle, cards, disputes, refunds."""

from __future__ import annotations

from typing import Any

from .async_payments import settle_session
from .cards import lookup
from .checkout_payment import pay_session
from .disputes import close_dispute, escalate_dispute, open_dispute
from .params import as_bool, required
from .refunds import settle_refund
from .sim_web import sim_route
from .simulator import Simulator

Obj = dict[str, Any]


def pay(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/checkout/sessions/{id}/pay` `{"card": "4242...", "delayed": false}`."""
    card = str(body.get("card") or "4242424242424242")
    return pay_session(sim, path["id"], card, as_bool(body.get("delayed", False), "delayed"))


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
    """`POST /_sim/charges/{id}/dispute` (a `ch_` or `pi_` id).

    Body: `{"amount": n?, "reason": "fraudulent"?, "inquiry": false, "prevented": false}`.
    """
    return open_dispute(sim, path["id"], body)


def escalate(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/disputes/{id}/escalate`: an inquiry becomes a chargeback."""
    del body
    return escalate_dispute(sim, path["id"])


def close(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/disputes/{id}/close` `{"status": "won"|"lost"|"warning_closed"}`."""
    return close_dispute(sim, path["id"], str(required(body, "status")))


def refund_outcome(outcome: str):
    """`POST /_sim/refunds/{id}/succeed` or `/fail`: finish a refund now."""

    def handler(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
        del body
        return settle_refund(sim, path["id"], outcome)

    return handler


ROUTES = [
    sim_route("/_sim/checkout/sessions/{id}/pay", pay),
    sim_route("/_sim/checkout/sessions/{id}/settle", settle),
    sim_route("/_sim/customers/{id}/card", set_card),
    sim_route("/_sim/charges/{id}/dispute", dispute),
    sim_route("/_sim/disputes/{id}/escalate", escalate),
    sim_route("/_sim/disputes/{id}/close", close),
    sim_route("/_sim/refunds/{id}/succeed", refund_outcome("succeeded")),
    sim_route("/_sim/refunds/{id}/fail", refund_outcome("failed")),
]
