"""Repair drift through the webhook's own exactly-once path, so a repair never double-grants.

Each repairable drift becomes an event: the real one from Stripe's `/v1/events` when Stripe
still has one that was never processed here, else one built from the object as Stripe has it
now (id `evt_reconcile_...`). It then goes through `process_event`, exactly like a delivery:
the handler's prepare phase, then one transaction that records the event id and writes the
effect. Whatever arrives at the same moment (the late webhook itself, or the same object
under another event id) collides on the same unique keys (the event id, the purchase, the
refund or dispute row, the ledger's (kind, source, Stripe id)), and the loser sees the
winner's work and does nothing.

A purchase whose row survived but whose grant entry was lost is the one case a replay cannot
reach (the handler sees the purchase and stops): its grant is written with the handler's own
`grant_once`, on the lot terms the handler computes from the object, under the same unique
key, in a transaction that records an event id like any delivery.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from credits_app.db import get_engine, per_statement_session, session_scope
from credits_app.models import StripeEvent, StripePurchaseLine, utcnow
from credits_app.services import balance_events
from credits_app.services.billing.handlers import HANDLERS, EventContext, Lookup
from credits_app.services.billing.handlers.context import grant_once
from credits_app.services.billing.handlers.purchases import PurchaseFacts, purchase_terms
from credits_app.services.billing.reconcile.drift import Drift, DriftKind, Replay
from credits_app.services.billing.stripe_client import (
    STRIPE_API_VERSION,
    get_stripe_client,
    stripe_errors,
)
from credits_app.services.billing.stripe_shapes import object_id
from credits_app.services.billing.webhook import event_object_id, process_event
from credits_app.services.errors import CreditsError, Unavailable

logger = logging.getLogger(__name__)
ATTEMPTS = 3
# Purchases first (refunds and disputes need the payment they record), each kind oldest first.
ORDER = {
    DriftKind.PAID_NOT_GRANTED: 0,
    DriftKind.PERIOD_NOT_GRANTED: 0,
    DriftKind.REFUND_NOT_CLAWED_BACK: 1,
    DriftKind.AMOUNT_MISMATCH: 1,
    DriftKind.DISPUTE_NOT_CLAWED_BACK: 2,
    DriftKind.WON_NOT_RESTORED: 2,
}


@dataclass(frozen=True)
class RepairResult:
    """What one repair did.

    `outcome` is the webhook's (`applied`, `ignored`, `duplicate`: something else got there
    first) or `failed`; `event_id` the event it went through.
    """

    outcome: str
    event_id: str | None = None
    error: str | None = None
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The result as the CLI's JSON prints it."""
        found = {"outcome": self.outcome, "eventId": self.event_id}
        if self.detail:
            found["detail"] = self.detail
        return {**found, "error": self.error} if self.error else found


def repair_all(drifts: list[Drift], since: datetime) -> list[tuple[Drift, RepairResult]]:
    """Repair each repairable drift, purchases first and oldest first; never raises for one.

    Raises:
        Unavailable: When Stripe cannot be reached to list its events.
    """
    todo = sorted(
        (x for x in drifts if x.replay is not None),
        key=lambda x: (ORDER.get(x.kind, 3), x.created, x.object),
    )
    if not todo:
        return []
    real = _real_events(todo, int(since.timestamp()))
    results = []
    for drift in todo:
        try:
            result = repair_one(drift, real.get(drift.object, []))
        except CreditsError as exc:
            result = RepairResult("failed", error=exc.message)
        logger.info("reconcile repaired %s %s: %s", drift.kind, drift.object, result.outcome)
        results.append((drift, result))
    return results


def repair_one(drift: Drift, real_events: list[dict[str, Any]]) -> RepairResult:
    """Repair one drift through the webhook's path (see the module docstring).

    Raises:
        Unavailable: When Stripe cannot be reached.
    """
    replay = drift.replay
    if replay is None:
        return RepairResult("failed", error="not repairable")
    if replay.regrant:
        return _regrant(drift, replay)
    event = _unprocessed(replay, real_events) or synthetic_event(replay, drift.object)
    with session_scope() as session:
        outcome = process_event(session=session, event=event)
    return RepairResult(outcome.outcome, event["id"], detail=_detail_of(event["id"]))


def _detail_of(event_id: str) -> str | None:
    """What the handler noted on the event (e.g. that the purchase was credited meanwhile)."""
    with per_statement_session(get_engine()) as db:
        row = db.get(StripeEvent, event_id)
        return row.detail if row is not None else None


def _real_events(drifts: list[Drift], since: int) -> dict[str, list[dict[str, Any]]]:
    """Stripe's events since `since` that could repair these drifts, by object id, newest first."""
    types = sorted({t for x in drifts if x.replay for t in x.replay.event_types})
    by_object: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not types:
        return by_object
    wanted = {x.object for x in drifts}
    with stripe_errors("list events"):
        listed = get_stripe_client().v1.events.list(
            {"types": types, "created": {"gte": since}, "limit": 100}
        )
        for item in listed.auto_paging_iter():
            event = item.to_dict()
            if int(event.get("created") or 0) < since:
                break
            ref = object_id((event.get("data") or {}).get("object"))
            if ref in wanted:
                by_object[ref].append(event)
    return by_object


