"""The webhook event log: `webhook_delivery`, and the object each Stripe event was about.

`stripe_event.object_id` is the id of the event's `data.object` (a checkout session,
invoice, payment intent, subscription, refund or dispute), written by the webhook from now
on, so `explain ENTRY_ID` can list the events that touched an entry's objects. Rows written
before this migration keep NULL: the event's payload was never stored, so there is nothing
to backfill from.

`webhook_delivery` has one row per verified delivery (and per admin re-application of a
failed one): its type, object, outcome, error and duration. Only failed deliveries keep the
verified payload, which is what a re-application runs again. Rows older than
WEBHOOK_LOG_RETENTION_DAYS are pruned; `stripe_event` never is.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add `stripe_event.object_id` and the `webhook_delivery` table."""
    # A plain ADD COLUMN on both databases (a nullable column without a default): SQLite
    # does not rebuild the table.
    op.add_column("stripe_event", sa.Column("object_id", sa.String(length=255), nullable=True))
    op.create_index("ix_stripe_event_object_id", "stripe_event", ["object_id"])

    op.create_table(
        "webhook_delivery",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=True),
        sa.Column("api_version", sa.String(length=32), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("reapplied_by", sa.Integer(), nullable=True),
        sa.Column("reapply_of", BIG_ID, nullable=True),
        sa.CheckConstraint(
            "outcome IN ('applied', 'duplicate', 'ignored', 'failed')", name="outcome_known"
        ),
        sa.ForeignKeyConstraint(["reapplied_by"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["reapply_of"], ["webhook_delivery.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    for name, columns in (
        ("ix_webhook_delivery_event_id", ["event_id"]),
        ("ix_webhook_delivery_object_id", ["object_id"]),
        ("ix_webhook_delivery_received_at", ["received_at"]),
        ("ix_webhook_delivery_outcome_received_at", ["outcome", "received_at"]),
        ("ix_webhook_delivery_reapply_of", ["reapply_of"]),
    ):
        op.create_index(name, "webhook_delivery", columns)


def downgrade() -> None:
    """Drop the table and the column."""
    op.drop_table("webhook_delivery")
    op.drop_index("ix_stripe_event_object_id", table_name="stripe_event")
    with op.batch_alter_table("stripe_event", schema=None) as batch_op:
        batch_op.drop_column("object_id")
