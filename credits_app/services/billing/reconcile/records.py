"""What we recorded about Stripe objects: purchases, payments, refunds, disputes, entries, lots.

Everything is read statement by statement (no transaction stays open between Stripe calls),
by id, in chunks, so ten thousand objects cost a few dozen queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import (
    CreditLot,
    EntryKind,
    LedgerEntry,
    LotSource,
    StripeDispute,
    StripePayment,
    StripePurchase,
    StripePurchaseLine,
    StripeRefund,
)
from credits_app.services.billing.money_checks import PURCHASE_SOURCES

entries = LedgerEntry.__table__
lots = CreditLot.__table__
# Sources whose entries name a Stripe object (trial credits name a user, not an object).
OBJECT_SOURCES = (*PURCHASE_SOURCES, "stripe_refund", "stripe_dispute")
MOVES = (EntryKind.GRANT, EntryKind.CLAWBACK)
# The lots a purchase itself creates (restores and rollovers name their purchase too).
PURCHASE_LOTS = (LotSource.PURCHASE, LotSource.PLAN_PERIOD)
CHUNK = 500


@dataclass(frozen=True)
class Entry:
    """A grant or clawback naming a Stripe object."""

    id: int
    user_id: int | None
    amount: int


@dataclass
class Records:
    """Our rows about a set of Stripe objects.

    Attributes:
        purchases: Recorded purchases by session or invoice id.
        line_credits: Per purchase, (credits its positive lines buy, credits its negative
            lines take back).
        payments: Recorded payments by payment intent id.
        refunds: Recorded refunds by id.
        disputes: Recorded disputes by id.
        entries: Grants and clawbacks by (source, Stripe id, kind).
        purchase_lots: Per purchase, the lots it created (one, or none if it bought nothing).
    """

    purchases: dict[str, StripePurchase] = field(default_factory=dict)
    line_credits: dict[str, tuple[int, int]] = field(default_factory=dict)
    payments: dict[str, StripePayment] = field(default_factory=dict)
    refunds: dict[str, StripeRefund] = field(default_factory=dict)
    disputes: dict[str, StripeDispute] = field(default_factory=dict)
    entries: dict[tuple[str, str, str], Entry] = field(default_factory=dict)
    purchase_lots: dict[str, int] = field(default_factory=dict)

    def entry(self, source: str, ref: str, kind: str) -> Entry | None:
        """The grant or clawback a Stripe object made under a source, if any."""
        return self.entries.get((source, ref, kind))

    def grants_of(self, ref: str) -> list[tuple[str, Entry]]:
        """Every grant naming a Stripe object, under any source."""
        return [
            (source, entry)
            for (source, name, kind), entry in self.entries.items()
            if name == ref and kind == EntryKind.GRANT
        ]


def chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """The ids in sorted chunks small enough for one `IN (...)`."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def window_refs(db: Session, since: datetime) -> set[str]:
    """The Stripe ids our rows written since `since` name: purchases, refunds, disputes, entries."""
    refs: set[str] = set()
    for column, written in (
        (StripePurchase.id, StripePurchase.created_at),
        (StripeRefund.id, StripeRefund.created_at),
        (StripeDispute.id, StripeDispute.updated_at),
    ):
        refs.update(db.exec(select(column).where(written >= since)).scalars())
    query = select(entries.c.source_ref).where(
        entries.c.created_at >= since,
        entries.c.source.in_(OBJECT_SOURCES),
        entries.c.kind.in_(MOVES),
    )
    refs.update(ref for ref in db.execute(query).scalars() if ref)
    return refs


def load_records(db: Session, object_ids: Iterable[str], intents: Iterable[str]) -> Records:
    """Our rows about these Stripe objects and payment intents."""
    records = Records()
    ids = set(object_ids)
    for chunk in chunks(ids):
        records.purchases.update(
            (p.id, p)
            for p in db.exec(select(StripePurchase).where(StripePurchase.id.in_(chunk))).scalars()
        )
        records.refunds.update(
            (r.id, r)
            for r in db.exec(select(StripeRefund).where(StripeRefund.id.in_(chunk))).scalars()
        )
        records.disputes.update(
            (d.id, d)
            for d in db.exec(select(StripeDispute).where(StripeDispute.id.in_(chunk))).scalars()
        )
        _load_entries(db, chunk, records)
    wanted_intents = set(intents) | {
        p.payment_intent_id for p in records.purchases.values() if p.payment_intent_id
    }
    wanted_intents |= {r.payment_intent_id for r in records.refunds.values()}
    wanted_intents |= {d.payment_intent_id for d in records.disputes.values()}
    for chunk in chunks(wanted_intents):
        query = select(StripePayment).where(StripePayment.payment_intent_id.in_(chunk))
        records.payments.update((p.payment_intent_id, p) for p in db.exec(query).scalars())
    for chunk in chunks(records.purchases):
        _load_lines(db, chunk, records)
        _load_lots(db, chunk, records)
    return records


def _load_entries(db: Session, chunk: list[str], records: Records) -> None:
    query = select(
        entries.c.id,
        entries.c.user_id,
        entries.c.amount,
        entries.c.source,
        entries.c.source_ref,
        entries.c.kind,
    ).where(
        entries.c.source_ref.in_(chunk),
        entries.c.source.in_(OBJECT_SOURCES),
        entries.c.kind.in_(MOVES),
    )
    for row in db.execute(query):
        records.entries[(row.source, row.source_ref, row.kind)] = Entry(
            row.id, row.user_id, int(row.amount)
        )


def _load_lines(db: Session, chunk: list[str], records: Records) -> None:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    query = select(StripePurchaseLine.purchase_id, StripePurchaseLine.credits).where(
        StripePurchaseLine.purchase_id.in_(chunk)
    )
    for purchase_id, credits in db.execute(query):
        if credits > 0:
            totals[purchase_id][0] += int(credits)
        else:
            totals[purchase_id][1] -= int(credits)
    for purchase_id in chunk:
        gained, lost = totals.get(purchase_id, (0, 0))
        records.line_credits[purchase_id] = (gained, lost)


def _load_lots(db: Session, chunk: list[str], records: Records) -> None:
    query = (
        select(lots.c.funded_by, func.count())
        .where(lots.c.funded_by.in_(chunk), lots.c.source.in_(PURCHASE_LOTS))
        .group_by(lots.c.funded_by)
    )
    records.purchase_lots.update((ref, int(count)) for ref, count in db.execute(query))
