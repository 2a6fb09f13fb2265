"""The stand-in hosted checkout page: `GET /checkout/{id}` and its form, posted to the same URL.

The page needs no token, like Stripe's: its URL holds the unguessable session id, and a
form posted from another site's page (its `Origin` is not ours) is refused.
"""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .checkout import trial_end
from .checkout_payment import pay_session
from .errors import StripeError
from .formdata import decode_form
from .guard import same_origin
from .money import format_amount
from .pages import credits_text, foreign_form_page, message_page, page
from .simulator import Simulator

Obj = dict[str, Any]
_DEFAULT_CARD = "4242 4242 4242 4242"
_HINT = "Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined."


async def show(request: Request) -> Response:
    """`GET /checkout/{id}`."""
    sim: Simulator = request.app.state.sim
    return await run_in_threadpool(_show, sim, request.path_params["id"])


async def submit(request: Request) -> Response:
    """The Pay button: redirect (303) to `success_url`, or show the page with the error."""
    sim: Simulator = request.app.state.sim
    if not same_origin(request):
        return foreign_form_page()
    form = decode_form((await request.body()).decode("utf-8", "replace"))
    return await run_in_threadpool(_submit, sim, request.path_params["id"], form)


def _show(sim: Simulator, session_id: str, error: str = "", card: str = "") -> Response:
    with sim.lock:
        session = sim.store.find(session_id)
        if session is None or session["object"] != "checkout.session":
            return message_page("Checkout not found", "This checkout link is not valid.")
        # A payment posted to a finished session is refused (400) with the same explanation.
        status = 400 if error else 200
        if session["status"] == "complete":
            text = "This checkout is already complete: it was paid, and cannot be paid again."
            link = _success_url(session)
            return message_page("Payment complete", text, link, "Continue", status)
        if session["status"] == "expired":
            text = "This checkout session has expired and cannot be paid. Start again."
            return message_page("Checkout expired", text, session["cancel_url"], "Go back", status)
        lines = sim.store.session_lines.get(session_id, [])
        email = session["customer_email"]
        if session["customer"]:
            email = sim.store.get("customer", session["customer"])["email"] or email
        options = sim.store.session_options.get(session_id, {}).get("subscription_data", {})
        ends = trial_end(sim, options)
        days = None if ends is None else max(1, round((ends - sim.store.now()) / 86_400))
        body = _form(session, lines, email, error, card or _DEFAULT_CARD, days)
        return page("Checkout", body, 402 if error else 200)


def _submit(sim: Simulator, session_id: str, form: Obj) -> Response:
    delayed = form.get("delayed") in ("on", "true", "1")
    try:
        with sim.lock:
            session = pay_session(sim, session_id, str(form.get("card") or ""), delayed)
            target = _success_url(session)
    except StripeError as exc:
        # Show what was typed, so a mistyped number can be corrected in place.
        return _show(sim, session_id, str(exc.body["message"]), str(form.get("card") or ""))
    return RedirectResponse(target or f"/checkout/{session_id}", status_code=303)


def _success_url(session: Obj) -> str | None:
    url = session["success_url"]
    return url.replace("{CHECKOUT_SESSION_ID}", session["id"]) if url else None


def _form(session: Obj, lines: list[Obj], email: str | None, error: str, card: str, days):
    rows = "".join(_line_row(line) for line in lines)
    total = format_amount(session["amount_total"], session["currency"])
    subscription = session["mode"] == "subscription"
    interval = lines[0]["price"]["recurring"]["interval"] if subscription and lines else ""
    due = f"{total} / {interval}" if interval else total
    if days:
        due = f"{days} days free, then {due}"
    alert = f'<div class="alert" role="alert">{escape(error)}</div>' if error else ""
    delayed = (
        ""
        if subscription
        else '<label class="check"><input type="checkbox" name="delayed" value="on">'
        "Pay with a delayed method (settles later)</label>"
    )
    cancel = session["cancel_url"]
    back = (
        f'<a class="back" href="{escape(cancel)}">&larr; Cancel and go back</a>' if cancel else ""
    )
    who = f'<p class="muted">Paying as {escape(email)}</p>' if email else ""
    return (
        f"<h1>{'Subscribe' if subscription else 'Checkout'}</h1>"
        f'<div class="card"><div class="total">{escape(due)}</div>{rows}</div>'
        f'<form class="card" method="post" action="/checkout/{session["id"]}">'
        f'{who}<label for="card">Card number</label>'
        '<input id="card" name="card" type="text" inputmode="numeric" autocomplete="cc-number" '
        f'value="{escape(card)}" placeholder="{_DEFAULT_CARD}">'
        f'<p class="muted">{_HINT}</p>{delayed}{alert}'
        f'<button type="submit">{_verb(subscription, days)} {escape(due)}</button>'
        f"</form>{back}"
    )


def _verb(subscription: bool, trial_days: int | None) -> str:
    if trial_days:
        return "Start trial:"
    return "Subscribe" if subscription else "Pay"


def _line_row(line: Obj) -> str:
    price = line["price"]
    credits = credits_text(price, line["quantity"])
    detail = f'<div class="muted">{escape(credits)}</div>' if credits else ""
    quantity = f" &times; {line['quantity']}" if line["quantity"] > 1 else ""
    amount = format_amount(line["amount_total"], line["currency"])
    name = f"<div><strong>{escape(line['description'])}</strong>{quantity}{detail}</div>"
    return f'<div class="row">{name}<div>{escape(amount)}</div></div>'


ROUTES = [
    Route("/checkout/{id}", show, methods=["GET"]),
    Route("/checkout/{id}", submit, methods=["POST"]),
]
