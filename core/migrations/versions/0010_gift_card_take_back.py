"""gift cards: what a refund or a cancel took back from a card, and when it was voided

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A refund or a cancel of a sale that issued a card takes back what is left on it first
    # (money is stored in cents): the card's record says how much, when, and by whom.
    with op.batch_alter_table('giftcard', schema=None) as batch_op:
        batch_op.add_column(sa.Column('taken_back', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('voided_by', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('giftcard', schema=None) as batch_op:
        batch_op.drop_column('voided_by')
        batch_op.drop_column('voided_at')
        batch_op.drop_column('taken_back')
