"""What the admin user pages read: find users, one user's credits and money, trace an entry.

Every function checks that the acting user is an admin (`require_admin`) before it reads
anything, whatever the page showed: a page's state is never trusted. All reads are
bounded: pages of users and ledger entries, and the newest lots, payments and
subscriptions up to a fixed number each (with the total, so the page can say what it left
out). Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import (
    CreditHold,
    Customer,
    LedgerEntry,
    Price,
    Product,
    StripeDispute,
    StripePayment,
    StripePurchase,
    StripeRefund,
    Subscription,
    User,
    utcnow,
)
from credits_app.observability.provenance import (
    Provenance,
    dashboard_url,
    explain_entry,
    stripe_mode,
)
from credits_app.services.accounts import Balance, balance_of
from credits_app.services.admin_grants import require_admin
from credits_app.services.errors import InvalidRequest, NotFound, UserNotFound
from credits_app.services.history import EntryView, ledger_history
from credits_app.services.holds import active_holds
from credits_app.services.lots import LotView, live_lots
from credits_app.services.users import UserInfo
from credits_app.settings import get_settings

SEARCH_PAGE = 25
MAX_SEARCH_PAGE = 100
MAX_QUERY_LENGTH = 320  # the longest email address there can be
MAX_USER_ID = 2**31 - 1  # app_user.id is a 32-bit INTEGER on both databases
MAX_ENTRY_ID = 2**63 - 1  # credit_ledger.id is a BIGINT
LOTS_SHOWN = 50
PAYMENTS_SHOWN = 20
SUBSCRIPTIONS_SHOWN = 10
PURCHASE_SOURCES = {"checkout": "stripe_checkout", "invoice": "stripe_invoice"}
REFUND_SOURCE = "stripe_refund"
DISPUTE_SOURCE = "stripe_dispute"


@dataclass(frozen=True)
class UserRow:
    """One user in the admin list: who, when, and their credits now."""

    id: int
    email: str
    is_admin: bool
    email_verified: bool
    created_at: datetime
    balance: int
    available: int


@dataclass(frozen=True)
class UserSearch:
    """A page of users, newest first; `more` says an older page exists.

    `exact_id` is the user whose id the query was, listed first on the first page.
    """

    rows: list[UserRow]
    more: bool
    exact_id: int | None = None


@dataclass(frozen=True)
class EntryRef:
    """A ledger entry written for a Stripe object: its id (for the trace page), kind, change."""

    id: int
    kind: str
    delta: int


@dataclass(frozen=True)
class RefundLine:
    """A refund of a payment and the credits it clawed back (given back if it failed)."""

    id: str
    amount: int
    credits: int
    failed: bool
    created_at: datetime
    url: str
    entries: list[EntryRef] = field(default_factory=list)


@dataclass(frozen=True)
class DisputeLine:
    """A dispute of a payment: its last status and the credits it still holds back."""

    id: str
    amount: int
    status: str
    credits: int
    updated_at: datetime
    url: str
    entries: list[EntryRef] = field(default_factory=list)


@dataclass(frozen=True)
class PaymentLine:
    """A paid Checkout session or invoice, the credits it bought, its refunds and disputes.

    `funded` is what its payment funded (the credits refunds and disputes take a share
    of), None when it had no payment (e.g. a $0 invoice).
    """

    id: str
    kind: str
    created_at: datetime
    currency: str
    amount: int
    amount_paid: int
    credits: int
    url: str
    payment_intent_id: str | None
    payment_url: str | None
    subscription_id: str | None
    funded: int | None
    entries: list[EntryRef] = field(default_factory=list)
    refunds: list[RefundLine] = field(default_factory=list)
    disputes: list[DisputeLine] = field(default_factory=list)


@dataclass(frozen=True)
class SubscriptionLine:
    """A subscription as the app last heard it from Stripe."""

    id: str
    plan_name: str | None
    price_id: str | None
    interval: str | None
    included_credits: int | None
    status: str
    current_period_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    url: str


@dataclass(frozen=True)
class HoldLine:
    """An active hold: what it reserves, for what, until when, and the entry that reserved it."""

    id: int
    feature: str
    amount: int
    what: str
    created_at: datetime
    expires_at: datetime
    entry_id: int | None


@dataclass(frozen=True)
class UserOverview:
    """Everything the admin user page shows but the ledger (paged apart: `user_ledger`)."""

    user: UserInfo
    balance: Balance
    lots: list[LotView]
    lots_total: int
    holds: list[HoldLine]
    customer_id: str | None
    customer_url: str | None
    subscriptions: list[SubscriptionLine]
    subscriptions_total: int
    payments: list[PaymentLine]
    payments_total: int
    stripe_mode: str


@dataclass(frozen=True)
class LedgerPage:
    """A page of a user's ledger, newest first; `actors` names the admins who granted."""

    entries: list[EntryView]
    more: bool
    actors: dict[int, str]


