"""In-memory object storage shared by every request, guarded by one re-entrant lock."""

from __future__ import annotations

import threading
from typing import Any

from .clock import SimClock
from .errors import resource_missing

# Prefix → object type, so an id alone can be resolved (used by `expand`).
PREFIX_KINDS = {
    "prod_": "product",
    "price_": "price",
    "cus_": "customer",
    "cs_": "checkout.session",
    "pi_": "payment_intent",
    "ch_": "charge",
    "sub_": "subscription",
    "in_": "invoice",
    "inpay_": "invoice_payment",
    "ii_": "invoiceitem",
    "cbtxn_": "customer_balance_transaction",
    "re_": "refund",
    "dp_": "dispute",
    "bps_": "billing_portal.session",
    "evt_": "event",
}
# How error messages name each type ("No such checkout.session: ..." is what Stripe says).
_MESSAGE_NAMES = {"checkout.session": "checkout.session", "billing_portal.session": "session"}

SUCCESS_CARD = "4242424242424242"
IDEMPOTENCY_CACHE_SIZE = 10_000


class Store:
    """All simulator state.

    Objects are plain dicts in Stripe's JSON shape, kept per type in insertion order.
    Private bookkeeping that is not part of any Stripe object lives in side tables.

    Attributes:
        lock: Held for the whole of every request so each one sees consistent state.
        clock: The simulated clock.
        session_lines: Checkout line items per session id.
        session_options: Per session id, the `payment_intent_data` and `subscription_data`
            it was created with (Stripe does not return them on the session).
        cards: The card number used for off-session payments per customer id.
        billing_anchor: Per subscription id, `(anchor, cycle)` used to compute periods.
        pending_settlements: Per checkout session id with a delayed payment processing,
            `(card number, expected outcome)`.
        charge_cards: The test card number each charge was paid with.
        refund_outcomes: Per refund id that will still change, how it ends (`succeeded`
            or `failed`).
        requests: The `/v1` request log, oldest first.
        idempotency: Cached responses per `Idempotency-Key`, oldest first, at most
            `IDEMPOTENCY_CACHE_SIZE` (Stripe keeps keys for 24 hours; load tests send many).
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock = SimClock()
        self.clear()

    def clear(self) -> None:
        """Forget every object and go back to real time."""
        self._objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.session_lines: dict[str, list[dict[str, Any]]] = {}
        self.session_options: dict[str, dict[str, Any]] = {}
        self.cards: dict[str, str] = {}
        self.billing_anchor: dict[str, tuple[int, int]] = {}
        self.pending_settlements: dict[str, tuple[str, str]] = {}
        self.charge_cards: dict[str, str] = {}
        self.refund_outcomes: dict[str, str] = {}
        self.idempotency: dict[str, tuple[str, int, bytes]] = {}
        self.requests: list[dict[str, Any]] = []
        self.clock.reset()

    def now(self) -> int:
        """Current simulated time."""
        return self.clock.now()

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store (or replace) an object under its `object` type and `id`."""
        self._objects.setdefault(obj["object"], {})[obj["id"]] = obj
        return obj

    def get(self, kind: str, object_id: str, param: str | None = "id") -> dict[str, Any]:
        """Return the live object, or raise Stripe's `resource_missing` error.

        Args:
            kind: The `object` type, e.g. `"price"`.
            object_id: The id to look up.
            param: Request parameter that carried the id, for the error; `"id"` when it
                came from the URL path (which makes the error a 404).
        """
        found = self._objects.get(kind, {}).get(object_id) if isinstance(object_id, str) else None
        if found is None:
            raise resource_missing(_MESSAGE_NAMES.get(kind, kind), str(object_id), param)
        return found

    def find(self, object_id: str) -> dict[str, Any] | None:
        """Resolve any id by its prefix, or return None."""
        for prefix, kind in PREFIX_KINDS.items():
            if object_id.startswith(prefix):
                return self._objects.get(kind, {}).get(object_id)
        return None

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every object of a type, newest first like Stripe's lists."""
        return list(reversed(self._objects.get(kind, {}).values()))

    def remember(self, key: str, answer: tuple[str, int, bytes]) -> None:
        """Cache the answer to an idempotent request, forgetting the oldest beyond the limit."""
        self.idempotency[key] = answer
        while len(self.idempotency) > IDEMPOTENCY_CACHE_SIZE:
            del self.idempotency[next(iter(self.idempotency))]

    def card_for(self, customer_id: str | None) -> str:
        """The card charged for a customer's renewals and plan changes."""
        return self.cards.get(customer_id or "", SUCCESS_CARD)
