"""HTML of the stand-in customer portal: the customer's subscriptions and their actions."""

from __future__ import annotations

from html import escape
from typing import Any

from .money import format_amount
from .pages import credits_text, date
from .simulator import Simulator

Obj = dict[str, Any]


def layout(session: Obj, customer: Obj, cards: str, last4: str, notice: str) -> str:
    """The whole page: the notice, one card per subscription, the card form, the way back."""
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


def subscription_card(sim: Simulator, session_id: str, sub: Obj, plans: list[Obj]) -> str:
    """One subscription: plan, status, and its cancel, switch and quantity forms."""
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
            buttons += switch_form(sim, base, plan)
    buttons += (
        f'<form method="post" action="{base}/quantity"><label for="quantity-{sub["id"]}">'
        f'Quantity</label><input id="quantity-{sub["id"]}" name="quantity" type="text" '
        f'inputmode="numeric" value="{item["quantity"]}">'
        '<button class="secondary">Update quantity</button></form>'
    )
    credits = credits_text(price)
    return (
        f'<div class="card"><h2>{escape(name)}</h2>'
        f"<p>{escape(cost)}{' · ' + escape(credits) if credits else ''}</p>"
        f'<p class="muted">Status: {escape(sub["status"])}. {escape(state)}</p>{buttons}</div>'
    )


def switch_form(sim: Simulator, base: str, plan: Obj) -> str:
    """The "Switch to <plan>" button."""
    name = sim.store.get("product", plan["product"])["name"]
    amount = format_amount(plan["unit_amount"], plan["currency"])
    label = f"Switch to {name} ({amount} / {plan['recurring']['interval']})"
    return (
        f'<form method="post" action="{base}/switch">'
        f'<input type="hidden" name="price" value="{escape(plan["id"])}">'
        f'<button class="secondary">{escape(label)}</button></form>'
    )