def _check_page(limit: object, before_id: object) -> None:
    if type(limit) is not int or not 1 <= limit <= MAX_SEARCH_PAGE:
        raise InvalidRequest("limit", f"must be an integer between 1 and {MAX_SEARCH_PAGE}")
    if before_id is not None and (type(before_id) is not int or before_id < 1):
        raise InvalidRequest("before_id", "must be a positive integer")


def clean_query(query: object) -> str:
    """The search text trimmed; refuse what no email or id contains.

    Raises:
        InvalidRequest: For a non-string, more than 320 characters, or control characters
            (PostgreSQL refuses a NUL in a query parameter outright).
    """
    if not isinstance(query, str):
        raise InvalidRequest("query", "must be text")
    query = query.strip()
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidRequest("query", f"must be at most {MAX_QUERY_LENGTH} characters")
    if any(ord(char) < 32 or ord(char) == 127 for char in query):
        raise InvalidRequest("query", "must not contain control characters")
    return query


def _exact_id(query: str) -> int | None:
    """The user id the query names, if it is one (ASCII digits, within the id column)."""
    if not query.isascii() or not query.isdigit():
        return None
    number = int(query)
    return number if 1 <= number <= MAX_USER_ID else None


def _user_row(session: Session, user: User) -> UserRow:
    balance = balance_of(session=session, user_id=user.id)
    return UserRow(
        id=user.id,
        email=user.email,
        is_admin=user.is_admin,
        email_verified=user.email_verified_at is not None,
        created_at=user.created_at,
        balance=balance.balance,
        available=balance.available,
    )


def search_users(
    *,
    session: Session,
    admin_user_id: int,
    query: object = "",
    limit: int = SEARCH_PAGE,
    before_id: int | None = None,
) -> UserSearch:
    """Find users by a part of their email (any case) or their exact id, newest first.

    An empty query lists every user, newest first. A query that is an id puts that user
    first on the first page, then the users whose email contains it. Pass the last row's id
    as `before_id` for the next page.

    Raises:
        Forbidden: When the acting user is not an admin.
        InvalidRequest: For a bad query, limit or cursor.
    """
    require_admin(session=session, user_id=admin_user_id)
    query = clean_query(query)
    _check_page(limit, before_id)
    exact_id = _exact_id(query)
    exact = session.get(User, exact_id) if exact_id is not None and before_id is None else None
    listing = select(User).order_by(User.id.desc())
    if query:
        listing = listing.where(func.lower(User.email).contains(query.lower(), autoescape=True))
    if exact_id is not None:
        listing = listing.where(User.id != exact_id)
    if before_id is not None:
        listing = listing.where(User.id < before_id)
    found = list(session.exec(listing.limit(limit + 1)).scalars())
    more = len(found) > limit
    users = ([exact] if exact is not None else []) + found[:limit]
    return UserSearch(
        rows=[_user_row(session, user) for user in users],
        more=more,
        exact_id=exact.id if exact is not None else None,
    )


def _user(session: Session, user_id: object) -> User:
    if type(user_id) is not int or not 1 <= user_id <= MAX_USER_ID:
        raise UserNotFound(f"no user with id {user_id}")
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(f"no user with id {user_id}")
    return user


def _entry_refs(session: Session, sources: dict[str, list[str]]) -> dict[tuple[str, str], list]:
    """The ledger entries written for these Stripe objects, by (source, object id)."""
    found: dict[tuple[str, str], list[EntryRef]] = defaultdict(list)
    for source, refs in sources.items():
        if not refs:
            continue
        query = (
            select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.delta, LedgerEntry.source_ref)
            .where(LedgerEntry.source == source, LedgerEntry.source_ref.in_(refs))
            .order_by(LedgerEntry.id)
        )
        for entry_id, kind, delta, ref in session.execute(query):
            found[(source, ref)].append(EntryRef(entry_id, kind, delta))
    return found


