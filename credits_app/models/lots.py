"""Credit lots: every grant is a lot with its own window, category and priority.

A lot's `remaining` changes only through allocation rows (draws are negative, returns
positive), so replaying a lot's allocations from its `amount` reproduces `remaining`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from credits_app.models.base import BigIntId, UTCDateTime, utcnow


class LotCategory(StrEnum):
    """Paid credits were bought; promotional ones were given (promotions, trials)."""

    PAID = "paid"
    PROMOTIONAL = "promotional"


class LotSource(StrEnum):
    """Where a lot came from."""

    PURCHASE = "purchase"  # a pack, or a plan's prorated change
    PLAN_PERIOD = "plan_period"  # a plan's credits for one billing period
    ADMIN = "admin"
    PROMOTION = "promotion"  # e.g. the sign-up credits
    TRIAL = "trial"
    ROLLOVER = "rollover"  # what a plan period carried over into the next
    RESTORE = "restore"  # given back: a won dispute, a failed refund
    MIGRATED = "migrated"  # the balance a user had before lots existed


class CreditLot(SQLModel, table=True):
    """Credits granted together, spendable while `effective_at <= now < expires_at`."""

    __tablename__ = "credit_lot"
    __table_args__ = (
        CheckConstraint("amount > 0", name="lot_amount_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_within_amount"),
        CheckConstraint("category IN ('paid', 'promotional')", name="lot_category_known"),
        CheckConstraint(
            "expires_at IS NULL OR expires_at > effective_at", name="lot_window_not_empty"
        ),
        # The burn-order scan reads only lots with credits left.
        Index(
            "ix_credit_lot_live",
            "account_id",
            "priority",
            "expires_at",
            sqlite_where=text("remaining > 0"),
            postgresql_where=text("remaining > 0"),
        ),
        # Read with every write's account lock: is a lot due, and what waits to start.
        Index(
            "ix_credit_lot_due",
            "account_id",
            "expires_at",
            sqlite_where=text("remaining > 0"),
            postgresql_where=text("remaining > 0"),
        ),
        Index(
            "ix_credit_lot_starts",
            "account_id",
            "effective_at",
            sqlite_where=text("remaining > 0"),
            postgresql_where=text("remaining > 0"),
        ),
        Index("ix_credit_lot_funded_by", "funded_by"),
        # Lots granted to start later: what a replayed write had waiting is one short read.
        Index(
            "ix_credit_lot_scheduled",
            "account_id",
            "effective_at",
            sqlite_where=text("effective_at > created_at"),
            postgresql_where=text("effective_at > created_at"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("credit_account.id"), nullable=False)
    )
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("app_user.id")))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    remaining: int = Field(sa_column=Column(BigInteger, nullable=False))
    category: str = Field(default=LotCategory.PAID, sa_column=Column(String(16), nullable=False))
    priority: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    effective_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    source: str = Field(sa_column=Column(String(16), nullable=False))
    # The Stripe object (checkout session or invoice) whose money funded the lot, if any.
    funded_by: str | None = Field(default=None, sa_column=Column(String(255)))
    # The grant entry that created it (NULL for the lot a migrated balance became).
    entry_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("credit_ledger.id"), index=True)
    )
    # For plan periods that roll over: at most this many unused credits carry into a new lot.
    rollover_max: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class LotAllocation(SQLModel, table=True):
    """How one ledger entry moved one lot: negative draws, positive returns."""

    __tablename__ = "lot_allocation"
    __table_args__ = (CheckConstraint("amount <> 0", name="allocation_not_zero"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    lot_id: int = Field(
        sa_column=Column(Integer, ForeignKey("credit_lot.id"), nullable=False, index=True)
    )
    entry_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("credit_ledger.id"), nullable=False, index=True)
    )
    # The hold whose entries these are, so a hold's pinned lots are one indexed read.
    hold_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("credit_hold.id"), index=True)
    )
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
