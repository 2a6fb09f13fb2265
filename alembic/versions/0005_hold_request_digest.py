"""Holds: remember a digest of the request details, so a reused key with others conflicts.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the changes."""
    with op.batch_alter_table("credit_hold", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_digest", sa.String(length=255), nullable=True))


def downgrade() -> None:
    """Revert the changes."""
    with op.batch_alter_table("credit_hold", schema=None) as batch_op:
        batch_op.drop_column("request_digest")
