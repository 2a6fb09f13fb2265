"""Holds: who settles them (the API client or the AI run) and how an AI run ended.

Holds of the AI flow are settled only by the run itself, which charges what it delivered;
the public capture/release routes refuse them. Existing holds become 'api' holds.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the changes."""
    with op.batch_alter_table("credit_hold", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("managed_by", sa.String(length=16), server_default="api", nullable=False)
        )
        batch_op.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_credit_hold_managed_by_known"), "managed_by IN ('api', 'ai-run')"
        )


def downgrade() -> None:
    """Revert the changes."""
    with op.batch_alter_table("credit_hold", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_credit_hold_managed_by_known"), type_="check")
        batch_op.drop_column("outcome")
        batch_op.drop_column("managed_by")
