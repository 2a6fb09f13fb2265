"""Disputes from inquiry to close: funds withdrawn and reinstated, and prevented (RDR) ones."""

from __future__ import annotations

from typing import Any

from .dispute_objects import dispute, funds_transaction
from .errors import invalid
from .params import as_bool, optional_int
from .payments import charge_of
from .refunds import refund_charge
from .simulator import Simulator

Obj = dict[str, Any]
# Illustrative: Stripe's US dispute fee, taken with the disputed amount.
DISPUTE_FEE = 1500
_CLOSED = ("won", "lost", "warning_closed", "prevented")


def open_dispute(sim: Simulator, target_id: str, body: dict[str, Any]) -> Obj:
    """Dispute a charge (or a payment intent's charge) as its cardholder's bank would.

    - default: a chargeback, `needs_response`: `charge.dispute.created` and
      `charge.dispute.funds_withdrawn`;
    - `inquiry`: `warning_needs_response`, `charge.dispute.created` only; no money moves;
    - `prevented`: Visa Rapid Dispute Resolution resolves it by refunding the amount:
      `charge.dispute.created` (status `prevented`), then the refund's own events.
    """
    ch = charge_of(sim, target_id, "id")
    inquiry = as_bool(body.get("inquiry", False), "inquiry")
    prevented = as_bool(body.get("prevented", False), "prevented")
    if inquiry and prevented:
        raise invalid("A dispute is either an inquiry or prevented, not both.", "prevented")
    if ch["disputed"]:
        raise invalid(f"Charge {ch['id']} is already disputed.")
    if ch["status"] != "succeeded":
        raise invalid(f"Charge {ch['id']} did not succeed, so it cannot be disputed.")
    remaining = ch["amount"] - ch["amount_refunded"]
    amount = optional_int(body, "amount", minimum=1) or (remaining if prevented else ch["amount"])
    if amount > (remaining if prevented else ch["amount"]):
        raise invalid("A dispute cannot exceed the charge amount.", param="amount")
    kind = "inquiry" if inquiry else "resolution" if prevented else "chargeback"
    reason = str(body.get("reason") or "fraudulent")
    found = sim.store.put(dispute(sim.store.now(), ch, amount, reason, kind))
    ch["disputed"] = True
    sim.events.emit("charge.dispute.created", found)
    if prevented:
        refund_charge(sim, ch, amount, None, {})
    elif not inquiry:
        _move_funds(sim, found, -amount, DISPUTE_FEE, "funds_withdrawn")
    return found


def escalate_dispute(sim: Simulator, dispute_id: str) -> Obj:
    """The issuer turns an inquiry into a chargeback: the SAME dispute, `needs_response`.

    Emits `charge.dispute.updated` and `charge.dispute.funds_withdrawn`, not a second
    `charge.dispute.created` (Stripe: inquiries escalate in place).
    """
    found = sim.store.get("dispute", dispute_id)
    if not found["status"].startswith("warning_") or found["status"] == "warning_closed":
        raise invalid(f"Dispute {dispute_id} is {found['status']}, not an open inquiry.")
    card = found["payment_method_details"]["card"]
    previous = {"status": found["status"], "is_charge_refundable": True}
    found.update(status="needs_response", is_charge_refundable=False)
    card["case_type"] = "chargeback"
    sim.events.emit("charge.dispute.updated", found, previous)
    _move_funds(sim, found, -found["amount"], DISPUTE_FEE, "funds_withdrawn")
    return found


def close_dispute(sim: Simulator, dispute_id: str, status: str) -> Obj:
    """Close a dispute: `won` gives the money back (`funds_reinstated`), then `closed`.

    An inquiry closes as `warning_closed` whatever the outcome asked for: no money moved.
    """
    found = sim.store.get("dispute", dispute_id)
    if found["status"] in _CLOSED:
        raise invalid(f"Dispute {dispute_id} is already closed ({found['status']}).")
    inquiry = found["status"].startswith("warning_")
    allowed = ("won", "lost", "warning_closed") if inquiry else ("won", "lost")
    if status not in allowed:
        raise invalid(f"status must be one of {', '.join(allowed)}", param="status")
    previous = {"status": found["status"]}
    if found["is_charge_refundable"]:
        previous["is_charge_refundable"] = True
    found.update(status="warning_closed" if inquiry else status, is_charge_refundable=False)
    if found["status"] == "won":
        _move_funds(sim, found, found["amount"], 0, "funds_reinstated")
    sim.events.emit("charge.dispute.closed", found, previous)
    return found


def _move_funds(sim: Simulator, found: Obj, amount: int, fee: int, event: str) -> None:
    text = "Chargeback withdrawal" if amount < 0 else "Chargeback reversal"
    description = f"{text} for {found['charge']}"
    found["balance_transactions"].append(
        funds_transaction(sim.store.now(), found, amount, fee, description)
    )
    sim.events.emit(f"charge.dispute.{event}", found)
