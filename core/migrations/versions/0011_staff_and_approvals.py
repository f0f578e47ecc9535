"""staff: who works at the counter, their role and PIN; the audit says who approved an action

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'staff',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('pin_hash', sa.String(length=200), nullable=True),
        sa.Column('failed_pins', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.Column('added_by', sa.String(length=100), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=True),
        sa.Column('changed_by', sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_by', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.drop_column('approved_by')
    op.drop_table('staff')
