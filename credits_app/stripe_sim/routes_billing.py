"""`/v1/subscriptions`, `/v1/invoices`, `/v1/invoice_payments` and `/v1/invoiceitems`."""

from __future__ import annotations

from typing import Any

from .dunning import retry_invoice
from .handlers import retrieve
from .listing import filtered, paginate
from .params import Params, as_bool, as_dict
from .simulator import Simulator
from .subscription_updates import update_subscription
from .subscriptions import cancel_subscription
from .web import api_route

Obj = dict[str, Any]


def list_subscriptions(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/subscriptions`: by `customer`, `price`, `status` (`all`; default hides canceled)."""
    del path
    subs = filtered(sim.store.all("subscription"), params, {"customer": str})
    status = params.get("status")
    if status and status != "all":
        subs = [s for s in subs if s["status"] == status]
    elif not status:
        subs = [s for s in subs if s["status"] != "canceled"]
    if params.get("price"):
        subs = [s for s in subs if s["items"]["data"][0]["price"]["id"] == params["price"]]
    return paginate(subs, params, "/v1/subscriptions")


def update(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/subscriptions/{id}`."""
    return update_subscription(sim, path["id"], params)


def cancel(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`DELETE /v1/subscriptions/{id}` (`invoice_now` and `prorate` are ignored)."""
    del params
    return cancel_subscription(sim, path["id"])


def list_invoices(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/invoices` by `customer`, `subscription`, `status`."""
    del path
    found = filtered(sim.store.all("invoice"), params, {"customer": str, "status": str})
    if params.get("subscription"):
        wanted = params["subscription"]
        found = [i for i in found if i["parent"]["subscription_details"]["subscription"] == wanted]
    return paginate(found, params, "/v1/invoices")


def invoice_lines(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/invoices/{id}/lines`."""
    found = sim.store.get("invoice", path["id"])
    return paginate(found["lines"]["data"], params, found["lines"]["url"])


def pay(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`POST /v1/invoices/{id}/pay`."""
    del params
    return retry_invoice(sim, path["id"])


def list_invoice_payments(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/invoice_payments` by `invoice` or `payment[payment_intent]`."""
    del path
    found = filtered(sim.store.all("invoice_payment"), params, {"invoice": str, "status": str})
    intent = as_dict(params.get("payment"), "payment").get("payment_intent")
    if intent:
        found = [p for p in found if p["payment"]["payment_intent"] == intent]
    return paginate(found, params, "/v1/invoice_payments")


def list_invoice_items(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/invoiceitems` by `customer`, `invoice` and `pending` (not yet invoiced)."""
    del path
    found = filtered(sim.store.all("invoiceitem"), params, {"customer": str, "invoice": str})
    if params.get("pending") not in (None, ""):
        wanted = as_bool(params["pending"], "pending")
        found = [i for i in found if (i["invoice"] is None) == wanted]
    return paginate(found, params, "/v1/invoiceitems")


ROUTES = [
    api_route("/v1/subscriptions", list_subscriptions),
    api_route("/v1/subscriptions/{id}", retrieve("subscription")),
    api_route("/v1/subscriptions/{id}", update, "POST"),
    api_route("/v1/subscriptions/{id}", cancel, "DELETE"),
    api_route("/v1/invoices", list_invoices),
    api_route("/v1/invoices/{id}", retrieve("invoice")),
    api_route("/v1/invoices/{id}/lines", invoice_lines),
    api_route("/v1/invoices/{id}/pay", pay, "POST"),
    api_route("/v1/invoice_payments", list_invoice_payments),
    api_route("/v1/invoiceitems", list_invoice_items),
    api_route("/v1/invoiceitems/{id}", retrieve("invoiceitem")),
    api_route("/v1/invoice_payments/{id}", retrieve("invoice_payment")),
]