def _payments(session: Session, user_id: int, mode: str) -> tuple[list[PaymentLine], int]:
    """The user's newest purchases with their payment, refunds, disputes and entries."""
    total = session.execute(
        select(func.count()).select_from(StripePurchase).where(StripePurchase.user_id == user_id)
    ).scalar_one()
    purchases = list(
        session.execute(
            select(StripePurchase)
            .where(StripePurchase.user_id == user_id)
            .order_by(StripePurchase.created_at.desc(), StripePurchase.id.desc())
            .limit(PAYMENTS_SHOWN)
        ).scalars()
    )
    intents = [p.payment_intent_id for p in purchases if p.payment_intent_id]
    payments = {
        p.payment_intent_id: p
        for p in session.execute(
            select(StripePayment).where(StripePayment.payment_intent_id.in_(intents))
        ).scalars()
    }
    refunds: dict[str, list[StripeRefund]] = defaultdict(list)
    for refund in session.execute(
        select(StripeRefund)
        .where(StripeRefund.payment_intent_id.in_(intents))
        .order_by(StripeRefund.created_at, StripeRefund.id)
    ).scalars():
        refunds[refund.payment_intent_id].append(refund)
    disputes: dict[str, list[StripeDispute]] = defaultdict(list)
    for dispute in session.execute(
        select(StripeDispute)
        .where(StripeDispute.payment_intent_id.in_(intents))
        .order_by(StripeDispute.updated_at, StripeDispute.id)
    ).scalars():
        disputes[dispute.payment_intent_id].append(dispute)
    refs = _entry_refs(
        session,
        {
            PURCHASE_SOURCES["checkout"]: [p.id for p in purchases if p.kind == "checkout"],
            PURCHASE_SOURCES["invoice"]: [p.id for p in purchases if p.kind != "checkout"],
            REFUND_SOURCE: [r.id for rs in refunds.values() for r in rs],
            DISPUTE_SOURCE: [d.id for ds in disputes.values() for d in ds],
        },
    )
    lines = []
    for purchase in purchases:
        intent = purchase.payment_intent_id
        source = PURCHASE_SOURCES.get(purchase.kind, PURCHASE_SOURCES["invoice"])
        payment = payments.get(intent) if intent else None
        lines.append(
            PaymentLine(
                id=purchase.id,
                kind=purchase.kind,
                created_at=purchase.created_at,
                currency=purchase.currency,
                amount=purchase.amount,
                amount_paid=purchase.amount_paid,
                credits=purchase.credits,
                url=dashboard_url(purchase.id, mode),
                payment_intent_id=intent,
                payment_url=dashboard_url(intent, mode) if intent else None,
                subscription_id=purchase.subscription_id,
                funded=payment.credits if payment else None,
                entries=refs.get((source, purchase.id), []),
                refunds=[
                    RefundLine(
                        id=r.id,
                        amount=r.amount,
                        credits=r.credits,
                        failed=r.failed,
                        created_at=r.created_at,
                        url=dashboard_url(r.id, mode),
                        entries=refs.get((REFUND_SOURCE, r.id), []),
                    )
                    for r in refunds.get(intent or "", [])
                ],
                disputes=[
                    DisputeLine(
                        id=d.id,
                        amount=d.amount,
                        status=d.status,
                        credits=d.credits,
                        updated_at=d.updated_at,
                        url=dashboard_url(d.id, mode),
                        entries=refs.get((DISPUTE_SOURCE, d.id), []),
                    )
                    for d in disputes.get(intent or "", [])
                ],
            )
        )
    return lines, total


def _subscriptions(session: Session, user_id: int, mode: str) -> tuple[list[SubscriptionLine], int]:
    """The user's subscriptions, the newest Stripe state first, whatever their status."""
    total = session.execute(
        select(func.count()).select_from(Subscription).where(Subscription.user_id == user_id)
    ).scalar_one()
    query = (
        select(Subscription, Price, Product)
        .join(Price, Price.id == Subscription.price_id, isouter=True)
        .join(Product, Product.id == Price.product_id, isouter=True)
        .where(Subscription.user_id == user_id)
        .order_by(Subscription.stripe_state_at.desc(), Subscription.id)
        .limit(SUBSCRIPTIONS_SHOWN)
    )
    lines = [
        SubscriptionLine(
            id=sub.id,
            plan_name=product.name if product else None,
            price_id=sub.price_id,
            interval=price.interval if price else None,
            included_credits=price.included_credits if price else None,
            status=sub.status,
            current_period_end=sub.current_period_end,
            cancel_at_period_end=sub.cancel_at_period_end,
            canceled_at=sub.canceled_at,
            url=dashboard_url(sub.id, mode),
        )
        for sub, price, product in session.execute(query)
    ]
    return lines, total


