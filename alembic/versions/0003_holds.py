"""Holds: keep the output of the work a hold paid for, so an idempotent retry can replay it.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the changes."""
    with op.batch_alter_table("credit_hold", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert the changes."""
    with op.batch_alter_table("credit_hold", schema=None) as batch_op:
        batch_op.drop_column("result")
