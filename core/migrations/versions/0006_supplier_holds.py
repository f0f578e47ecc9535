"""why a sale waits for a person; how it got its POS customer; supplier documents' end dates and references; retired locations

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An order tagged supplier-shipped that Tandem may not treat so (supplier fulfilment off, or a
    # document lapsed) waits for a person, with the reason, committing nothing.
    with op.batch_alter_table('websale', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_reason', sa.Text(), nullable=True))
        # How the sale got its POS customer: a person, or the rules (one POS customer with its email,
        # or the customer a person linked for the same email before).
        batch_op.add_column(sa.Column('customer_link', sa.String(length=10), nullable=True))
    # A retailer contract is "current" until its end date.
    with op.batch_alter_table('supplierdocument', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ends_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reference', sa.String(length=500), nullable=True))
    # A location the shop no longer uses is retired, never deleted: its history stays.
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_column('active')
    with op.batch_alter_table('supplierdocument', schema=None) as batch_op:
        batch_op.drop_column('reference')
        batch_op.drop_column('ends_on')
    with op.batch_alter_table('websale', schema=None) as batch_op:
        batch_op.drop_column('customer_link')
        batch_op.drop_column('hold_reason')
