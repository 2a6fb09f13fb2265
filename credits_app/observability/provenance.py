"""Where a ledger entry came from: the Stripe object, its events, the admin, hold and lots.

`explain_entry` gathers it in one read-only pass; `python -m credits_app explain ENTRY_ID`
prints it, and admin pages can show the same record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import (
    CreditHold,
    CreditLot,
    LedgerEntry,
    LotAllocation,
    StripeDispute,
    StripeEvent,
    StripePurchase,
    StripeRefund,
    User,
)
from credits_app.services.errors import NotFound
from credits_app.services.history import entry_view
from credits_app.services.holds.store import ManagedBy
from credits_app.services.ledger_labels import describe
from credits_app.settings import Settings

DASHBOARD = "https://dashboard.stripe.com"
# Dashboard pages by id prefix; other ids (e.g. Checkout sessions) open a Dashboard search.
DASHBOARD_PAGES = {
    "pi_": "payments",
    "ch_": "payments",
    "in_": "invoices",
    "sub_": "subscriptions",
    "cus_": "customers",
    "re_": "refunds",
    "dp_": "disputes",
    "du_": "disputes",
    "evt_": "events",
}
PURCHASE_SOURCES = {"stripe_checkout": "checkout session", "stripe_invoice": "invoice"}
ADMIN_SOURCES = {"admin": "admin page", "admin_api": "admin API key", "cli": "command line"}
# Events stored before migration 0011 do not name their object, so older entries find none.
NO_EVENTS = "  events:  none found (events processed before migration 0011 name no object)"
AI_RUN_SOURCE = "ai-run"


@dataclass(frozen=True)
class StripeObject:
    """A Stripe object behind an entry, with its Dashboard page."""

    id: str
    kind: str
    dashboard_url: str


@dataclass(frozen=True)
class Provenance:
    """Everything known about where one ledger entry came from.

    Attributes:
        entry: The entry's own columns.
        label: What it was, in words (as the user's history shows it).
        user: `{id, email}` of the account's user.
        stripe: The Stripe objects behind it: the one it was written for first, then the
            payment, subscription or invoice that one belongs to.
        stripe_mode: `test` or `live` (from STRIPE_SECRET_KEY's prefix), for the links.
        money: What the Stripe object was worth (a purchase, refund or dispute), if any.
        events: The stored Stripe events whose `data.object` is one of those objects,
            oldest first (events processed before migration 0011 do not name their
            object, so they are not found).
        granted_by: How an admin grant was made, and by whom (`{id, email}`) when known.
        hold: The hold (API reservation or AI run) the entry belongs to.
        lots_created: Lots this entry created.
        lots_moved: Lots this entry drew from (negative) or gave back to (positive).
        hold_lots: For a hold's entries, what all of the hold's entries together took from
            each lot (its reserve drew, its capture or release gave back the rest).
    """

    entry: dict[str, Any]
    label: str
    user: dict[str, Any] | None
    stripe: list[StripeObject] = field(default_factory=list)
    stripe_mode: str = "test"
    money: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    granted_by: dict[str, Any] | None = None
    hold: dict[str, Any] | None = None
    lots_created: list[dict[str, Any]] = field(default_factory=list)
    lots_moved: list[dict[str, Any]] = field(default_factory=list)
    hold_lots: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The record as plain data, for JSON."""
        return asdict(self)


def stripe_mode(settings: Settings) -> str:
    """`live` when STRIPE_SECRET_KEY is a live key (`sk_live_`, `rk_live_`), else `test`."""
    key = settings.stripe_secret_key or ""
    return "live" if key.startswith(("sk_live_", "rk_live_")) else "test"


def dashboard_url(object_id: str, mode: str) -> str:
    """The Stripe Dashboard page of an object (test-mode pages live under `/test`)."""
    base = DASHBOARD if mode == "live" else f"{DASHBOARD}/test"
    for prefix, page in DASHBOARD_PAGES.items():
        if object_id.startswith(prefix):
            return f"{base}/{page}/{object_id}"
    return f"{base}/search?query={object_id}"


def _user(session: Session, user_id: int | None) -> dict[str, Any] | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return {"id": user_id, "email": user.email if user else None}


def _entry_data(entry: LedgerEntry) -> dict[str, Any]:
    names = (
        "id", "kind", "amount", "delta", "held_delta", "debt_delta", "balance_after",
        "held_after", "debt_after", "feature", "reason", "source", "source_ref",
        "idempotency_key", "actor_user_id", "hold_id", "created_at",
    )  # fmt: skip
    return {name: getattr(entry, name) for name in names}


def _label(entry: LedgerEntry) -> str:
    return describe(entry_view(entry))


def _stripe_side(
    session: Session, entry: LedgerEntry
) -> tuple[list[tuple[str, str]], dict[str, Any] | None]:
    """The Stripe objects (id, kind) behind an entry, and what its money was."""
    ref = entry.source_ref
    if not ref or not entry.source.startswith("stripe_"):
        return [], None
    if entry.source in PURCHASE_SOURCES:
        objects = [(ref, PURCHASE_SOURCES[entry.source])]
        purchase = session.get(StripePurchase, ref)
        if purchase is None:
            return objects, None
        if purchase.payment_intent_id:
            objects.append((purchase.payment_intent_id, "payment"))
        if purchase.subscription_id:
            objects.append((purchase.subscription_id, "subscription"))
        money = {
            "object": "purchase",
            "amount": purchase.amount,
            "amount_paid": purchase.amount_paid,
            "currency": purchase.currency,
            "credits": purchase.credits,
        }
        return objects, money
    if entry.source == "stripe_refund":
        refund = session.get(StripeRefund, ref)
        objects = [(ref, "refund")]
        if refund is None:
            return objects, None
        objects.append((refund.payment_intent_id, "payment"))
        money = {"object": "refund", "amount": refund.amount, "credits": refund.credits}
        return objects, {**money, "failed": refund.failed}
    if entry.source == "stripe_dispute":
        dispute = session.get(StripeDispute, ref)
        objects = [(ref, "dispute")]
        if dispute is None:
            return objects, None
        objects.append((dispute.payment_intent_id, "payment"))
        money = {"object": "dispute", "amount": dispute.amount, "status": dispute.status}
        return objects, {**money, "credits": dispute.credits}
    return [], None  # e.g. trial credits: granted once per user, about no one object


def _events(session: Session, object_ids: list[str]) -> list[dict[str, Any]]:
    """Stored events whose `data.object` is one of these objects, oldest first."""
    if not object_ids:
        return []
    table = StripeEvent.__table__
    query = (
        select(table.c.id, table.c.type, table.c.outcome, table.c.processed_at)
        .where(table.c.object_id.in_(object_ids))
        .order_by(table.c.processed_at, table.c.id)
    )
    return [
        {"id": row.id, "type": row.type, "outcome": row.outcome, "processed_at": row.processed_at}
        for row in session.execute(query)
    ]


def _hold_of(session: Session, entry: LedgerEntry) -> CreditHold | None:
    """The hold of a hold entry, or the AI run a late charge paid for."""
    if entry.hold_id is not None:
        return session.get(CreditHold, entry.hold_id)
    if entry.source == AI_RUN_SOURCE and entry.idempotency_key.endswith(":charge"):
        run_key = entry.idempotency_key.removesuffix(":charge")
        query = select(CreditHold).where(
            CreditHold.account_id == entry.account_id,
            CreditHold.idempotency_key == run_key,
            CreditHold.managed_by == ManagedBy.AI_RUN,
        )
        return session.execute(query).scalars().first()
    return None


def _hold_data(hold: CreditHold | None) -> dict[str, Any] | None:
    if hold is None:
        return None
    return {
        "id": hold.id,
        "what": "AI run" if hold.managed_by == ManagedBy.AI_RUN else "API reservation",
        "feature": hold.feature,
        "amount": hold.amount,
        "captured": hold.captured,
        "status": hold.status,
        "outcome": hold.outcome,
        "idempotency_key": hold.idempotency_key,
        "created_at": hold.created_at,
        "resolved_at": hold.resolved_at,
    }


def _lot_data(lot: CreditLot) -> dict[str, Any]:
    return {
        "id": lot.id,
        "amount": lot.amount,
        "remaining": lot.remaining,
        "category": lot.category,
        "source": lot.source,
        "funded_by": lot.funded_by,
        "effective_at": lot.effective_at,
        "expires_at": lot.expires_at,
    }


def _lots(session: Session, entry_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(lots the entry created, lots it moved with the signed amount), in id order."""
    created = session.execute(
        select(CreditLot).where(CreditLot.entry_id == entry_id).order_by(CreditLot.id)
    ).scalars()
    moves = session.execute(
        select(LotAllocation.lot_id, LotAllocation.amount, CreditLot.category)
        .join(CreditLot, CreditLot.id == LotAllocation.lot_id)
        .where(LotAllocation.entry_id == entry_id)
        .order_by(LotAllocation.id)
    )
    moved = [{"lot_id": lot_id, "amount": amount, "category": cat} for lot_id, amount, cat in moves]
    return [_lot_data(lot) for lot in created], moved


def _hold_lots(session: Session, hold_id: int | None) -> list[dict[str, Any]]:
    """Each lot's net change over all of a hold's entries, in lot id order."""
    if hold_id is None:
        return []
    query = (
        select(LotAllocation.lot_id, CreditLot.category, func.sum(LotAllocation.amount))
        .join(CreditLot, CreditLot.id == LotAllocation.lot_id)
        .where(LotAllocation.hold_id == hold_id)
        .group_by(LotAllocation.lot_id, CreditLot.category)
        .order_by(LotAllocation.lot_id)
    )
    return [
        {"lot_id": lot_id, "amount": int(net), "category": category}
        for lot_id, category, net in session.execute(query)
    ]


def _granted_by(session: Session, entry: LedgerEntry) -> dict[str, Any] | None:
    if entry.source not in ADMIN_SOURCES and entry.actor_user_id is None:
        return None
    how = ADMIN_SOURCES.get(entry.source, entry.source)
    return {"via": how, "admin": _user(session, entry.actor_user_id)}


def explain_entry(*, session: Session, entry_id: int, settings: Settings) -> Provenance:
    """Gather where ledger entry `entry_id` came from.

    Raises:
        NotFound: When no entry has that id.
    """
    entry = session.get(LedgerEntry, entry_id)
    if entry is None:
        raise NotFound(f"no ledger entry {entry_id}")
    mode = stripe_mode(settings)
    objects, money = _stripe_side(session, entry)
    created, moved = _lots(session, entry_id)
    hold = _hold_of(session, entry)
    return Provenance(
        entry=_entry_data(entry),
        label=_label(entry),
        user=_user(session, entry.user_id),
        stripe=[StripeObject(oid, kind, dashboard_url(oid, mode)) for oid, kind in objects],
        stripe_mode=mode,
        money=money,
        events=_events(session, [oid for oid, _ in objects]),
        granted_by=_granted_by(session, entry),
        hold=_hold_data(hold),
        lots_created=created,
        lots_moved=moved,
        hold_lots=_hold_lots(session, hold.id if hold else None),
    )


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


def render(found: Provenance) -> list[str]:
    """The record as lines for people (the CLI's output without --json)."""
    e = found.entry
    lines = [
        f"entry {e['id']}: {found.label} ({e['kind']} of {e['amount']}, change {e['delta']:+d}, "
        f"balance after {e['balance_after']})",
        f"  when:    {_when(e['created_at'])}",
    ]
    if found.user:
        lines.append(f"  user:    {found.user['id']} ({found.user['email']})")
    if e["reason"]:
        lines.append(f"  reason:  {e['reason']}")
    if e["feature"]:
        lines.append(f"  feature: {e['feature']}")
    ref = f" {e['source_ref']}" if e["source_ref"] else ""
    lines.append(f"  source:  {e['source']}{ref} (key {e['idempotency_key']})")
    lines += _render_stripe(found)
    if found.granted_by:
        admin = found.granted_by["admin"]
        who = f" by {admin['email']} (user {admin['id']})" if admin else ""
        lines.append(f"  granted: via {found.granted_by['via']}{who}")
    if found.hold:
        h = found.hold
        captured = "" if h["captured"] is None else f", captured {h['captured']}"
        lines.append(
            f"  hold:    {h['id']} ({h['what']}, {h['feature']}): reserved {h['amount']}"
            f"{captured}, {h['status']}"
        )
    for lot in found.lots_created:
        lines.append(
            f"  created lot {lot['id']}: {lot['amount']} {lot['category']} ({lot['source']}), "
            f"{lot['remaining']} left, expires {_when(lot['expires_at'])}"
        )
    for move in found.lots_moved:
        lines.append(f"  moved lot {move['lot_id']} ({move['category']}): {move['amount']:+d}")
    for move in found.hold_lots:
        lines.append(
            f"  the hold in all took from lot {move['lot_id']} ({move['category']}): "
            f"{move['amount']:+d}"
        )
    return lines


def _render_stripe(found: Provenance) -> list[str]:
    lines = []
    for obj in found.stripe:
        lines.append(f"  stripe:  {obj.kind} {obj.id} ({found.stripe_mode}) {obj.dashboard_url}")
    money = found.money
    if money and money["object"] == "purchase":
        lines.append(
            f"  money:   paid {money['amount_paid']} {money['currency']} in minor units (billed "
            f"{money['amount']}) for {money['credits']} credits"
        )
    elif money:
        lines.append(
            f"  money:   {money['object']} of {money['amount']} in minor units, "
            f"{money['credits']} credits"
        )
    if found.stripe and not found.events:
        lines.append(NO_EVENTS)
    for event in found.events:
        lines.append(
            f"  event:   {event['id']} {event['type']} {event['outcome']} "
            f"{_when(event['processed_at'])}"
        )
    return lines
