"""Payment flows: payment intents and charging a test card for them."""

from __future__ import annotations

from typing import Any

from .cards import lookup
from .errors import invalid
from .ids import new_id
from .payment_objects import charge, payment_intent
from .simulator import Simulator

Obj = dict[str, Any]


def new_intent(sim: Simulator, amount: int, currency: str, customer_id: str | None, **fields):
    """Create and store a payment intent awaiting payment."""
    return sim.store.put(payment_intent(sim.store.now(), amount, currency, customer_id, **fields))


def attempt_charge(sim: Simulator, intent: Obj, card_number: str) -> Obj:
    """Charge a test card for a payment intent and update the intent with the outcome.

    Args:
        sim: The simulator.
        intent: A stored payment intent.
        card_number: A test card number; unknown numbers raise `incorrect_number`.

    Returns:
        The new charge (status `succeeded` or `failed`); no events are emitted here.
    """
    card = lookup(card_number)
    customer = sim.store.find(intent["customer"] or "")
    payment_method = new_id("pm_")
    email = customer["email"] if customer else None
    new_charge = sim.store.put(charge(sim.store.now(), intent, card, payment_method, email))
    sim.store.charge_cards[new_charge["id"]] = card.number
    intent.update(latest_charge=new_charge["id"], payment_method=payment_method)
    if card.succeeds:
        intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
    else:
        error = card.error(charge=new_charge["id"]).body
        intent.update(status="requires_payment_method", last_payment_error=error)
    return new_charge


def charge_of(sim: Simulator, object_id: str, param: str = "charge") -> Obj:
    """Find a charge by its id or by its payment intent's id."""
    if object_id.startswith("pi_"):
        intent = sim.store.get("payment_intent", object_id, param)
        if not intent["latest_charge"]:
            raise invalid(f"PaymentIntent {object_id} has no charge to act on.", param=param)
        return sim.store.get("charge", intent["latest_charge"], param)
    return sim.store.get("charge", object_id, param)
