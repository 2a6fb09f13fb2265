"""Billing: refunds already clawed back, one row per Stripe refund id.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the changes."""
    op.create_table(
        "stripe_refund",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_intent_id"],
            ["stripe_payment.payment_intent_id"],
            name=op.f("fk_stripe_refund_payment_intent_id_stripe_payment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_refund")),
    )
    with op.batch_alter_table("stripe_refund", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stripe_refund_payment_intent_id"), ["payment_intent_id"], unique=False
        )


def downgrade() -> None:
    """Revert the changes."""
    with op.batch_alter_table("stripe_refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stripe_refund_payment_intent_id"))
    op.drop_table("stripe_refund")
