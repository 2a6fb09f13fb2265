"""`/v1/payment_intents`, `/v1/charges`, `/v1/refunds` and `/v1/disputes`."""

from __future__ import annotations

from typing import Any

from .handlers import list_of, retrieve
from .params import Params
from .refunds import create_refund
from .simulator import Simulator
from .web import api_route

Obj = dict[str, Any]
_BY_CUSTOMER = {"customer": str}
_BY_PAYMENT = {"charge": str, "payment_intent": str}


def refund(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/refunds` with `charge` or `payment_intent` and an optional `amount`."""
    del path
    return create_refund(sim, params)


ROUTES = [
    api_route(
        "/v1/payment_intents", list_of("payment_intent", "/v1/payment_intents", _BY_CUSTOMER)
    ),
    api_route("/v1/payment_intents/{id}", retrieve("payment_intent")),
    api_route(
        "/v1/charges",
        list_of("charge", "/v1/charges", {"customer": str, "payment_intent": str}),
    ),
    api_route("/v1/charges/{id}", retrieve("charge")),
    api_route("/v1/refunds", refund, "POST"),
    api_route("/v1/refunds", list_of("refund", "/v1/refunds", _BY_PAYMENT)),
    api_route("/v1/refunds/{id}", retrieve("refund")),
    api_route("/v1/disputes", list_of("dispute", "/v1/disputes", _BY_PAYMENT)),
    api_route("/v1/disputes/{id}", retrieve("dispute")),
]
