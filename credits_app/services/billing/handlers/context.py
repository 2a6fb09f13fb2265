"""What event handlers get in each phase, and the exactly-once ledger writes they share.

Each event is handled in two phases. `prepare` asks Stripe for whatever it needs and reads
the database without taking a write lock; `apply` then writes in one short transaction,
using only what `prepare` gathered. No transaction is ever open while Stripe answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import stripe
from sqlalchemy import select
from sqlmodel import Session

from credits_app.models import CreditLot, EntryKind, LedgerEntry, LotSource, User
from credits_app.services.billing.customers import user_of_customer
from credits_app.services.billing.stripe_client import get_stripe_client
from credits_app.services.billing.stripe_shapes import object_id
from credits_app.services.ledger import LedgerResult, LotTerms, post_clawback, post_grant

logger = logging.getLogger(__name__)
entries = LedgerEntry.__table__
lots = CreditLot.__table__
# Our Checkout puts both on the session, its payment intent or subscription, and invoices.
OUR_METADATA_KEYS = ("user_id", "price_id")


@dataclass
class _EventView:
    """An event and the shortcuts every phase reads it through."""

    event: dict[str, Any]

    @property
    def obj(self) -> dict[str, Any]:
        """The event's `data.object`."""
        return self.event["data"]["object"]

    @property
    def created(self) -> int:
        """When Stripe created the event (unix seconds)."""
        return self.event["created"]


@dataclass
class Lookup(_EventView):
    """The prepare phase: the event, a read-only session, and the Stripe client."""

    db: Session

    def stripe(self) -> stripe.StripeClient:
        """The Stripe client, for re-fetching objects."""
        return get_stripe_client()


@dataclass
class EventContext(_EventView):
    """The apply phase: one event being written inside the webhook's transaction.

    Attributes:
        event: The verified event as a dict.
        session: The open transaction; handlers write without committing.
        facts: What the handler's prepare phase returned.
        changed: The last ledger result per user whose balance this event changed.
        outcome: `applied`, or `ignored` for an object the app did not sell.
        detail: A few words on the outcome, kept with the event id.
    """

    session: Session
    facts: Any = None
    changed: dict[int, LedgerResult] = field(default_factory=dict)
    outcome: str = "applied"
    detail: str | None = None

    def ignore(self, detail: str, level: int = logging.INFO) -> None:
        """Record that this event is about something that is not ours, and log it."""
        self.outcome, self.detail = "ignored", detail[:255]
        logger.log(
            level, "Stripe event %s (%s) ignored: %s", self.event["id"], self.event["type"], detail
        )

    def note(self, detail: str) -> None:
        """Keep a few words on what this event did (or why it did nothing)."""
        self.detail = detail[:255]


@dataclass(frozen=True)
class Handler:
    """One event type's two phases; `prepare` returns the facts `apply` reads."""

    apply: Callable[[EventContext], None]
    prepare: Callable[[Lookup], Any] = lambda lookup: None


def is_ours(metadata: Any) -> bool:
    """Whether metadata was written by our Checkout (it names our user and price)."""
    return isinstance(metadata, dict) and all(metadata.get(k) for k in OUR_METADATA_KEYS)


def find_entry(session: Session, kind: str, source: str, ref: str) -> Any:
    """Return the ledger entry written for this business object, if any."""
    query = select(entries).where(
        entries.c.kind == kind, entries.c.source == source, entries.c.source_ref == ref
    )
    return session.execute(query).first()


def grant_once(
    ctx: EventContext,
    user_id: int,
    amount: int,
    source: str,
    ref: str,
    reason: str,
    terms: LotTerms | None = None,
) -> bool:
    """Grant credits (one lot on `terms`) for a Stripe object unless it granted already.

    Returns:
        True if it granted now.
    """
    extra = {"terms": terms}
    return _post_once(ctx, EntryKind.GRANT, post_grant, user_id, amount, source, ref, reason, extra)


def clawback_once(
    ctx: EventContext,
    user_id: int,
    amount: int,
    source: str,
    ref: str,
    reason: str,
    funded_by: str | None = None,
) -> bool:
    """Claw credits back for a Stripe object unless it did already.

    The credits come from the lots `funded_by` bought first.

    Returns:
        True if it clawed back now.
    """
    extra = {"funded_by": funded_by}
    kind = EntryKind.CLAWBACK
    return _post_once(ctx, kind, post_clawback, user_id, amount, source, ref, reason, extra)


def _post_once(ctx: EventContext, kind, post, user_id, amount, source, ref, reason, extra) -> bool:
    if amount <= 0 or find_entry(ctx.session, kind, source, ref) is not None:
        return False
    ctx.changed[user_id] = post(
        ctx.session,
        user_id=user_id,
        amount=amount,
        reason=reason[:255],
        idempotency_key=f"{source}:{ref}",
        source=source,
        source_ref=ref,
        **extra,
    )
    return True


def restore_terms(session: Session, funded_by: str) -> LotTerms:
    """The terms of credits given back (a won dispute, a failed refund).

    They are those of the lot the payment funded: its category, priority and window, so the
    credits expire when the originals would have, and at once if that moment has passed.
    A purchase from before lots existed funded no lot: its credits never expired.
    """
    query = (
        select(lots)
        .where(lots.c.funded_by == funded_by, lots.c.source != LotSource.ROLLOVER)
        .order_by(lots.c.id)
        .limit(1)
    )
    lot = session.execute(query).first()
    if lot is None:
        return LotTerms(source=LotSource.RESTORE, funded_by=funded_by)
    return LotTerms(
        source=LotSource.RESTORE,
        category=lot.category,
        priority=lot.priority,
        # The original window: a new one starting now could not end in the past.
        effective_at=lot.effective_at,
        expires_at=lot.expires_at,
        funded_by=funded_by,
    )


def user_from(session: Session, metadata: Any, customer: Any) -> int | None:
    """Find our user: our metadata's user id first, then the Stripe customer.

    A bare `client_reference_id` or `user_id` is never trusted on its own: anyone who can
    create a Checkout session on the account could name any user with it.
    """
    if is_ours(metadata):
        raw = str(metadata["user_id"])
        if raw.isdigit() and session.get(User, int(raw)) is not None:
            return int(raw)
    return user_of_customer(session=session, stripe_customer_id=object_id(customer))
