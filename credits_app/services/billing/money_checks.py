"""Check that credits follow money: every Stripe credit was paid for, and paid for once.

Run by `check_ledger` (so by `python -m credits_app check` and after every database test).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import (
    EntryKind,
    LedgerEntry,
    StripeDispute,
    StripePayment,
    StripePurchase,
    StripePurchaseLine,
    StripeRefund,
)
from credits_app.services.billing.money import line_credits

entries = LedgerEntry.__table__
PURCHASE_SOURCES = ("stripe_checkout", "stripe_invoice")
STRIPE_SOURCES = (*PURCHASE_SOURCES, "stripe_refund", "stripe_dispute", "stripe_trial")
MOVES = (EntryKind.GRANT, EntryKind.CLAWBACK)
LIMIT = 100


def check_money(session: Session) -> list[str]:
    """Return a line for every way Stripe-sourced credits disagree with the money."""
    moved = _moved(session)
    problems = list(_once_per_object(session))
    problems += _lines_follow_rates(session)
    problems += _purchases_match_entries(session, moved)
    problems += _claims_match_rows(session, moved)
    problems += _payments_not_overdrawn(session, moved)
    return problems[:LIMIT]


def _moved(session: Session) -> dict[tuple[str, str, str], int]:
    """Credits moved per (source, Stripe object, kind), over every Stripe-sourced entry."""
    query = (
        select(entries.c.source, entries.c.source_ref, entries.c.kind, func.sum(entries.c.amount))
        .where(entries.c.source.in_(STRIPE_SOURCES), entries.c.kind.in_(MOVES))
        .group_by(entries.c.source, entries.c.source_ref, entries.c.kind)
    )
    return {(s, r, k): int(total) for s, r, k, total in session.execute(query)}


def _once_per_object(session: Session) -> Iterator[str]:
    """No Stripe object grants (or claws back) twice, whatever source names it."""
    query = (
        select(entries.c.source_ref, entries.c.kind, func.count())
        .where(entries.c.source.in_(STRIPE_SOURCES), entries.c.kind.in_(MOVES))
        .group_by(entries.c.source_ref, entries.c.kind)
        .having(func.count() > 1)
        .limit(LIMIT)
    )
    for ref, kind, count in session.execute(query):
        yield f"Stripe object {ref} has {count} {kind} entries; it may have one"


def _lines_follow_rates(session: Session) -> list[str]:
    problems = []
    lines = session.exec(select(StripePurchaseLine)).scalars()
    for line in lines:
        if line.unit_amount is None and line.line_ref == "legacy":
            continue  # recorded before lines were kept: only its total is known
        expected = line_credits(line.amount, line.unit_amount, line.included_credits)
        if line.credits != expected:
            problems.append(
                f"purchase {line.purchase_id} line {line.line_ref}: records {line.credits} "
                f"credits, but {line.amount} at its price's rate buys {expected}"
            )
    return problems


def _purchases_match_entries(session: Session, moved: dict) -> list[str]:
    """Each purchase grants its positive lines and claws back its negative ones, exactly."""
    lines: dict[str, list[int]] = defaultdict(list)
    for purchase_id, credits in session.execute(
        select(StripePurchaseLine.purchase_id, StripePurchaseLine.credits)
    ):
        lines[purchase_id].append(int(credits))
    purchases = {p.id: p for p in session.exec(select(StripePurchase)).scalars()}
    problems = []
    for purchase in purchases.values():
        credits = lines.get(purchase.id, [])
        expected = {
            EntryKind.GRANT: sum(c for c in credits if c > 0),
            EntryKind.CLAWBACK: -sum(c for c in credits if c < 0),
        }
        if purchase.credits != sum(credits):
            problems.append(f"purchase {purchase.id}: credits {purchase.credits} != its lines")
        for kind, want in expected.items():
            got = sum(moved.get((s, purchase.id, kind), 0) for s in PURCHASE_SOURCES)
            if got != want:
                problems.append(
                    f"purchase {purchase.id}: {kind} of {got} credits, but its money "
                    f"{'buys' if kind == EntryKind.GRANT else 'takes back'} {want}"
                )
    for (source, ref, kind), amount in moved.items():
        if source in PURCHASE_SOURCES and ref not in purchases:
            problems.append(
                f"{kind} of {amount} credits for {source} {ref}, which no recorded payment paid for"
            )
        elif source in PURCHASE_SOURCES and source != _source(purchases[ref]):
            problems.append(f"{kind} of {amount} credits for {ref} under the wrong source")
    return problems


def _claims_match_rows(session: Session, moved: dict) -> list[str]:
    """Refund and dispute entries agree with the credits their rows say they hold back."""
    problems = []
    for model, source in ((StripeRefund, "stripe_refund"), (StripeDispute, "stripe_dispute")):
        rows = {row.id: row for row in session.exec(select(model)).scalars()}
        refs = {ref for (s, ref, _k) in moved if s == source} | set(rows)
        for ref in refs:
            net = moved.get((source, ref, EntryKind.CLAWBACK), 0) - moved.get(
                (source, ref, EntryKind.GRANT), 0
            )
            row = rows.get(ref)
            if row is None:
                problems.append(f"{source} {ref} moved credits but is not recorded")
            elif net != row.credits:
                problems.append(
                    f"{source} {ref}: holds back {net} credits, its row says {row.credits}"
                )
    return problems


def _payments_not_overdrawn(session: Session, moved: dict) -> list[str]:
    """Refunds and disputes never take back more than the payment bought."""
    problems = []
    held: dict[str, int] = defaultdict(int)
    for model in (StripeRefund, StripeDispute):
        for intent, credits in session.execute(
            select(model.payment_intent_id, func.sum(model.credits)).group_by(
                model.payment_intent_id
            )
        ):
            held[intent] += int(credits or 0)
    for payment in session.exec(select(StripePayment)).scalars():
        granted = moved.get((payment.source, payment.source_ref, EntryKind.GRANT), 0)
        if payment.credits > granted:
            problems.append(
                f"payment {payment.payment_intent_id}: funds {payment.credits} credits, but its "
                f"purchase granted {granted}"
            )
        if held[payment.payment_intent_id] > payment.credits:
            problems.append(
                f"payment {payment.payment_intent_id}: refunds and disputes take back "
                f"{held[payment.payment_intent_id]} credits of the {payment.credits} it bought"
            )
    return problems


def _source(purchase: StripePurchase) -> str:
    return "stripe_checkout" if purchase.kind == "checkout" else "stripe_invoice"
