"""listing change tracking; sale lines keep the part number's comparison key; product search text

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing listings count as changed now, so the next matching run looks at all of them.
    with op.batch_alter_table('weblisting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=False,
                                      server_default=sa.func.current_timestamp()))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('weblisting', schema=None) as batch_op:
        batch_op.alter_column('updated_at', server_default=None)
        batch_op.alter_column('version', server_default=None)
    with op.batch_alter_table('websaleline', schema=None) as batch_op:
        batch_op.add_column(sa.Column('part_number_key', sa.String(length=64), nullable=True))
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))
    op.execute(
        "UPDATE product SET search_text = lower(sku || ' ' || coalesce(part_number, '') || ' '"
        " || coalesce(brand, '') || ' ' || description)"
    )


def downgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('search_text')
    with op.batch_alter_table('websaleline', schema=None) as batch_op:
        batch_op.drop_column('part_number_key')
    with op.batch_alter_table('weblisting', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('updated_at')
