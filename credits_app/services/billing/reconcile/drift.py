"""What reconciliation reports: each drift between Stripe and our records, and its repair."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# A Checkout session counts as paid in these states (the checkout handler's rule).
PAID_SESSION = ("paid", "no_payment_required")
# Refund states that take credits back, and those that give them back (the refund handler's).
COUNTED_REFUND = ("succeeded", "pending")
REVERSED_REFUND = ("failed", "canceled")


class DriftKind(StrEnum):
    """The ways credits can disagree with money; docs/reconcile.md explains each."""

    PAID_NOT_GRANTED = "paid_not_granted"
    GRANTED_WITHOUT_PAYMENT = "granted_without_payment"
    AMOUNT_MISMATCH = "amount_mismatch"
    REFUND_NOT_CLAWED_BACK = "refund_not_clawed_back"
    DISPUTE_NOT_CLAWED_BACK = "dispute_not_clawed_back"
    WON_NOT_RESTORED = "won_not_restored"
    PERIOD_NOT_GRANTED = "period_not_granted"
    DUPLICATE_GRANT = "duplicate_grant"

    @property
    def explanation(self) -> str:
        """One line for people: what this kind of drift means (the page shows it)."""
        return EXPLANATIONS[self]


# What each kind means, in one line: the admin page shows these, docs/reconcile.md's table
# says the same at more length.
EXPLANATIONS = {
    DriftKind.PAID_NOT_GRANTED: "Stripe shows it paid, but it never became credits (or its "
    "grant is missing from the ledger).",
    DriftKind.PERIOD_NOT_GRANTED: "A paid period of a plan never became credits.",
    DriftKind.REFUND_NOT_CLAWED_BACK: "A refund of a payment that bought credits has not "
    "taken its share of the credits back.",
    DriftKind.DISPUTE_NOT_CLAWED_BACK: "A dispute whose funds left the account has not taken "
    "the disputed share of the credits back.",
    DriftKind.WON_NOT_RESTORED: "A won dispute's clawed-back credits were never given back.",
    DriftKind.GRANTED_WITHOUT_PAYMENT: "Credits were granted for something Stripe does not "
    "show as paid (or given back for a refund or dispute that still stands).",
    DriftKind.AMOUNT_MISMATCH: "The money or credits we recorded differ from what Stripe's "
    "money buys.",
    DriftKind.DUPLICATE_GRANT: "One Stripe object or payment was credited more than once.",
}


@dataclass(frozen=True)
class Replay:
    """How a repair sends a drifting object through the webhook's exactly-once path.

    Attributes:
        object_kind: `checkout`, `invoice`, `refund` or `dispute`: how to fetch the object.
        event_types: Real events that apply it, best first; one not processed yet is used.
        synthetic_type: The type of the event built from the object when no real one is left.
        status_field: The field of a real event's object that must hold one of `statuses`
            for the event to apply it (a completed session that was not paid yet does not).
        regrant: The purchase is recorded but its grant entry is missing: grant it once
            under the purchase's own key instead of replaying the whole purchase.
    """

    object_kind: str
    event_types: tuple[str, ...]
    synthetic_type: str
    status_field: str | None = None
    statuses: tuple[str, ...] = ()
    regrant: bool = False

    def accepts(self, event: dict[str, Any]) -> bool:
        """Whether a real event, as Stripe sent it, would apply what is missing."""
        if event.get("type") not in self.event_types:
            return False
        if self.status_field is None:
            return True
        return (event["data"]["object"] or {}).get(self.status_field) in self.statuses


CHECKOUT = Replay(
    "checkout",
    ("checkout.session.async_payment_succeeded", "checkout.session.completed"),
    "checkout.session.completed",
    "payment_status",
    PAID_SESSION,
)
INVOICE = Replay("invoice", ("invoice.paid",), "invoice.paid")
REGRANT_CHECKOUT = Replay("checkout", (), "checkout.session.completed", regrant=True)
REGRANT_INVOICE = Replay("invoice", (), "invoice.paid", regrant=True)
REFUND = Replay(
    "refund",
    ("refund.created", "refund.updated", "charge.refund.updated"),
    "refund.updated",
    "status",
    COUNTED_REFUND,
)
REFUND_REVERSED = Replay(
    "refund",
    ("refund.failed", "refund.updated", "charge.refund.updated"),
    "refund.failed",
    "status",
    REVERSED_REFUND,
)
# The dispute handler re-fetches the dispute, so any of its events acts on its current state.
DISPUTE_TYPES = (
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "charge.dispute.closed",
    "charge.dispute.updated",
    "charge.dispute.created",
)
DISPUTE_WITHDRAWN = Replay("dispute", DISPUTE_TYPES, "charge.dispute.funds_withdrawn")
DISPUTE_WON = Replay("dispute", DISPUTE_TYPES, "charge.dispute.funds_reinstated")


@dataclass(frozen=True)
class Drift:
    """One disagreement between Stripe and our records.

    Attributes:
        kind: What disagrees.
        object: The Stripe object's id (a session, invoice, payment intent, refund or dispute).
        user_id: Our user it concerns, when known.
        detail: One sentence for the operator, with the amounts.
        replay: How to repair it; None when it waits for an admin's decision.
        created: When Stripe created the object (unix seconds): repairs go oldest first,
            as the webhooks would have.
        excess: Credits granted beyond what the money pays for, when that is clear (an
            admin may claw exactly these back); 0 when nothing was over-granted or the
            excess cannot be told from the records.
    """

    kind: DriftKind
    object: str
    user_id: int | None
    detail: str
    replay: Replay | None = field(default=None, compare=False)
    created: int = field(default=0, compare=False)
    excess: int = field(default=0, compare=False)

    @property
    def repairable(self) -> bool:
        """Whether `--repair` can fix it through the webhook's exactly-once path."""
        return self.replay is not None

    @property
    def key(self) -> tuple[str, str]:
        """One drift per kind and object."""
        return self.kind.value, self.object

    def as_json(self) -> dict[str, Any]:
        """The drift as the CLI's JSON prints it."""
        return {
            "kind": self.kind.value,
            "object": self.object,
            "userId": self.user_id,
            "detail": self.detail,
            "repairable": self.repairable,
        }


def money(amount: int | None, currency: str | None = "usd") -> str:
    """An amount in the currency's smallest unit, for a detail: `$5.00`, `12.50 EUR`."""
    value = (amount or 0) / 100
    code = (currency or "usd").upper()
    return f"${value:,.2f}" if code == "USD" else f"{value:,.2f} {code}"
