"""Admins' decisions about reconciliation drift that a repair cannot fix."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from credits_app.models.base import UTCDateTime, utcnow


class ReconcileDecision(SQLModel, table=True):
    """One admin's decision about one drift (its kind and Stripe object), made once.

    `decision` is `accept` (the drift is known and intended; nothing is written to the
    ledger) or `clawback` (the excess credits were taken back by `entry_id`, in the same
    transaction as this row). The row stays as history when the drift later disappears.
    """

    __tablename__ = "reconcile_decision"
    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        CheckConstraint("decision IN ('accept', 'clawback')", name="decision_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    object_id: str = Field(sa_column=Column(String(255), nullable=False))
    decision: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str = Field(sa_column=Column(String(255), nullable=False))
    admin_user_id: int = Field(sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=False))
    # The drift as it was when decided: whose, and what it said.
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("app_user.id")))
    detail: str = Field(sa_column=Column(Text, nullable=False))
    # A clawback's credits and ledger entry; NULL for an acceptance.
    credits: int | None = Field(default=None, sa_column=Column(BigInteger))
    entry_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("credit_ledger.id"))
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
