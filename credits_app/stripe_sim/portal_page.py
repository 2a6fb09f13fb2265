"""The stand-in customer portal: cancel, resume, switch plan, change quantity, card.

Like the checkout page it needs no token: its URL holds the unguessable portal session id,
and forms posted from another site's page are refused (`guard.same_origin`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .cards import lookup
from .errors import StripeError
from .formdata import decode_form
from .guard import same_origin
from .pages import date, foreign_form_page, message_page, page
from .portal_views import layout, subscription_card
from .simulator import Simulator
from .subscription_updates import update_subscription
from .subscriptions import cancel_subscription

Obj = dict[str, Any]


async def show(request: Request) -> Response:
    """`GET /portal/{id}`."""
    sim: Simulator = request.app.state.sim
    notice = request.query_params.get("notice", "")
    return await run_in_threadpool(_show, sim, request.path_params["id"], notice)


async def act(request: Request) -> Response:
    """`POST /portal/{id}/subscriptions/{sub}/{action}` and `POST /portal/{id}/card`."""
    sim: Simulator = request.app.state.sim
    if not same_origin(request):
        return foreign_form_page()
    form = decode_form((await request.body()).decode("utf-8", "replace"))
    args = dict(request.path_params)
    return await run_in_threadpool(_act, sim, args, form)


def _show(sim: Simulator, session_id: str, notice: str) -> Response:
    with sim.lock:
        session = _session(sim, session_id)
        if session is None:
            return message_page("Portal link not valid", "Ask the site for a new link.")
        customer = sim.store.get("customer", session["customer"])
        subs = [
            s
            for s in sim.store.all("subscription")
            if s["customer"] == customer["id"] and s["status"] != "canceled"
        ]
        plans = [p for p in sim.store.all("price") if p["active"] and p["type"] == "recurring"]
        cards = "".join(subscription_card(sim, session_id, sub, plans) for sub in subs)
        card = lookup(sim.store.card_for(customer["id"]))
        return page("Billing", layout(session, customer, cards, card.last4, notice))


def _act(sim: Simulator, args: dict[str, str], form: Obj) -> Response:
    session_id = args["id"]
    try:
        with sim.lock:
            session = _session(sim, session_id)
            if session is None:
                return message_page("Portal link not valid", "Ask the site for a new link.")
            notice = _apply(sim, session, args, form)
    except StripeError as exc:
        notice = str(exc.body["message"])
    return RedirectResponse(f"/portal/{session_id}?notice={quote(notice)}", status_code=303)


def _apply(sim: Simulator, session: Obj, args: dict[str, str], form: Obj) -> str:
    if "sub" not in args:
        sim.store.cards[session["customer"]] = lookup(str(form.get("card") or "")).number
        return "Your card was updated."
    sub = sim.store.get("subscription", args["sub"])
    if sub["customer"] != session["customer"]:
        return "That subscription does not belong to you."
    action = args["action"]
    item_id = sub["items"]["data"][0]["id"]
    # Stripe's portal prorates with `create_prorations` unless configured otherwise.
    behaviour = sim.config.portal_proration_behavior
    if action == "switch":
        change = {"id": item_id, "price": str(form.get("price") or "")}
        sub = update_subscription(
            sim, sub["id"], {"items": [change], "proration_behavior": behaviour}
        )
        name = sim.store.get("product", sub["items"]["data"][0]["price"]["product"])["name"]
        return f"You are now on the {name}."
    if action == "quantity":
        change = {"id": item_id, "quantity": str(form.get("quantity") or "").strip()}
        sub = update_subscription(
            sim, sub["id"], {"items": [change], "proration_behavior": behaviour}
        )
        return f"Your plan now has a quantity of {sub['items']['data'][0]['quantity']}."
    if action == "cancel_now":
        cancel_subscription(sim, sub["id"])
        return "Your plan was canceled."
    if action in ("cancel", "resume"):
        flag = "true" if action == "cancel" else "false"
        sub = update_subscription(sim, sub["id"], {"cancel_at_period_end": flag})
        end = date(sub["items"]["data"][0]["current_period_end"])
        return f"Your plan ends on {end}." if action == "cancel" else "Your plan will renew."
    return "Unknown action."


def _session(sim: Simulator, session_id: str) -> Obj | None:
    session = sim.store.find(session_id)
    return session if session and session["object"] == "billing_portal.session" else None


ROUTES = [
    Route("/portal/{id}", show, methods=["GET"]),
    Route("/portal/{id}/card", act, methods=["POST"]),
    Route("/portal/{id}/subscriptions/{sub}/{action}", act, methods=["POST"]),
]
