"""Live balance updates on PostgreSQL: NOTIFY credits_balance on every ledger insert.

The notification is sent when the writing transaction commits, so listeners (every web
worker) never see an uncommitted balance and no writer has to remember to publish.
On SQLite nothing changes: web workers poll the ledger's newest id instead.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE OR REPLACE FUNCTION credits_notify_balance() RETURNS trigger AS $$
BEGIN
    IF NEW.user_id IS NOT NULL THEN
        PERFORM pg_notify('credits_balance', NEW.user_id::text);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
TRIGGER = """
CREATE TRIGGER credit_ledger_notify_balance AFTER INSERT ON credit_ledger
FOR EACH ROW EXECUTE FUNCTION credits_notify_balance()
"""


def upgrade() -> None:
    """Add the NOTIFY trigger (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute(TRIGGER)


def downgrade() -> None:
    """Drop the trigger and its function."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS credit_ledger_notify_balance ON credit_ledger")
    op.execute("DROP FUNCTION IF EXISTS credits_notify_balance()")
