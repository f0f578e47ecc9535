"""what each posted return line refunded; sale lines given their product by hand

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A posted return keeps what each line refunded: a later return's share of the same line's tax
    # must never change what an earlier one shows (money is stored in cents).
    with op.batch_alter_table('returnline', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refunded_net', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('refunded_tax', sa.BigInteger(), nullable=True))
    # A line a person put on a product is theirs: undoing a listing's link leaves it alone.
    with op.batch_alter_table('websaleline', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_by_hand', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('websaleline', schema=None) as batch_op:
        batch_op.drop_column('product_by_hand')
    with op.batch_alter_table('returnline', schema=None) as batch_op:
        batch_op.drop_column('refunded_tax')
        batch_op.drop_column('refunded_net')
