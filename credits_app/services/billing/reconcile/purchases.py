"""Purchases: every paid Checkout session and invoice of ours is credited, exactly.

Which objects are ours and what they buy are the webhook handlers' rules, called here: a
pack session goes through the checkout handler's own prepare phase (it only reads), and
an invoice through the same helpers the invoice handler uses (metadata, customer, the rate
of each line's price).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from credits_app.models import EntryKind, StripePurchase
from credits_app.services.billing.handlers import HANDLERS, Lookup
from credits_app.services.billing.handlers.context import is_ours, user_from
from credits_app.services.billing.handlers.purchases import SOURCES, BilledLine
from credits_app.services.billing.rates import rates_for
from credits_app.services.billing.reconcile import drift as d
from credits_app.services.billing.reconcile.drift import Drift, DriftKind, money
from credits_app.services.billing.reconcile.records import Records
from credits_app.services.billing.reconcile.snapshot import all_invoice_lines
from credits_app.services.billing.stripe_shapes import (
    invoice_metadata,
    line_price_id,
    line_quantity,
)
from credits_app.services.errors import CreditsError

Obj = dict[str, Any]
# Invoices that bill a period of a plan: a first period or a renewal.
PERIOD_REASONS = ("subscription_create", "subscription_cycle")


@dataclass(frozen=True)
class Claim:
    """What a paid object of ours should have granted: to whom, and how many credits."""

    user_id: int
    credits: int


def check_session(db: Session, records: Records, session: Obj) -> Iterator[Drift]:
    """Compare a Checkout session with its purchase and grant (packs; plans go by invoice)."""
    if session.get("mode") != "payment":
        return
    sid = session["id"]
    recorded = records.purchases.get(sid)
    grant = records.entry(SOURCES["checkout"], sid, EntryKind.GRANT)
    if session.get("payment_status") not in d.PAID_SESSION:
        if recorded is not None or grant is not None:
            yield _unpaid(sid, recorded, grant, f"is {session.get('status')}, not paid")
        return
    if recorded is None:
        yield from _unrecorded(db, records, session, "checkout", grant)
        return
    yield from compare_purchase(
        records,
        recorded,
        billed=int(session.get("amount_subtotal") or 0),
        collected=int(session.get("amount_total") or 0),
        currency=session.get("currency"),
        buys=lambda: _credits_of(claim_session, db, session),
    )


def check_invoice(db: Session, records: Records, invoice: Obj) -> Iterator[Drift]:
    """Compare an invoice with its purchase and grant."""
    iid = invoice["id"]
    recorded = records.purchases.get(iid)
    grant = records.entry(SOURCES["invoice"], iid, EntryKind.GRANT)
    if invoice.get("status") != "paid":
        if recorded is not None or grant is not None:
            yield _unpaid(iid, recorded, grant, f"is {invoice.get('status')}, not paid")
        return
    if recorded is None:
        yield from _unrecorded(db, records, invoice, "invoice", grant)
        return
    yield from compare_purchase(
        records,
        recorded,
        billed=sum(int(line.get("amount") or 0) for line in all_invoice_lines(invoice)),
        collected=int(invoice.get("amount_paid") or 0),
        currency=invoice.get("currency"),
        buys=lambda: _credits_of(claim_invoice, db, invoice),
    )


def check_missing(records: Records, object_id: str) -> Iterator[Drift]:
    """Stripe does not know an object our purchases or grants name."""
    recorded = records.purchases.get(object_id)
    for _source, grant in records.grants_of(object_id):
        yield _unpaid(object_id, recorded, grant, "does not exist")
        return
    if recorded is not None and recorded.credits > 0:
        yield _unpaid(object_id, recorded, None, "does not exist")


def compare_purchase(
    records: Records,
    purchase: StripePurchase,
    billed: int,
    collected: int,
    currency: Any,
    buys: Callable[[], int | None] | None = None,
) -> Iterator[Drift]:
    """A recorded purchase against Stripe's amounts, and its entries against its lines.

    `buys` says what Stripe's money buys (None when it cannot tell), so that a purchase
    recorded for more than was paid names its excess.
    """
    pid, user = purchase.id, purchase.user_id
    source = SOURCES[purchase.kind]
    grant = records.entry(source, pid, EntryKind.GRANT)
    clawback = records.entry(source, pid, EntryKind.CLAWBACK)
    granted = grant.amount if grant else 0
    taken = clawback.amount if clawback else 0
    if (billed, collected) != (purchase.amount, purchase.amount_paid):
        paid_for = buys() if buys is not None else None
        excess = granted - taken - paid_for if paid_for is not None else 0
        yield Drift(
            DriftKind.AMOUNT_MISMATCH,
            pid,
            user,
            f"Stripe billed {money(billed, currency)} and collected {money(collected, currency)}"
            f", but we recorded {money(purchase.amount, currency)} and "
            f"{money(purchase.amount_paid, currency)}, buying {purchase.credits} credits",
            excess=max(0, excess),
        )
        return
    gained, lost = records.line_credits.get(pid, (0, 0))
    if gained > 0 and grant is None:
        replay = d.REGRANT_CHECKOUT if purchase.kind == "checkout" else d.REGRANT_INVOICE
        yield Drift(
            DriftKind.PAID_NOT_GRANTED,
            pid,
            user,
            f"recorded as paid ({money(purchase.amount_paid, purchase.currency)} for "
            f"{gained} credits), but its grant is missing from the ledger",
            replay,
            int(purchase.created_at.timestamp()),
        )
        return
    if (granted, taken) != (gained, lost):
        yield Drift(
            DriftKind.AMOUNT_MISMATCH,
            pid,
            user,
            f"its lines buy {gained} credits and take back {lost}, but the ledger granted "
            f"{granted} and took back {taken}",
            excess=max(0, (granted - taken) - (gained - lost)),
        )


def check_intent(records: Records, intent: Obj) -> Iterator[Drift]:
    """A payment's recorded amount against what Stripe collected."""
    payment = records.payments.get(intent["id"])
    received = int(intent.get("amount_received") or 0)
    if payment is None or intent.get("status") != "succeeded" or payment.amount == received:
        return
    yield Drift(
        DriftKind.AMOUNT_MISMATCH,
        payment.source_ref,
        payment.user_id,
        f"payment {intent['id']} collected {money(received, intent.get('currency'))} at "
        f"Stripe, but we recorded {money(payment.amount, payment.currency)} for "
        f"{payment.credits} credits",
    )


