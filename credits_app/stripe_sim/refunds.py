"""Refunds: immediate, pending until later, or failing later, like Stripe's refund test cards."""

from __future__ import annotations

from typing import Any

from .cards import lookup
from .errors import invalid
from .ids import new_id
from .money import format_amount
from .params import Params, optional_int, string_map
from .payment_objects import refund
from .payments import charge_of
from .simulator import Simulator
from .store import SUCCESS_CARD

Obj = dict[str, Any]
_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_OUTCOMES = ("succeeded", "failed")


def create_refund(sim: Simulator, params: Params) -> Obj:
    """`POST /v1/refunds`: emits `charge.refunded` then `refund.created`.

    The charge's card decides what happens next (Stripe's "Simulate an asynchronous refund"
    cards): 4000 0000 0000 7726 refunds start `pending` and succeed later, 4000 0000 0000
    5126 refunds start `succeeded` and fail later; later means `settle_refund`, the
    `/_sim/refunds/{id}/succeed|fail` helpers or any test-clock advance.
    """
    target = params.get("charge") or params.get("payment_intent")
    if not target:
        raise invalid("One of the following params should be provided: charge, payment_intent.")
    ch = charge_of(sim, target, "charge" if params.get("charge") else "payment_intent")
    amount = _refundable(sim, ch, optional_int(params, "amount", minimum=1))
    reason = params.get("reason") or None
    if reason is not None and reason not in _REASONS:
        raise invalid(f"Invalid reason: must be one of {', '.join(_REASONS)}", "reason")
    return refund_charge(sim, ch, amount, reason, string_map(params.get("metadata")))


def refund_charge(sim: Simulator, ch: Obj, amount: int, reason: str | None, metadata) -> Obj:
    """Refund `amount` of a charge; a pending refund already counts in `amount_refunded`."""
    store = sim.store
    behaviour = lookup(store.charge_cards.get(ch["id"], SUCCESS_CARD)).refund
    fields: Obj = {"reason": reason, "metadata": metadata, "status": "succeeded"}
    if behaviour == "pending":
        fields.update(status="pending", pending_reason="processing")
    new_refund = store.put(refund(store.now(), ch, amount, **fields))
    if behaviour != "succeeded":
        store.refund_outcomes[new_refund["id"]] = (
            "succeeded" if behaviour == "pending" else "failed"
        )
    previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
    sim.events.emit("charge.refunded", ch, previous)
    sim.events.emit("refund.created", new_refund)
    return new_refund


def settle_refund(sim: Simulator, refund_id: str, outcome: str) -> Obj:
    """Finish a refund: a `pending` one succeeds or fails, a `succeeded` one fails.

    Success emits `refund.updated`. Failure gives the amount back to the charge
    (`amount_refunded` goes down; `charge.refunded` is not sent again) and emits
    `refund.updated` then `refund.failed`. Endpoints on versions before 2024-10-28 get
    `charge.refund.updated` instead (see `versions.event_types`).

    Raises:
        StripeError: 400 when the refund cannot end that way.
    """
    if outcome not in _OUTCOMES:
        raise invalid("outcome must be 'succeeded' or 'failed'", param="outcome")
    found = sim.store.get("refund", refund_id)
    allowed = ("pending",) if outcome == "succeeded" else ("pending", "succeeded")
    if found["status"] not in allowed:
        raise invalid(f"Refund {refund_id} is {found['status']} and cannot become {outcome}.")
    sim.store.refund_outcomes.pop(refund_id, None)
    fields = ("status", "pending_reason", "failure_reason", "failure_balance_transaction")
    before = {name: found.get(name) for name in fields}
    found.update(status=outcome, pending_reason=None)
    if outcome == "failed":
        found.update(
            failure_reason="expired_or_canceled_card",
            failure_balance_transaction=new_id("txn_"),
        )
        ch = sim.store.get("charge", found["charge"])
        ch["amount_refunded"] -= found["amount"]
        ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
    previous = {name: value for name, value in before.items() if found.get(name) != value}
    sim.events.emit("refund.updated", found, previous)
    if outcome == "failed":
        sim.events.emit("refund.failed", found)
    return found


def settle_pending_refunds(sim: Simulator) -> list[str]:
    """Let every refund that will still change do so (the clock moved); returns their ids."""
    waiting = list(sim.store.refund_outcomes.items())
    for refund_id, outcome in waiting:
        settle_refund(sim, refund_id, outcome)
    return [refund_id for refund_id, _ in waiting]


def _refundable(sim: Simulator, ch: Obj, requested: int | None) -> int:
    """The amount to refund: what was asked for, or everything not yet refunded."""
    remaining = ch["amount"] - ch["amount_refunded"]
    if ch["status"] != "succeeded":
        raise invalid(f"Charge {ch['id']} has not succeeded and cannot be refunded.")
    disputes = [d for d in sim.store.all("dispute") if d["charge"] == ch["id"]]
    if any(not d["is_charge_refundable"] for d in disputes):
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
