"""Payment flows: charging a card for a payment intent, refunds and disputes."""

from __future__ import annotations

from typing import Any

from .cards import lookup
from .dispute_objects import dispute
from .errors import invalid
from .ids import new_id
from .money import format_amount
from .params import Params, optional_int, string_map
from .payment_objects import charge, payment_intent, refund
from .simulator import Simulator

Obj = dict[str, Any]
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


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


def create_refund(sim: Simulator, params: Params) -> Obj:
    """Refund part or all of a charge: emits `charge.refunded` then `refund.created`."""
    target = params.get("charge") or params.get("payment_intent")
    if not target:
        raise invalid("One of the following params should be provided: charge, payment_intent.")
    ch = charge_of(sim, target, "charge" if params.get("charge") else "payment_intent")
    amount = _refundable(ch, optional_int(params, "amount", minimum=1))
    reason = params.get("reason") or None
    if reason is not None and reason not in _REFUND_REASONS:
        raise invalid(f"Invalid reason: must be one of {', '.join(_REFUND_REASONS)}", "reason")
    metadata = string_map(params.get("metadata"))
    new_refund = sim.store.put(
        refund(sim.store.now(), ch, amount, reason=reason, metadata=metadata)
    )
    previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
    sim.events.emit("charge.refunded", ch, previous)
    sim.events.emit("refund.created", new_refund)
    return new_refund


def _refundable(ch: Obj, requested: int | None) -> int:
    """The amount to refund: what was asked for, or everything not yet refunded."""
    remaining = ch["amount"] - ch["amount_refunded"]
    if ch["status"] != "succeeded":
        raise invalid(f"Charge {ch['id']} has not succeeded and cannot be refunded.")
    if ch["disputed"]:
        message = f"Charge {ch['id']} has been charged back; cannot issue a refund."
        raise invalid(message, code="charge_disputed")
    if remaining <= 0:
        message = f"Charge {ch['id']} has already been refunded."
        raise invalid(message, code="charge_already_refunded")
    if requested is not None and requested > remaining:
        raise invalid(
            f"Refund amount ({format_amount(requested, ch['currency'])}) is greater than "
            f"unrefunded amount on charge ({format_amount(remaining, ch['currency'])})",
            param="amount",
            code="amount_too_large",
        )
    return requested or remaining


def open_dispute(sim: Simulator, target_id: str, body: dict[str, Any]) -> Obj:
    """Simulate a chargeback on a charge: emits `charge.dispute.created`."""
    ch = charge_of(sim, target_id, "id")
    if ch["disputed"]:
        raise invalid(f"Charge {ch['id']} is already disputed.")
    if ch["status"] != "succeeded":
        raise invalid(f"Charge {ch['id']} did not succeed, so it cannot be disputed.")
    amount = optional_int(body, "amount", minimum=1) or ch["amount"]
    if amount > ch["amount"]:
        raise invalid("A dispute cannot exceed the charge amount.", param="amount")
    new_dispute = sim.store.put(
        dispute(sim.store.now(), ch, amount, str(body.get("reason") or "fraudulent"))
    )
    ch["disputed"] = True
    sim.events.emit("charge.dispute.created", new_dispute)
    return new_dispute


def close_dispute(sim: Simulator, dispute_id: str, status: str) -> Obj:
    """Resolve a dispute as `won` or `lost`: emits `charge.dispute.closed`."""
    if status not in ("won", "lost"):
        raise invalid("status must be 'won' or 'lost'", param="status")
    found = sim.store.get("dispute", dispute_id)
    if found["status"] in ("won", "lost"):
        raise invalid(f"Dispute {dispute_id} is already closed ({found['status']}).")
    previous = {"status": found["status"]}
    found["status"] = status
    found["is_charge_refundable"] = False
    sim.events.emit("charge.dispute.closed", found, previous)
    return found
