"""Duplicates: one Stripe object, or one payment, credited more than once.

The ledger's unique key stops one source from granting an object twice; these are the ways
around it: a grant under another source, a second purchase of the same payment, or a
second lot funded by the same purchase.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from credits_app.models import EntryKind
from credits_app.services.billing.reconcile.drift import Drift, DriftKind
from credits_app.services.billing.reconcile.records import Records


def check_duplicates(records: Records) -> Iterator[Drift]:
    """Every object granted twice, payment bought twice, or purchase funding two lots."""
    grants: dict[str, list[tuple[str, int, int | None]]] = defaultdict(list)
    for (source, ref, kind), entry in records.entries.items():
        if kind == EntryKind.GRANT:
            grants[ref].append((source, entry.amount, entry.user_id))
    for ref, found in sorted(grants.items()):
        if len(found) > 1:
            parts = ", ".join(f"{amount} under {source}" for source, amount, _ in sorted(found))
            yield Drift(
                DriftKind.DUPLICATE_GRANT,
                ref,
                found[0][2],
                f"granted {len(found)} times ({parts}); it may grant once",
                # Keep the largest grant, take the others back (when all went to one user).
                excess=_beyond_largest(found),
            )
    by_intent: dict[str, list[str]] = defaultdict(list)
    for purchase in records.purchases.values():
        if purchase.payment_intent_id:
            by_intent[purchase.payment_intent_id].append(purchase.id)
    for intent, purchases in sorted(by_intent.items()):
        if len(purchases) > 1:
            user = records.purchases[purchases[0]].user_id
            yield Drift(
                DriftKind.DUPLICATE_GRANT,
                intent,
                user,
                f"one payment credited by {len(purchases)} purchases: "
                + ", ".join(sorted(purchases)),
            )
    for ref, count in sorted(records.purchase_lots.items()):
        if count > 1:
            purchase = records.purchases.get(ref)
            yield Drift(
                DriftKind.DUPLICATE_GRANT,
                ref,
                purchase.user_id if purchase else None,
                f"funded {count} lots of purchased credits; it may fund one",
            )


def _beyond_largest(found: list[tuple[str, int, int | None]]) -> int:
    """The credits of every grant but the largest, when they all went to one user; else 0."""
    if len({user for _, _, user in found}) != 1:
        return 0
    amounts = [amount for _, amount, _ in found]
    return sum(amounts) - max(amounts)
