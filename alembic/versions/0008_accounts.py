"""Accounts people can trust: verified emails, one-time email links, session activity.

Users that exist before this revision are marked verified as of their creation: they could
already log in, and locking them out would help nobody. ADMIN_EMAILS never set `is_admin`
in the database, so dropping it removes no stored right. Sessions get `last_seen_at` (their
creation time) for the idle timeout, and an empty user agent.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the changes."""
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE app_user SET email_verified_at = created_at")
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True)))
        batch_op.add_column(
            sa.Column("user_agent", sa.String(length=255), server_default="", nullable=False)
        )
    op.execute("UPDATE auth_session SET last_seen_at = created_at")
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.alter_column(
            "last_seen_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
    op.create_table(
        "email_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_email_token_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_email_token_token_hash")),
    )
    with op.batch_alter_table("email_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_token_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    """Revert the changes."""
    with op.batch_alter_table("email_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_token_user_id"))
    op.drop_table("email_token")
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_column("user_agent")
        batch_op.drop_column("last_seen_at")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")
