"""invoice.*: a paid invoice credits each of its lines at its own price's rate, once.

First periods, renewals, plan switches (prorations and new periods alike), quantity
changes and renewals after a switch all follow from that one rule. A trial's $0 invoice
grants nothing unless TRIAL_CREDITS says otherwise (once per user).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from credits_app.models import LotCategory, LotSource, utcnow
from credits_app.services.billing.handlers.context import (
    EventContext,
    Handler,
    Lookup,
    grant_once,
    is_ours,
    user_from,
)
from credits_app.services.billing.handlers.purchases import (
    BilledLine,
    PurchaseFacts,
    apply_purchase,
    lot_window,
)
from credits_app.services.billing.handlers.subscriptions import (
    SubscriptionFacts,
    fetch_subscription_facts,
    store_subscription,
)
from credits_app.services.billing.rates import Rate, rates_for
from credits_app.services.billing.stripe_client import stripe_errors
from credits_app.services.billing.stripe_shapes import (
    invoice_metadata,
    invoice_payment_intent,
    invoice_subscription,
    line_is_proration,
    line_price_id,
    line_quantity,
)
from credits_app.services.ledger import LotTerms
from credits_app.settings import get_settings

logger = logging.getLogger(__name__)
TRIAL_SOURCE = "stripe_trial"
LABELS = {
    "subscription_create": "first period",
    "subscription_cycle": "renewal",
    "subscription_update": "plan change",
}


@dataclass(frozen=True)
class InvoiceFacts:
    """What a paid invoice buys, its subscription's state, and why it buys nothing if so."""

    purchase: PurchaseFacts | None
    subscription: SubscriptionFacts | None = None
    trial: bool = False
    skipped: str | None = None
    skip_level: int = logging.INFO


def _prepare_paid(lookup: Lookup) -> InvoiceFacts:
    invoice = lookup.obj
    lines = _all_lines(lookup, invoice)
    rates = rates_for(lookup.db, (line_price_id(line) for line in lines))
    metadata = invoice_metadata(invoice)
    if not is_ours(metadata) and not any(rates.values()):
        return InvoiceFacts(None, skipped=f"invoice {invoice['id']} bills nothing of ours")
    subscription_id = invoice_subscription(invoice)
    subscription = fetch_subscription_facts(lookup, subscription_id) if subscription_id else None
    user_id = user_from(lookup.db, metadata, invoice.get("customer"))
    if user_id is None:
        reason = f"invoice {invoice['id']} belongs to no user of ours"
        return InvoiceFacts(None, subscription, skipped=reason, skip_level=logging.WARNING)
    billed = tuple(_billed(line, rates.get(line_price_id(line) or "")) for line in lines)
    purchase = PurchaseFacts(
        id=invoice["id"],
        kind="invoice",
        user_id=user_id,
        lines=billed,
        currency=str(invoice.get("currency") or "usd"),
        total=int(invoice.get("total") or 0),
        amount_paid=int(invoice.get("amount_paid") or 0),
        payment_intent_id=_payment_intent(lookup, invoice),
        subscription_id=subscription_id,
        label=_label(invoice, billed),
        paid_at=datetime.fromtimestamp(lookup.created, UTC),
    )
    # A trial's first invoice bills $0 for a subscription that has (or had) a trial.
    had_trial = bool(subscription and (subscription.data or {}).get("trial_end"))
    first = invoice.get("billing_reason") == "subscription_create"
    return InvoiceFacts(purchase, subscription, trial=first and had_trial and purchase.total == 0)


def _apply_paid(ctx: EventContext) -> None:
    facts: InvoiceFacts = ctx.facts
    if facts.subscription is not None:
        store_subscription(ctx, facts.subscription)
    if facts.purchase is None:
        ctx.ignore(facts.skipped or "nothing to credit", facts.skip_level)
        return
    apply_purchase(ctx, facts.purchase)
    trial_credits = get_settings().trial_credits
    if facts.trial and trial_credits:
        user_id = facts.purchase.user_id
        reason = f"Trial credits ({facts.purchase.label})"
        terms = trial_terms(facts, utcnow())
        grant_once(ctx, user_id, trial_credits, TRIAL_SOURCE, f"user-{user_id}", reason, terms)


def trial_terms(facts: InvoiceFacts, now: datetime) -> LotTerms:
    """Trial credits: a promotional lot that ends with the trial.

    The trial ends at the subscription's `trial_end` (re-fetched with the invoice), else
    with the period its $0 invoice covers.
    """
    data = (facts.subscription.data if facts.subscription else None) or {}
    end = _timestamp(data.get("trial_end"))
    if end is None and facts.purchase is not None:
        end = max(
            (line.period_end for line in facts.purchase.lines if line.period_end), default=None
        )
    effective_at, expires_at = lot_window(now, end)
    return LotTerms(
        source=LotSource.TRIAL,
        category=LotCategory.PROMOTIONAL,
        effective_at=effective_at,
        expires_at=expires_at,
    )


def _prepare_failed(lookup: Lookup) -> SubscriptionFacts | None:
    subscription_id = invoice_subscription(lookup.obj)
    return fetch_subscription_facts(lookup, subscription_id) if subscription_id else None


def _apply_failed(ctx: EventContext) -> None:
    """A payment failed: refresh the subscription's status (e.g. past_due); grant nothing."""
    if ctx.facts is not None:
        store_subscription(ctx, ctx.facts)


paid = Handler(prepare=_prepare_paid, apply=_apply_paid)
payment_failed = Handler(prepare=_prepare_failed, apply=_apply_failed)


def _all_lines(lookup: Lookup, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """Every line: the event carries the first page; the rest are listed."""
    lines = invoice.get("lines") or {}
    if not lines.get("has_more"):
        return list(lines.get("data") or [])
    with stripe_errors("list invoice lines"):
        listed = lookup.stripe().v1.invoices.line_items.list(invoice["id"], {"limit": 100})
        return [line.to_dict() for line in listed.auto_paging_iter()]


def _billed(line: dict[str, Any], rate: Rate | None) -> BilledLine:
    return BilledLine(
        ref=str(line.get("id") or ""),
        price_id=line_price_id(line),
        quantity=line_quantity(line),
        amount=int(line.get("amount") or 0),
        rate=rate,
        proration=line_is_proration(line),
        description=line.get("description"),
        period_end=_period_end(line),
    )


def _period_end(line: dict[str, Any]) -> datetime | None:
    return _timestamp((line.get("period") or {}).get("end"))


def _timestamp(value: Any) -> datetime | None:
    """A Stripe timestamp (unix seconds) as an aware UTC datetime; None if it is not one."""
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None


def _label(invoice: dict[str, Any], lines: tuple[BilledLine, ...]) -> str:
    """E.g. "Monthly Plan renewal": the product of its main line and why it was billed."""
    named = [line for line in lines if line.rate and not line.proration] or [
        line for line in lines if line.rate
    ]
    name = named[0].rate.name if named and named[0].rate else "Invoice"
    return f"{name} {LABELS.get(invoice.get('billing_reason'), 'invoice')}"


def _payment_intent(lookup: Lookup, invoice: dict[str, Any]) -> str | None:
    """The payment intent that collected the invoice (legacy field, or invoice payments)."""
    intent = invoice_payment_intent(invoice)
    if intent is not None or not invoice.get("amount_paid"):
        return intent
    with stripe_errors("list invoice payments"):
        listed = lookup.stripe().v1.invoice_payments.list({"invoice": invoice["id"]})
    return invoice_payment_intent({"payments": listed.to_dict()})
