"""Paying checkout sessions: card outcomes, immediate and delayed payment, completion."""

from __future__ import annotations

from typing import Any

from .cards import TestCard, lookup
from .errors import invalid
from .objects import customer
from .params import string_map
from .payments import attempt_charge, new_intent
from .simulator import Simulator
from .subscriptions import start_subscription

Obj = dict[str, Any]
# Delayed methods (bank debits) fail after the fact; a declining card models the failure.
_DELAYED_FAILURE_CARD = "4000000000000002"


def pay_session(sim: Simulator, session_id: str, card_number: str, delayed: bool = False):
    """Pay an open session with a test card, as the hosted page does.

    Raises:
        StripeError: A `card_error` (402) when the card is declined; the session stays open.
    """
    session = sim.store.get("checkout.session", session_id)
    if session["status"] != "open":
        raise invalid(f"This Checkout Session is {session['status']} and cannot be paid.")
    if delayed and session["mode"] != "payment":
        raise invalid("Delayed payment is only simulated in payment mode.", param="delayed")
    card = lookup(card_number)
    if session["mode"] == "payment":
        return _pay_once(sim, session, card, delayed)
    if not card.succeeds:
        raise card.error()
    buyer = _ensure_customer(sim, session, card)
    options = sim.store.session_options[session_id]["subscription_data"]
    metadata = string_map(options.get("metadata"))
    line = sim.store.session_lines[session_id][0]
    sub, invoice = start_subscription(sim, buyer, line, metadata)
    return _complete(sim, session, buyer, "paid", subscription=sub["id"], invoice=invoice["id"])


def _pay_once(sim: Simulator, session: Obj, card: TestCard, delayed: bool) -> Obj:
    store = sim.store
    if session["payment_intent"]:
        intent = store.get("payment_intent", session["payment_intent"])
    else:
        options = store.session_options[session["id"]]["payment_intent_data"]
        intent = new_intent(
            sim,
            session["amount_total"],
            session["currency"],
            session["customer"],
            metadata=string_map(options.get("metadata")),
            description=options.get("description"),
        )
        session["payment_intent"] = intent["id"]
    if not card.succeeds:
        charge = attempt_charge(sim, intent, card.number)
        sim.events.emit("payment_intent.payment_failed", intent)
        sim.events.emit("charge.failed", charge)
        raise card.error(charge=charge["id"], payment_intent=intent["id"])
    buyer = _ensure_customer(sim, session, card)
    intent["customer"] = buyer["id"]
    if delayed:
        intent["status"] = "processing"
        return _complete(sim, session, buyer, "unpaid")
    charge = attempt_charge(sim, intent, card.number)
    sim.events.emit("payment_intent.succeeded", intent)
    sim.events.emit("charge.succeeded", charge)
    return _complete(sim, session, buyer, "paid")


def settle_session(sim: Simulator, session_id: str, outcome: str) -> Obj:
    """Finish a delayed payment: `succeeded` or `failed`, with Stripe's async events."""
    session = sim.store.get("checkout.session", session_id)
    intent = sim.store.find(session["payment_intent"] or "")
    if session["status"] != "complete" or not intent or intent["status"] != "processing":
        raise invalid("This Checkout Session has no delayed payment waiting to settle.")
    if outcome not in ("succeeded", "failed"):
        raise invalid("outcome must be 'succeeded' or 'failed'", param="outcome")
    card = sim.store.card_for(session["customer"])
    charge = attempt_charge(sim, intent, card if outcome == "succeeded" else _DELAYED_FAILURE_CARD)
    if outcome == "succeeded":
        sim.events.emit("payment_intent.succeeded", intent)
        sim.events.emit("charge.succeeded", charge)
        session["payment_status"] = "paid"
        sim.events.emit("checkout.session.async_payment_succeeded", session)
    else:
        sim.events.emit("payment_intent.payment_failed", intent)
        sim.events.emit("charge.failed", charge)
        sim.events.emit("checkout.session.async_payment_failed", session)
    return session


def _ensure_customer(sim: Simulator, session: Obj, card: TestCard) -> Obj:
    """The paying customer, created (with `customer.created`) when the session had none."""
    store = sim.store
    if session["customer"]:
        buyer = store.get("customer", session["customer"])
    else:
        buyer = store.put(customer(store.now(), email=session["customer_email"]))
        sim.events.emit("customer.created", buyer)
        session["customer"] = buyer["id"]
    store.cards[buyer["id"]] = card.number
    return buyer


def _complete(sim: Simulator, session: Obj, buyer: Obj, payment_status: str, **fields: Any):
    details = {"email": buyer["email"], "name": buyer["name"], "phone": buyer["phone"]}
    session.update(
        status="complete",
        payment_status=payment_status,
        customer_details={**details, "address": None, "tax_exempt": "none", "tax_ids": []},
        **fields,
    )
    sim.events.emit("checkout.session.completed", session)
    return session
