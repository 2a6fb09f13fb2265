"""The webhook event log: one row per verified Stripe delivery, and per admin re-application."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from credits_app.models.base import BigIntId, UTCDateTime, utcnow

# How a delivery ended: the webhook's outcome, or `failed` when it answered 5xx.
DELIVERY_OUTCOMES = ("applied", "duplicate", "ignored", "failed")


class WebhookDelivery(SQLModel, table=True):
    """One delivery the webhook endpoint verified, or one re-application by an admin.

    Deliveries whose signature fails are never stored (anyone can send those, as many as
    they like); they are counted as `rejected` in the metrics and logged. Rows are pruned
    after WEBHOOK_LOG_RETENTION_DAYS; `stripe_event`, the exactly-once keys, never is.

    Attributes:
        outcome: `applied`, `duplicate`, `ignored`, or `failed` (answered 5xx).
        error: Why it failed, in a few readable words (secrets redacted, truncated).
        payload: The verified event as received (JSON), kept for failed deliveries only:
            the one thing it is needed for is re-applying them.
        reapplied_by: The admin who re-applied a failed delivery (this row is that run).
        reapply_of: The failed delivery this row re-applied (NULL once that one is pruned).
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('applied', 'duplicate', 'ignored', 'failed')", name="outcome_known"
        ),
        Index("ix_webhook_delivery_outcome_received_at", "outcome", "received_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    event_id: str = Field(sa_column=Column(String(255), nullable=False, index=True))
    type: str = Field(sa_column=Column(String(128), nullable=False))
    object_id: str | None = Field(default=None, sa_column=Column(String(255), index=True))
    api_version: str | None = Field(default=None, sa_column=Column(String(32)))
    received_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True
    )
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    error: str | None = Field(default=None, sa_column=Column(String(500)))
    duration_ms: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    payload: str | None = Field(default=None, sa_column=Column(Text))
    reapplied_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"))
    )
    reapply_of: int | None = Field(
        default=None,
        sa_column=Column(
            BigIntId, ForeignKey("webhook_delivery.id", ondelete="SET NULL"), index=True
        ),
    )
