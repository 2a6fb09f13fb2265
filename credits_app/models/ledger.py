"""The credit ledger: accounts with their balance row, append-only entries, holds, usage."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from credits_app.models.base import BigIntId, UTCDateTime, utcnow


class EntryKind(StrEnum):
    """What a ledger entry did; corrections are new entries of these kinds."""

    GRANT = "grant"
    SPEND = "spend"
    CLAWBACK = "clawback"
    ADJUSTMENT = "adjustment"
    HOLD = "hold"
    CAPTURE = "capture"
    RELEASE = "release"
    EXPIRE = "expire"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"


class HoldStatus(StrEnum):
    """Life cycle of a hold: active until captured, released or expired, exactly once."""

    ACTIVE = "active"
    CAPTURED = "captured"
    RELEASED = "released"
    EXPIRED = "expired"


class CreditAccount(SQLModel, table=True):
    """The balance row: one per user today, team pools later (user_id NULL, kind 'team').

    It is updated in the same transaction as every entry, so reading a balance is one row.
    The database itself refuses a negative balance, held above balance, or negative debt.
    """

    __tablename__ = "credit_account"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("held >= 0 AND held <= balance", name="held_within_balance"),
        CheckConstraint("debt >= 0", name="debt_not_negative"),
        UniqueConstraint("owner_type", "owner_id", name="uq_credit_account_owner"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"), unique=True)
    )
    kind: str = Field(default="user", sa_column=Column(String(16), nullable=False))
    # Who owns the pool: ('user', user id) today; ('org', org id) for team pools later.
    owner_type: str = Field(
        default="user", sa_column=Column(String(16), nullable=False, server_default="user")
    )
    owner_id: int | None = Field(default=None, sa_column=Column(Integer))
    balance: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    held: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    debt: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class CreditHold(SQLModel, table=True):
    """Credits reserved for work whose cost is known only afterwards."""

    __tablename__ = "credit_hold"
    __table_args__ = (
        UniqueConstraint("account_id", "idempotency_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("managed_by IN ('api', 'ai-run')", name="managed_by_known"),
        Index("ix_credit_hold_status_expires_at", "status", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("credit_account.id"), nullable=False, index=True)
    )
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("app_user.id")))
    feature: str = Field(sa_column=Column(String(64), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    captured: int | None = Field(default=None, sa_column=Column(BigInteger))
    status: str = Field(default=HoldStatus.ACTIVE, sa_column=Column(String(16), nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Digests of request details beyond amount and feature (e.g. an AI prompt), "name=hex;...":
    # a reused idempotency key with other details is a conflict, not a replay.
    request_digest: str | None = Field(default=None, sa_column=Column(String(255)))
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What the work produced, kept so a retry with the same key replays it instead of rerunning.
    result: str | None = Field(default=None, sa_column=Column(Text))
    # Who settles the hold: 'api' (its client, through the public capture/release routes) or
    # 'ai-run' (only the AI run that reserved it; the public routes refuse it). Expiry frees both.
    managed_by: str = Field(
        default="api",
        sa_column=Column(String(16), nullable=False, server_default="api"),
    )
    # How the work ended, for replays: 'finished', or why it stopped early ('disconnected',
    # 'provider_error', 'provider_timeout', 'hold_expired'). NULL while running or outside AI runs.
    outcome: str | None = Field(default=None, sa_column=Column(String(32)))


class LedgerEntry(SQLModel, table=True):
    """One append-only ledger line. Never updated, never deleted.

    `delta`, `held_delta` and `debt_delta` are the changes this entry made to the account's
    balance, held credits and debt; the `*_after` columns are the account's values right
    after it. `amount` is what was asked for (positive), kept to detect idempotency
    conflicts. (account_id, kind, idempotency_key) is unique forever; so is (kind, source,
    source_ref), which stops one Stripe object from granting or clawing back twice.
    """

    __tablename__ = "credit_ledger"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "idempotency_key"),
        UniqueConstraint("kind", "source", "source_ref"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        CheckConstraint("held_after >= 0", name="held_after_not_negative"),
        CheckConstraint("debt_after >= 0", name="debt_after_not_negative"),
        Index("ix_credit_ledger_account_id_id", "account_id", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("credit_account.id"), nullable=False)
    )
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("app_user.id")))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    delta: int = Field(sa_column=Column(BigInteger, nullable=False))
    held_delta: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    debt_delta: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    balance_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    held_after: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    debt_after: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    idempotency_key: str = Field(sa_column=Column(String(255), nullable=False))
    feature: str | None = Field(default=None, sa_column=Column(String(64)))
    reason: str | None = Field(default=None, sa_column=Column(String(255)))
    source: str = Field(sa_column=Column(String(32), nullable=False))
    source_ref: str | None = Field(default=None, sa_column=Column(String(255)))
    actor_user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"))
    )
    hold_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("credit_hold.id"), index=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class UsageEvent(SQLModel, table=True):
    """A feature's use of credits, recorded with the spend that paid for it."""

    __tablename__ = "usage_event"
    __table_args__ = (Index("ix_usage_event_user_id_created_at", "user_id", "created_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=False))
    feature: str = Field(sa_column=Column(String(64), nullable=False))
    credits: int = Field(sa_column=Column(BigInteger, nullable=False))
    entry_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("credit_ledger.id"), nullable=False, unique=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
