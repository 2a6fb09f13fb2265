"""Paying checkout sessions: card outcomes, immediate or delayed payment, completion."""

from __future__ import annotations

from typing import Any

from .async_payments import defer_settlement
from .cards import TestCard, lookup
from .checkout import trial_end
from .errors import invalid
from .objects import customer
from .params import string_map
from .payments import attempt_charge, new_intent
from .simulator import Simulator
from .subscriptions import start_subscription

Obj = dict[str, Any]


def pay_session(sim: Simulator, session_id: str, card_number: str, delayed: bool = False):
    """Pay an open session with a test card, as the hosted page does.

    Raises:
        StripeError: A `card_error` (402) when the card is declined; the session stays open.
    """
    session = sim.store.get("checkout.session", session_id)
    if session["status"] != "open":
        already = "already complete" if session["status"] == "complete" else "expired"
        raise invalid(f"This Checkout Session is {already} and cannot be paid.")
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
    ends = trial_end(sim, options)
    sub, invoice = start_subscription(sim, buyer, line, metadata, ends)
    # A trial collects the card but charges nothing today.
    status = "paid" if ends is None else "no_payment_required"
    return _complete(sim, session, buyer, status, subscription=sub["id"], invoice=invoice["id"])


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
    if not card.succeeds and not delayed:
        charge = attempt_charge(sim, intent, card.number)
        sim.events.emit("payment_intent.payment_failed", intent)
        sim.events.emit("charge.failed", charge)
        raise card.error(charge=charge["id"], payment_intent=intent["id"])
    buyer = _ensure_customer(sim, session, card)
    intent["customer"] = buyer["id"]
    if delayed:
        # Like a bank debit: accepted now, settled (or failed, for a declining card) later.
        intent["status"] = "processing"
        defer_settlement(sim, session["id"], card)
        return _complete(sim, session, buyer, "unpaid")
    charge = attempt_charge(sim, intent, card.number)
    sim.events.emit("payment_intent.succeeded", intent)
    sim.events.emit("charge.succeeded", charge)
    return _complete(sim, session, buyer, "paid")


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
    details.update(business_name=None, individual_name=None)
    session.update(
        status="complete",
        payment_status=payment_status,
        customer_details={**details, "address": None, "tax_exempt": "none", "tax_ids": []},
        **fields,
    )
    sim.events.emit("checkout.session.completed", session)
    return session