def intent_is_ours(db: Session, intent: Obj) -> bool:
    """A payment of ours carries our Checkout metadata or belongs to a customer of ours."""
    return (
        is_ours(intent.get("metadata")) or user_from(db, None, intent.get("customer")) is not None
    )


def _unpaid(object_id: str, recorded: Any, grant: Any, why: str) -> Drift:
    credits = grant.amount if grant is not None else recorded.credits
    user = grant.user_id if grant is not None else recorded.user_id
    return Drift(
        DriftKind.GRANTED_WITHOUT_PAYMENT,
        object_id,
        user,
        f"granted {credits} credits, but at Stripe it {why}",
        excess=grant.amount if grant is not None else 0,
    )


def _credits_of(claim: Callable[[Session, Obj], Claim | None], db: Session, obj: Obj) -> int | None:
    """What a paid object's money buys by the webhook's rules; None when it cannot tell."""
    try:
        found = claim(db, obj)
    except CreditsError:
        return None
    return found.credits if found is not None else None


def _unrecorded(db: Session, records: Records, obj: Obj, kind: str, grant: Any) -> Iterator[Drift]:
    """A paid object without a purchase: ours and never credited, or not ours at all."""
    oid = obj["id"]
    if grant is not None:
        yield Drift(
            DriftKind.AMOUNT_MISMATCH,
            oid,
            grant.user_id,
            f"granted {grant.amount} credits, but its purchase and lines are not recorded",
        )
        return
    try:
        claim = claim_session(db, obj) if kind == "checkout" else claim_invoice(db, obj)
    except CreditsError as exc:
        yield Drift(DriftKind.PAID_NOT_GRANTED, oid, None, f"paid, but cannot be credited: {exc}")
        return
    if claim is None:
        return  # not sold by this app: the webhook ignores it too
    paid = money(
        obj.get("amount_total") if kind == "checkout" else obj.get("amount_paid"),
        obj.get("currency"),
    )
    period = kind == "invoice" and obj.get("billing_reason") in PERIOD_REASONS
    if period:
        what = f"paid {paid} for a period of the plan ({claim.credits} credits)"
    else:
        how = "at Checkout" if kind == "checkout" else "by invoice"
        what = f"paid {paid} {how} for {claim.credits} credits"
    yield Drift(
        DriftKind.PERIOD_NOT_GRANTED if period else DriftKind.PAID_NOT_GRANTED,
        oid,
        claim.user_id,
        f"{what}, never credited",
        d.CHECKOUT if kind == "checkout" else d.INVOICE,
        int(obj.get("created") or 0),
    )


def claim_session(db: Session, session: Obj) -> Claim | None:
    """What a paid pack session grants, by the checkout handler's own prepare phase.

    Returns:
        None when the session is not ours (nothing of our catalogue, no user of ours).
    """
    event = {
        "id": "evt_reconcile_probe",
        "type": "",
        "created": session["created"],
        "data": {"object": session},
    }
    facts = HANDLERS["checkout.session.async_payment_succeeded"].prepare(Lookup(event, db))
    if facts.purchase is None:
        return None
    return Claim(facts.purchase.user_id, facts.purchase.credits)


def claim_invoice(db: Session, invoice: Obj) -> Claim | None:
    """What a paid invoice grants: each line at its own price's rate (the invoice handler's rule).

    Returns:
        None when the invoice is not ours (no price of ours, none of our metadata, or no
        user of ours).
    """
    lines = all_invoice_lines(invoice)
    rates = rates_for(db, (line_price_id(line) for line in lines))
    metadata = invoice_metadata(invoice)
    if not is_ours(metadata) and not any(rates.values()):
        return None
    user_id = user_from(db, metadata, invoice.get("customer"))
    if user_id is None:
        return None
    credits = [
        BilledLine(
            ref=str(line.get("id") or ""),
            price_id=line_price_id(line),
            quantity=line_quantity(line),
            amount=int(line.get("amount") or 0),
            rate=rates.get(line_price_id(line) or ""),
        ).credits
        for line in lines
    ]
    return Claim(user_id, sum(c for c in credits if c > 0))
