"""Admins' decisions about reconciliation drift: accepted as intended, or clawed back.

One row per drift (its kind and Stripe object), made once: a second decision about the same
drift finds the first. A clawback names the ledger entry that took the credits back.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the changes."""
    op.create_table(
        "reconcile_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("admin_user_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('accept', 'clawback')", name="ck_reconcile_decision_decision_known"
        ),
        sa.ForeignKeyConstraint(["admin_user_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["credit_ledger.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "object_id", name="uq_reconcile_decision_kind_object_id"),
    )


def downgrade() -> None:
    """Revert the changes."""
    op.drop_table("reconcile_decision")
