"""Stripe-side records: customers, the price catalogue, subscriptions, payments, events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Computed, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from credits_app.models.base import UTCDateTime, utcnow


class Customer(SQLModel, table=True):
    """The one Stripe customer of a user."""

    __tablename__ = "customer"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=False, unique=True)
    )
    stripe_customer_id: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Product(SQLModel, table=True):
    """A Stripe product, as last synced."""

    __tablename__ = "product"

    id: str = Field(sa_column=Column(String(255), primary_key=True))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(1024)))
    active: bool = Field(default=True, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Price(SQLModel, table=True):
    """A Stripe price with the credits it includes: a pack (one-time) or a plan (recurring)."""

    __tablename__ = "price"

    id: str = Field(sa_column=Column(String(255), primary_key=True))
    product_id: str = Field(
        sa_column=Column(String(255), ForeignKey("product.id"), nullable=False, index=True)
    )
    kind: str = Field(sa_column=Column(String(8), nullable=False))
    interval: str | None = Field(default=None, sa_column=Column(String(8)))
    interval_count: int | None = Field(default=None)
    unit_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    included_credits: int = Field(sa_column=Column(BigInteger, nullable=False))
    # How long its credits last (metadata `creditsExpireAfter`): an ISO 8601 duration such as
    # "P1Y", "period" (until the billing period ends), or NULL for never.
    credits_expire_after: str | None = Field(default=None, sa_column=Column(String(32)))
    # Plans that expire each period: at most this many unused credits roll over (`rolloverMax`).
    rollover_max: int | None = Field(default=None, sa_column=Column(BigInteger))
    lookup_key: str | None = Field(default=None, sa_column=Column(String(255)))
    active: bool = Field(default=True, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Subscription(SQLModel, table=True):
    """A user's Stripe subscription, kept in step with the newest state Stripe reported."""

    __tablename__ = "subscription"

    id: str = Field(sa_column=Column(String(255), primary_key=True))
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=False, index=True)
    )
    stripe_customer_id: str = Field(sa_column=Column(String(255), nullable=False))
    price_id: str | None = Field(default=None, sa_column=Column(String(255)))
    status: str = Field(sa_column=Column(String(32), nullable=False))
    current_period_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    current_period_end: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_at_period_end: bool = Field(default=False, nullable=False)
    canceled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Unix time of the Stripe state we hold; an older event never overwrites a newer state.
    stripe_state_at: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# The original system's debug SQL reads `Subscription ... WHERE userId = ...`, which names
# this table on both databases: `userid` is a generated copy of `user_id` for it (migration
# 0010, docs/operations.md). It stays outside the ORM mapping: the app never reads or writes it.
Subscription.__table__.append_column(Column("userid", Integer, Computed("user_id")))


class StripePayment(SQLModel, table=True):
    """What a Stripe payment bought, so a refund or dispute can claw back its share."""

    __tablename__ = "stripe_payment"

    payment_intent_id: str = Field(sa_column=Column(String(255), primary_key=True))
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=False, index=True)
    )
    source: str = Field(sa_column=Column(String(32), nullable=False))
    source_ref: str = Field(sa_column=Column(String(255), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    credits: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class StripeEvent(SQLModel, table=True):
    """A Stripe event id already processed; its primary key makes processing exactly-once.

    `outcome` is `applied` when the event's effect was written (possibly none, e.g. a
    repeated notice), or `ignored` when it was about something the app did not sell;
    `detail` says why in a few words. Rows are never pruned: they are the exactly-once keys
    (the webhook log, `webhook_delivery`, is what gets pruned).
    """

    __tablename__ = "stripe_event"

    id: str = Field(sa_column=Column(String(255), primary_key=True))
    type: str = Field(sa_column=Column(String(128), nullable=False))
    stripe_created: int = Field(sa_column=Column(BigInteger, nullable=False))
    processed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    api_version: str | None = Field(default=None, sa_column=Column(String(32)))
    outcome: str = Field(
        default="applied", sa_column=Column(String(16), nullable=False, server_default="applied")
    )
    detail: str | None = Field(default=None, sa_column=Column(String(255)))
    # The id of the event's `data.object` (a checkout session, invoice, payment intent, ...),
    # so `explain` can list the events that touched an entry's objects. NULL on events
    # processed before migration 0011.
    object_id: str | None = Field(default=None, sa_column=Column(String(255), index=True))


class StripePurchase(SQLModel, table=True):
    """A paid Checkout session or invoice: the money it billed and the credits that buys.

    `credits` is the sum of its lines' credits and may be negative (a downgrade's unused
    time); positive lines were granted as one entry, negative ones clawed back as one.
    """

    __tablename__ = "stripe_purchase"

    id: str = Field(sa_column=Column(String(255), primary_key=True))
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=False, index=True)
    )
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    subscription_id: str | None = Field(default=None, sa_column=Column(String(255)))
    payment_intent_id: str | None = Field(default=None, sa_column=Column(String(255)))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_paid: int = Field(sa_column=Column(BigInteger, nullable=False))
    credits: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class StripePurchaseLine(SQLModel, table=True):
    """One billed line of a purchase and the credits its own amount converts to.

    `credits = floor(amount * included_credits / unit_amount)`: floor rounds a charge down
    and a credit (negative amount) up in size, so rounding never favours the user.
    """

    __tablename__ = "stripe_purchase_line"
    __table_args__ = (UniqueConstraint("purchase_id", "line_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    purchase_id: str = Field(
        sa_column=Column(String(255), ForeignKey("stripe_purchase.id"), nullable=False)
    )
    line_ref: str = Field(sa_column=Column(String(255), nullable=False))
    price_id: str | None = Field(default=None, sa_column=Column(String(255)))
    quantity: int = Field(default=1, sa_column=Column(BigInteger, nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    unit_amount: int | None = Field(default=None, sa_column=Column(BigInteger))
    included_credits: int | None = Field(default=None, sa_column=Column(BigInteger))
    proration: bool = Field(default=False, nullable=False)
    credits: int = Field(sa_column=Column(BigInteger, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(255)))


class StripeDispute(SQLModel, table=True):
    """A dispute of a recorded payment: its last known status and the credits it holds back.

    `credits` is what its withdrawn funds clawed back; it drops to 0 once they are
    reinstated (won), when the clawback is given back.
    """

    __tablename__ = "stripe_dispute"

    id: str = Field(sa_column=Column(String(255), primary_key=True))
    payment_intent_id: str = Field(
        sa_column=Column(
            String(255),
            ForeignKey("stripe_payment.payment_intent_id"),
            nullable=False,
            index=True,
        )
    )
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(sa_column=Column(String(32), nullable=False))
    credits: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class StripeRefund(SQLModel, table=True):
    """A refund whose share of credits was clawed back, recorded once per refund id."""

    __tablename__ = "stripe_refund"

    id: str = Field(sa_column=Column(String(255), primary_key=True))
    payment_intent_id: str = Field(
        sa_column=Column(
            String(255),
            ForeignKey("stripe_payment.payment_intent_id"),
            nullable=False,
            index=True,
        )
    )
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    credits: int = Field(sa_column=Column(BigInteger, nullable=False))
    # A refund that failed or was canceled gives its credits back and stops counting.
    failed: bool = Field(default=False, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
