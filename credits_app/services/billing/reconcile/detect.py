"""Find every drift in a window: Stripe's side first, then our rows, then the rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from credits_app.db import get_engine, per_statement_session
from credits_app.services.billing.reconcile.claims import check_dispute, check_refund
from credits_app.services.billing.reconcile.drift import Drift
from credits_app.services.billing.reconcile.duplicates import check_duplicates
from credits_app.services.billing.reconcile.purchases import (
    check_intent,
    check_invoice,
    check_missing,
    check_session,
    intent_is_ours,
)
from credits_app.services.billing.reconcile.records import Records, load_records, window_refs
from credits_app.services.billing.reconcile.snapshot import (
    Snapshot,
    fetch_missing,
    purchase_of_intent,
    take_snapshot,
)
from credits_app.services.billing.stripe_shapes import object_id


@dataclass(frozen=True)
class Findings:
    """The drift found in one pass, and how much was compared."""

    drift: list[Drift]
    checked: dict[str, int]


def find_drift(since: datetime) -> Findings:
    """Compare Stripe's objects created since `since` (and those our rows since then name).

    No transaction stays open while Stripe answers: our rows are read statement by statement.

    Raises:
        Unavailable: When Stripe cannot be reached.
    """
    snapshot = take_snapshot(int(since.timestamp()))
    with per_statement_session(get_engine()) as db:
        fetch_missing(snapshot, window_refs(db, since))
        records = _load(db, snapshot)
        if _find_unexplained_purchases(db, snapshot, records):
            records = _load(db, snapshot)
        found = _apply_rules(db, snapshot, records)
    checked = {
        **snapshot.listed,
        "retrieved": snapshot.retrieved,
        "purchases": len(records.purchases),
        "payments": len(records.payments),
        "ledgerEntries": len(records.entries),
    }
    return Findings(found, checked)


def find_drift_for(object_ids: Iterable[str], since: datetime) -> list[Drift]:
    """Compare these Stripe objects again, fetched one by one, with the same rules.

    What the admin page runs after repairing one drift, to show whether it is resolved.

    Raises:
        Unavailable: When Stripe cannot be reached.
    """
    ids = set(object_ids)
    snapshot = Snapshot(int(since.timestamp()))
    with per_statement_session(get_engine()) as db:
        fetch_missing(snapshot, ids)
        records = _load(db, snapshot)
        found = _apply_rules(db, snapshot, records)
    return [x for x in found if x.object in ids]


def _load(db: Session, snapshot: Snapshot) -> Records:
    intents = set(snapshot.intents)
    for claim in (*snapshot.refunds.values(), *snapshot.disputes.values()):
        intent = object_id(claim.get("payment_intent"))
        if intent:
            intents.add(intent)
    return load_records(db, snapshot.all_ids(), intents)


def _find_unexplained_purchases(db: Session, snapshot: Snapshot, records: Records) -> bool:
    """Fetch the purchase of each payment of ours that nothing recorded explains.

    A Checkout session created before the window but paid within it, say, shows up only
    through its payment.

    Returns:
        True when new objects were fetched (so the records must be read again).
    """
    explained = {p.payment_intent_id for p in records.purchases.values()} | set(records.payments)
    explained |= {object_id(s.get("payment_intent")) for s in snapshot.sessions.values()}
    owners: list[str] = []
    for intent in snapshot.intents.values():
        if (
            intent.get("status") != "succeeded"
            or not intent.get("amount_received")
            or intent["id"] in explained
            or not intent_is_ours(db, intent)
        ):
            continue
        owner = purchase_of_intent(intent["id"])
        if owner and not snapshot.knows(owner):
            owners.append(owner)
    fetch_missing(snapshot, owners)
    return bool(owners)


def _apply_rules(db: Session, snapshot: Snapshot, records: Records) -> list[Drift]:
    found: dict[tuple[str, str], Drift] = {}

    def add(drifts: Iterable[Drift]) -> None:
        for drift in drifts:
            found.setdefault(drift.key, drift)

    for session in snapshot.sessions.values():
        add(check_session(db, records, session))
    for invoice in snapshot.invoices.values():
        add(check_invoice(db, records, invoice))
    for missing in sorted(snapshot.missing):
        add(check_missing(records, missing))
    for intent in snapshot.intents.values():
        add(check_intent(records, intent))
    for refund in snapshot.refunds.values():
        add(check_refund(records, refund))
    for dispute in snapshot.disputes.values():
        add(check_dispute(db, records, dispute))
    add(check_duplicates(records))
    return list(found.values())
