"""the words web sales and POS customers are found by; a scanned barcode finds a sale's line

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'searchterm',
        sa.Column('entity', sa.String(length=20), nullable=False),
        sa.Column('term', sa.String(length=100).with_variant(sa.String(length=100, collation='C'), 'postgresql'),
                  nullable=False),
        sa.Column('entity_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('entity', 'term', 'entity_id', name=op.f('pk_searchterm')),
    )
    op.create_index('ix_searchterm_entity_entity_id', 'searchterm', ['entity', 'entity_id'])
    op.create_index(op.f('ix_websaleline_gtin14'), 'websaleline', ['gtin14'])
    # core.db.migrate writes the words of the sales and customers already stored, after this.


def downgrade() -> None:
    op.drop_index(op.f('ix_websaleline_gtin14'), table_name='websaleline')
    op.drop_index('ix_searchterm_entity_entity_id', table_name='searchterm')
    op.drop_table('searchterm')
