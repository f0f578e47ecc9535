"""an index on the SKU without capitals

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A catalog import refuses a SKU that is an existing one with other capitals; this index keeps
    # that check a join, not a scan per row.
    op.create_index('ix_product_sku_folded', 'product', [sa.text('lower(sku)')])


def downgrade() -> None:
    op.drop_index('ix_product_sku_folded', table_name='product')
