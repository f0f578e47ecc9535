"""payments and supplier documents

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supplierdocument',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['saleschannel.id'], name=op.f('fk_supplierdocument_channel_id_saleschannel')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplierdocument')),
    sa.UniqueConstraint('channel_id', 'kind', name=op.f('uq_supplierdocument_channel_id_kind'))
    )
    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('payment_type_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('captured_elsewhere', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('received_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['payment_type_id'], ['paymenttype.id'], name=op.f('fk_payment_payment_type_id_paymenttype')),
    sa.ForeignKeyConstraint(['sale_id'], ['websale.id'], name=op.f('fk_payment_sale_id_websale')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_sale_id'), ['sale_id'], unique=False)

    with op.batch_alter_table('websale', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capture_error', sa.Text(), nullable=True))

    # The payment types every shop starts with; each maps to an accounting account. The online
    # card payment is card-not-present and goes to the web merchant account's own account.
    payment_type = sa.table('paymenttype', sa.column('name', sa.String), sa.column('account', sa.String),
                            sa.column('card_present', sa.Boolean), sa.column('online', sa.Boolean),
                            sa.column('active', sa.Boolean), sa.column('version', sa.Integer))
    defaults = [
        ("Online card", "Online merchant account", False, True),
        ("PayPal", "PayPal", False, True),
        ("In-store card", "Card terminal merchant account", True, False),
        ("Cash", "Cash drawer", False, False),
        ("Gift card", "Gift card liability", False, False),
    ]
    op.bulk_insert(payment_type, [
        {"name": name, "account": account, "card_present": present, "online": online, "active": True, "version": 1}
        for name, account, present, online in defaults
    ])



def downgrade() -> None:
    with op.batch_alter_table('websale', schema=None) as batch_op:
        batch_op.drop_column('capture_error')

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_sale_id'))

    op.drop_table('payment')
    op.drop_table('supplierdocument')
