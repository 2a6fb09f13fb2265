"""Delayed payments: settled by hand, by the test clock, or by a timer, like bank debits."""

from __future__ import annotations

import threading
from typing import Any

from .cards import TestCard
from .errors import StripeError, invalid
from .payments import attempt_charge
from .simulator import Simulator
from .store import SUCCESS_CARD

Obj = dict[str, Any]
_FAILING_CARD = "4000000000000002"
_OUTCOMES = ("succeeded", "failed")


def defer_settlement(sim: Simulator, session_id: str, card: TestCard) -> None:
    """Remember how a delayed payment will end, and settle it after `async_settle_seconds`."""
    outcome = "succeeded" if card.succeeds else "failed"
    sim.store.pending_settlements[session_id] = (card.number, outcome)
    delay = sim.config.async_settle_seconds
    if delay > 0:
        timer = threading.Timer(delay, _settle_if_pending, (sim, session_id))
        timer.daemon = True
        timer.start()


def settle_pending(sim: Simulator) -> list[str]:
    """Settle every delayed payment now (the test clock moved past them); returns session ids."""
    pending = list(sim.store.pending_settlements)
    for session_id in pending:
        settle_session(sim, session_id)
    return pending


def settle_session(sim: Simulator, session_id: str, outcome: str | None = None) -> Obj:
    """Finish a delayed payment with Stripe's async events.

    Args:
        sim: The simulator.
        session_id: A completed checkout session whose payment is processing.
        outcome: `succeeded` or `failed`; by default what the card used decides.

    Raises:
        StripeError: 400 when nothing is waiting to settle or the outcome is unknown.
    """
    session = sim.store.get("checkout.session", session_id)
    pending = sim.store.pending_settlements.get(session_id)
    intent = sim.store.find(session["payment_intent"] or "")
    if pending is None or not intent or intent["status"] != "processing":
        raise invalid("This Checkout Session has no delayed payment waiting to settle.")
    card_number, expected = pending
    outcome = outcome or expected
    if outcome not in _OUTCOMES:
        raise invalid("outcome must be 'succeeded' or 'failed'", param="outcome")
    del sim.store.pending_settlements[session_id]
    if outcome != expected:
        card_number = SUCCESS_CARD if outcome == "succeeded" else _FAILING_CARD
    charge = attempt_charge(sim, intent, card_number)
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


def _settle_if_pending(sim: Simulator, session_id: str) -> None:
    with sim.lock:
        if session_id in sim.store.pending_settlements:
            try:
                settle_session(sim, session_id)
            except StripeError:
                # Settled or reset meanwhile; nothing left to do.
                sim.store.pending_settlements.pop(session_id, None)
