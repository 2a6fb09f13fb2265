"""Initial schema: users, credit accounts and ledger, holds, usage, Stripe records.

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 12:18:27.705774
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('email', name=op.f('uq_app_user_email'))
    )
    op.create_table('product',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=1024), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product'))
    )
    op.create_table('stripe_event',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=128), nullable=False),
    sa.Column('stripe_created', sa.BigInteger(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_event'))
    )
    op.create_table('auth_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_auth_session_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_session_token_hash'))
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_user_id'), ['user_id'], unique=False)

    op.create_table('credit_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('held', sa.BigInteger(), nullable=False),
    sa.Column('debt', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('balance >= 0', name=op.f('ck_credit_account_balance_not_negative')),
    sa.CheckConstraint('debt >= 0', name=op.f('ck_credit_account_debt_not_negative')),
    sa.CheckConstraint('held >= 0 AND held <= balance', name=op.f('ck_credit_account_held_within_balance')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_credit_account_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_account')),
    sa.UniqueConstraint('user_id', name=op.f('uq_credit_account_user_id'))
    )
    op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_customer_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer')),
    sa.UniqueConstraint('stripe_customer_id', name=op.f('uq_customer_stripe_customer_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_customer_user_id'))
    )
    op.create_table('price',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('product_id', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('interval', sa.String(length=8), nullable=True),
    sa.Column('interval_count', sa.Integer(), nullable=True),
    sa.Column('unit_amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('included_credits', sa.BigInteger(), nullable=False),
    sa.Column('lookup_key', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_price_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price'))
    )
    with op.batch_alter_table('price', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_product_id'), ['product_id'], unique=False)

    op.create_table('stripe_payment',
    sa.Column('payment_intent_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_ref', sa.String(length=255), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('credits', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_stripe_payment_user_id_app_user')),
    sa.PrimaryKeyConstraint('payment_intent_id', name=op.f('pk_stripe_payment'))
    )
    with op.batch_alter_table('stripe_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stripe_payment_user_id'), ['user_id'], unique=False)

    op.create_table('subscription',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=False),
    sa.Column('price_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('current_period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
    sa.Column('canceled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stripe_state_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_subscription_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription'))
    )
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_user_id'), ['user_id'], unique=False)

    op.create_table('credit_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('feature', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('captured', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_credit_hold_amount_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['credit_account.id'], name=op.f('fk_credit_hold_account_id_credit_account')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_credit_hold_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_hold')),
    sa.UniqueConstraint('account_id', 'idempotency_key', name=op.f('uq_credit_hold_account_id_idempotency_key'))
    )
    with op.batch_alter_table('credit_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_hold_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_credit_hold_status_expires_at', ['status', 'expires_at'], unique=False)

    op.create_table('credit_ledger',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('delta', sa.BigInteger(), nullable=False),
    sa.Column('held_delta', sa.BigInteger(), nullable=False),
    sa.Column('debt_delta', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('held_after', sa.BigInteger(), nullable=False),
    sa.Column('debt_after', sa.BigInteger(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('feature', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_ref', sa.String(length=255), nullable=True),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('hold_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_credit_ledger_amount_positive')),
    sa.CheckConstraint('balance_after >= 0', name=op.f('ck_credit_ledger_balance_after_not_negative')),
    sa.CheckConstraint('debt_after >= 0', name=op.f('ck_credit_ledger_debt_after_not_negative')),
    sa.CheckConstraint('held_after >= 0', name=op.f('ck_credit_ledger_held_after_not_negative')),
    sa.ForeignKeyConstraint(['account_id'], ['credit_account.id'], name=op.f('fk_credit_ledger_account_id_credit_account')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['app_user.id'], name=op.f('fk_credit_ledger_actor_user_id_app_user')),
    sa.ForeignKeyConstraint(['hold_id'], ['credit_hold.id'], name=op.f('fk_credit_ledger_hold_id_credit_hold')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_credit_ledger_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_ledger')),
    sa.UniqueConstraint('account_id', 'kind', 'idempotency_key', name=op.f('uq_credit_ledger_account_id_kind_idempotency_key')),
    sa.UniqueConstraint('kind', 'source', 'source_ref', name=op.f('uq_credit_ledger_kind_source_source_ref'))
    )
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_credit_ledger_account_id_id', ['account_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_ledger_hold_id'), ['hold_id'], unique=False)

    op.create_table('usage_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('feature', sa.String(length=64), nullable=False),
    sa.Column('credits', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['credit_ledger.id'], name=op.f('fk_usage_event_entry_id_credit_ledger')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_usage_event_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_event')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_usage_event_entry_id'))
    )
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.create_index('ix_usage_event_user_id_created_at', ['user_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_event_user_id_created_at')

    op.drop_table('usage_event')
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_ledger_hold_id'))
        batch_op.drop_index('ix_credit_ledger_account_id_id')

    op.drop_table('credit_ledger')
    with op.batch_alter_table('credit_hold', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_hold_status_expires_at')
        batch_op.drop_index(batch_op.f('ix_credit_hold_account_id'))

    op.drop_table('credit_hold')
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_user_id'))

    op.drop_table('subscription')
    with op.batch_alter_table('stripe_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stripe_payment_user_id'))

    op.drop_table('stripe_payment')
    with op.batch_alter_table('price', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_product_id'))

    op.drop_table('price')
    op.drop_table('customer')
    op.drop_table('credit_account')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_user_id'))

    op.drop_table('auth_session')
    op.drop_table('stripe_event')
    op.drop_table('product')
    op.drop_table('app_user')