def _unprocessed(replay: Replay, events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest real event that would apply what is missing and was never processed here."""
    candidates = [e for e in events if replay.accepts(e)]
    if not candidates:
        return None
    with per_statement_session(get_engine()) as db:
        ids = [e["id"] for e in candidates]
        seen = set(db.execute(select(StripeEvent.id).where(StripeEvent.id.in_(ids))).scalars())
    return next((e for e in candidates if e["id"] not in seen), None)


def synthetic_event(replay: Replay, ref: str) -> dict[str, Any]:
    """An event of `replay.synthetic_type` carrying the object as Stripe has it now.

    Its `created` is when the money moved (the payment, the refund, the dispute), as in the
    real event, so credits that expire count from the purchase, not from the repair.

    Raises:
        Unavailable: When Stripe cannot be reached or no longer has the object.
    """
    obj = fetch_object(replay.object_kind, ref)
    return {
        "id": f"evt_reconcile_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": _moment_of(replay.object_kind, obj),
        "data": {"object": obj},
        "livemode": bool(obj.get("livemode")),
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": replay.synthetic_type,
    }


def fetch_object(kind: str, ref: str) -> dict[str, Any]:
    """Fetch a checkout session, invoice, refund or dispute as Stripe has it now.

    Raises:
        Unavailable: When Stripe cannot be reached or no longer has it.
    """
    v1 = get_stripe_client().v1
    retrieve: dict[str, Callable[[str], Any]] = {
        "checkout": v1.checkout.sessions.retrieve,
        "invoice": v1.invoices.retrieve,
        "refund": v1.refunds.retrieve,
        "dispute": v1.disputes.retrieve,
    }
    with stripe_errors(f"fetch {ref}"):
        try:
            return retrieve[kind](ref).to_dict()
        except stripe.InvalidRequestError as exc:
            raise Unavailable(f"Stripe no longer has {ref}") from exc


def _moment_of(kind: str, obj: dict[str, Any]) -> int:
    """When the money moved: an invoice's payment, a session's payment intent, else creation."""
    if kind == "invoice":
        paid_at = (obj.get("status_transitions") or {}).get("paid_at")
        return int(paid_at or obj["created"])
    intent = object_id(obj.get("payment_intent")) if kind == "checkout" else None
    if intent:
        with stripe_errors("fetch a payment intent"):
            return int(get_stripe_client().v1.payment_intents.retrieve(intent).created)
    return int(obj["created"])


def _regrant(drift: Drift, replay: Replay) -> RepairResult:
    """Grant a recorded purchase's missing credits once, as the webhook would have.

    The handler's prepare phase reads the object again and says what it buys and on which
    lot terms; only when that still matches the recorded lines is anything written.
    """
    event = synthetic_event(replay, drift.object)
    with per_statement_session(get_engine()) as reader:
        facts = HANDLERS[event["type"]].prepare(Lookup(event, reader))
        query = select(StripePurchaseLine.credits).where(
            StripePurchaseLine.purchase_id == drift.object
        )
        recorded = sum(c for c in reader.execute(query).scalars() if c > 0)
    purchase: PurchaseFacts | None = getattr(facts, "purchase", None)
    if purchase is None:
        return RepairResult("failed", event["id"], "Stripe no longer shows it as ours and paid")
    gained = sum(line.credits for line in purchase.lines if line.credits > 0)
    if gained != recorded:
        why = f"its lines now buy {gained} credits, but {recorded} were recorded"
        return RepairResult("failed", event["id"], why)

    def grant(ctx: EventContext) -> None:
        reason = f"{purchase.label} (Stripe {purchase.kind} {purchase.id})"
        terms = purchase_terms(purchase, utcnow())
        if grant_once(ctx, purchase.user_id, gained, purchase.source, purchase.id, reason, terms):
            ctx.note(f"{purchase.id}: +{gained} credits restored by reconciliation")
        else:
            ctx.outcome = "duplicate"
            ctx.note(f"{purchase.id} was granted meanwhile")

    outcome = _apply_once(event, facts, grant)
    return RepairResult(outcome, event["id"], detail=_detail_of(event["id"]))


def _apply_once(event: dict[str, Any], facts: Any, apply: Callable[[EventContext], None]) -> str:
    """Record the event id and apply its effect in one transaction, as the webhook does.

    A concurrent writer of the same key makes the commit fail; the attempt is rolled back
    and run again, and then sees the other's work.
    """
    with session_scope() as session:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                row = StripeEvent(
                    id=event["id"],
                    type=event["type"],
                    stripe_created=event["created"],
                    api_version=STRIPE_API_VERSION[:32],
                    object_id=event_object_id(event),
                )
                session.add(row)
                session.flush()
                ctx = EventContext(session=session, event=event, facts=facts)
                apply(ctx)
                row.outcome, row.detail = ctx.outcome, ctx.detail
                session.add(row)
                session.commit()
            except IntegrityError:
                session.rollback()
                if attempt == ATTEMPTS:
                    raise
                continue
            except BaseException:
                session.rollback()
                raise
            for result in ctx.changed.values():
                balance_events.publish(
                    balance_events.BalanceChanged(result.user_id, result.balance, result.available)
                )
            return ctx.outcome
    raise AssertionError("unreachable")