def _holds(session: Session, user_id: int) -> list[HoldLine]:
    """The user's active holds, each with who manages it and the entry that reserved it."""
    views = active_holds(session=session, user_id=user_id)
    ids = [view.hold_id for view in views]
    rows = session.execute(
        select(CreditHold.id, CreditHold.managed_by).where(CreditHold.id.in_(ids))
    ).all()
    managed_by = dict(rows)
    reserved = dict(
        session.execute(
            select(LedgerEntry.hold_id, LedgerEntry.id).where(
                LedgerEntry.hold_id.in_(ids), LedgerEntry.kind == "hold"
            )
        ).all()
    )
    return [
        HoldLine(
            id=view.hold_id,
            feature=view.feature,
            amount=view.amount,
            what="AI run" if managed_by.get(view.hold_id) == "ai-run" else "API reservation",
            created_at=view.created_at,
            expires_at=view.expires_at,
            entry_id=reserved.get(view.hold_id),
        )
        for view in views
    ]


def user_overview(*, session: Session, admin_user_id: int, user_id: object) -> UserOverview:
    """One user's balance, lots, holds, subscriptions and payments, for the admin page.

    Raises:
        Forbidden: When the acting user is not an admin.
        UserNotFound: When no user has that id (or it is no id at all).
    """
    require_admin(session=session, user_id=admin_user_id)
    user = _user(session, user_id)
    mode = stripe_mode(get_settings())
    now = utcnow()
    lots = live_lots(session, user.id, now)
    customer = session.execute(
        select(Customer.stripe_customer_id).where(Customer.user_id == user.id)
    ).scalar_one_or_none()
    subscriptions, subscriptions_total = _subscriptions(session, user.id, mode)
    payments, payments_total = _payments(session, user.id, mode)
    return UserOverview(
        user=UserInfo.of(user),
        balance=balance_of(session=session, user_id=user.id, now=now),
        lots=lots[:LOTS_SHOWN],
        lots_total=len(lots),
        holds=_holds(session, user.id),
        customer_id=customer,
        customer_url=dashboard_url(customer, mode) if customer else None,
        subscriptions=subscriptions,
        subscriptions_total=subscriptions_total,
        payments=payments,
        payments_total=payments_total,
        stripe_mode=mode,
    )


def user_ledger(
    *,
    session: Session,
    admin_user_id: int,
    user_id: object,
    limit: int = SEARCH_PAGE,
    before_id: int | None = None,
) -> LedgerPage:
    """A page of the user's ledger, newest first, with the emails of the admins in it.

    Raises:
        Forbidden: When the acting user is not an admin.
        UserNotFound: When no user has that id.
        InvalidRequest: For a bad limit or cursor.
    """
    require_admin(session=session, user_id=admin_user_id)
    user = _user(session, user_id)
    _check_page(limit, before_id)
    views = ledger_history(session=session, user_id=user.id, limit=limit + 1, before_id=before_id)
    page = views[:limit]
    actor_ids = {view.actor_user_id for view in page if view.actor_user_id is not None}
    actors = dict(session.execute(select(User.id, User.email).where(User.id.in_(actor_ids))).all())
    return LedgerPage(entries=page, more=len(views) > limit, actors=actors)


def trace_entry(*, session: Session, admin_user_id: int, entry_id: object) -> Provenance:
    """Where ledger entry `entry_id` came from: `explain_entry`'s record, for admins only.

    Raises:
        Forbidden: When the acting user is not an admin.
        NotFound: When no entry has that id (or it is no id at all).
    """
    require_admin(session=session, user_id=admin_user_id)
    if type(entry_id) is not int or not 1 <= entry_id <= MAX_ENTRY_ID:
        raise NotFound(f"no ledger entry {entry_id}")
    return explain_entry(session=session, entry_id=entry_id, settings=get_settings())
