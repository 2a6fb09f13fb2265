"""The stand-in customer portal: cancel (at period end or now), resume, switch plan, card."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .cards import lookup
from .errors import StripeError
from .formdata import decode_form
from .money import format_amount
from .pages import credits_text, date, message_page, page
from .simulator import Simulator
from .subscriptions import cancel_subscription, update_subscription

Obj = dict[str, Any]


async def show(request: Request) -> Response:
    """`GET /portal/{id}`."""
    sim: Simulator = request.app.state.sim
    notice = request.query_params.get("notice", "")
    return await run_in_threadpool(_show, sim, request.path_params["id"], notice)


async def act(request: Request) -> Response:
    """`POST /portal/{id}/subscriptions/{sub}/{action}` and `POST /portal/{id}/card`."""
    sim: Simulator = request.app.state.sim
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
        cards = "".join(_subscription_card(sim, session_id, sub, plans) for sub in subs)
        card = lookup(sim.store.card_for(customer["id"]))
        return page("Billing", _layout(session, customer, cards, card.last4, notice))


def _layout(session: Obj, customer: Obj, cards: str, last4: str, notice: str) -> str:
    note = f'<div class="notice" role="status">{escape(notice)}</div>' if notice else ""
    empty = '<div class="card"><p>You have no active subscriptions.</p></div>'
    back = ""
    if session["return_url"]:
        back = (
            f'<a class="back" href="{escape(session["return_url"])}">&larr; Return to the site</a>'
        )
    return (
        f'<h1>Billing</h1><p class="muted">{escape(customer["email"] or customer["id"])}</p>'
        f"{note}{cards or empty}"
        f'<form class="card" method="post" action="/portal/{session["id"]}/card">'
        f'<h2>Payment method</h2><p class="muted">Card ending in {escape(last4)}</p>'
        '<label for="card">New card number</label><input id="card" name="card" type="text" '
        'inputmode="numeric" placeholder="4000 0000 0000 0002">'
        '<button class="secondary" type="submit">Update card</button></form>'
        f"{back}"
    )


def _subscription_card(sim: Simulator, session_id: str, sub: Obj, plans: list[Obj]) -> str:
    item = sub["items"]["data"][0]
    price = item["price"]
    name = sim.store.get("product", price["product"])["name"]
    amount = format_amount(price["unit_amount"], price["currency"])
    cost = f"{amount} / {price['recurring']['interval']}"
    end = date(item["current_period_end"])
    if sub["status"] == "past_due":
        state = "Payment past due: update your card."
    elif sub["cancel_at_period_end"]:
        state = f"Cancels on {end}"
    else:
        state = f"Renews on {end}"
    action = "resume" if sub["cancel_at_period_end"] else "cancel"
    label = "Renew plan" if sub["cancel_at_period_end"] else "Cancel at period end"
    base = f"/portal/{session_id}/subscriptions/{sub['id']}"
    style = "" if sub["cancel_at_period_end"] else ' class="secondary"'
    buttons = f'<form method="post" action="{base}/{action}"><button{style}>{label}</button></form>'
    buttons += (
        f'<form method="post" action="{base}/cancel_now">'
        '<button class="secondary">Cancel now</button></form>'
    )
    for plan in plans:
        if plan["id"] != price["id"] and plan["currency"] == price["currency"]:
            buttons += _switch_form(sim, base, plan)
    credits = credits_text(price)
    return (
        f'<div class="card"><h2>{escape(name)}</h2>'
        f"<p>{escape(cost)}{' · ' + escape(credits) if credits else ''}</p>"
        f'<p class="muted">Status: {escape(sub["status"])}. {escape(state)}</p>{buttons}</div>'
    )


def _switch_form(sim: Simulator, base: str, plan: Obj) -> str:
    name = sim.store.get("product", plan["product"])["name"]
    amount = format_amount(plan["unit_amount"], plan["currency"])
    label = f"Switch to {name} ({amount} / {plan['recurring']['interval']})"
    return (
        f'<form method="post" action="{base}/switch">'
        f'<input type="hidden" name="price" value="{escape(plan["id"])}">'
        f'<button class="secondary">{escape(label)}</button></form>'
    )


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
    if action == "switch":
        item_id = sub["items"]["data"][0]["id"]
        params = {"items": [{"id": item_id, "price": str(form.get("price") or "")}]}
        sub = update_subscription(sim, sub["id"], params)
        name = sim.store.get("product", sub["items"]["data"][0]["price"]["product"])["name"]
        return f"You are now on the {name}."
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
