"""What Stripe has: the objects created in the window, listed page by page, and a few more.

Lists come newest first. Each asks Stripe for `created >= since`, and stops by itself at the
first older object, so a server that ignores the filter (the simulator) is read no further
than the window. The SDK's auto-pagination follows `has_more` across any number of pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import stripe

from credits_app.services.billing.stripe_client import get_stripe_client, stripe_errors
from credits_app.services.billing.stripe_shapes import object_id

Obj = dict[str, Any]
# Which collection an id belongs to, by the prefix Stripe gives it.
PREFIXES = {
    "cs_": "sessions",
    "in_": "invoices",
    "pi_": "intents",
    "re_": "refunds",
    "pyr_": "refunds",
    "dp_": "disputes",
    "du_": "disputes",
}
PAGE = 100


@dataclass
class Snapshot:
    """Stripe's objects by id, and the ids our records name that Stripe does not know.

    Attributes:
        since: The window's start (unix seconds).
        sessions, invoices, intents, refunds, disputes: The objects, by id.
        listed: How many of each kind the window's lists returned.
        retrieved: How many objects outside the window were fetched one by one.
        missing: Ids Stripe answered "no such object" for.
    """

    since: int
    sessions: dict[str, Obj] = field(default_factory=dict)
    invoices: dict[str, Obj] = field(default_factory=dict)
    intents: dict[str, Obj] = field(default_factory=dict)
    refunds: dict[str, Obj] = field(default_factory=dict)
    disputes: dict[str, Obj] = field(default_factory=dict)
    listed: dict[str, int] = field(default_factory=dict)
    retrieved: int = 0
    missing: set[str] = field(default_factory=set)

    def collection(self, object_id: str) -> dict[str, Obj] | None:
        """The collection an id belongs to, or None for an id of another kind."""
        for prefix, name in PREFIXES.items():
            if object_id.startswith(prefix):
                return getattr(self, name)
        return None

    def knows(self, object_id: str) -> bool:
        """Whether the object is here already (or known to be missing)."""
        found = self.collection(object_id)
        return object_id in self.missing or (found is not None and object_id in found)

    def all_ids(self) -> set[str]:
        """Every object id held, and those Stripe does not know."""
        ids: set[str] = set(self.missing)
        for name in set(PREFIXES.values()):
            ids.update(getattr(self, name))
        return ids


def take_snapshot(since: int) -> Snapshot:
    """List the window's checkout sessions, invoices, payments, refunds and disputes.

    Raises:
        Unavailable: When Stripe cannot be reached.
    """
    v1 = get_stripe_client().v1
    snapshot = Snapshot(since)
    lists: dict[str, tuple[str, Callable[..., Any]]] = {
        "sessions": ("checkoutSessions", v1.checkout.sessions.list),
        "invoices": ("invoices", v1.invoices.list),
        "intents": ("paymentIntents", v1.payment_intents.list),
        "refunds": ("refunds", v1.refunds.list),
        "disputes": ("disputes", v1.disputes.list),
    }
    for name, (label, list_call) in lists.items():
        with stripe_errors(f"list {label}"):
            found = list_window(list_call, since)
        getattr(snapshot, name).update(found)
        snapshot.listed[label] = len(found)
    return snapshot


def list_window(list_call: Callable[..., Any], since: int) -> dict[str, Obj]:
    """Every object a list call returns that was created at or after `since`, by id."""
    page = list_call({"limit": PAGE, "created": {"gte": since}})
    found: dict[str, Obj] = {}
    for item in page.auto_paging_iter():
        data = item.to_dict()
        if int(data.get("created") or 0) < since:
            break
        found[data["id"]] = data
    return found


def fetch_missing(snapshot: Snapshot, ids: Iterable[str]) -> None:
    """Fetch, one by one, the objects our records name that the window's lists did not hold.

    An object Stripe does not know is remembered in `snapshot.missing`.

    Raises:
        Unavailable: When Stripe cannot be reached.
    """
    v1 = get_stripe_client().v1
    retrieve = {
        "sessions": v1.checkout.sessions.retrieve,
        "invoices": v1.invoices.retrieve,
        "intents": v1.payment_intents.retrieve,
        "refunds": v1.refunds.retrieve,
        "disputes": v1.disputes.retrieve,
    }
    for ref in sorted(set(ids)):
        collection = snapshot.collection(ref)
        if collection is None or snapshot.knows(ref):
            continue
        name = next(n for p, n in PREFIXES.items() if ref.startswith(p))
        with stripe_errors(f"fetch {ref}"):
            try:
                collection[ref] = retrieve[name](ref).to_dict()
            except stripe.InvalidRequestError as exc:
                if exc.code != "resource_missing":
                    raise
                snapshot.missing.add(ref)
        snapshot.retrieved += 1


def purchase_of_intent(intent_id: str) -> str | None:
    """The Checkout session or invoice a payment intent paid, or None if neither.

    Raises:
        Unavailable: When Stripe cannot be reached.
    """
    v1 = get_stripe_client().v1
    with stripe_errors("find the purchase of a payment"):
        sessions = v1.checkout.sessions.list({"payment_intent": intent_id, "limit": 1})
        if sessions.data:
            return sessions.data[0].id
        payments = v1.invoice_payments.list(
            {"payment": {"type": "payment_intent", "payment_intent": intent_id}, "limit": 1}
        )
    if payments.data:
        return object_id(payments.data[0].to_dict().get("invoice"))
    return None


def all_invoice_lines(invoice: Obj) -> list[Obj]:
    """Every line of an invoice: the object holds the first page; the rest are listed.

    Raises:
        Unavailable: When Stripe cannot be reached.
    """
    lines = invoice.get("lines") or {}
    if not lines.get("has_more"):
        return list(lines.get("data") or [])
    with stripe_errors("list invoice lines"):
        listed = get_stripe_client().v1.invoices.line_items.list(invoice["id"], {"limit": PAGE})
        return [line.to_dict() for line in listed.auto_paging_iter()]
