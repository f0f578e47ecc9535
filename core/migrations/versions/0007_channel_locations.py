"""the shop locations a web store sells and their store locations; what each store location last accepted; supplier documents per brand

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A web store may sell the stock of several shops (pickup at any of them): each shop location
    # maps to the store's own location (a Shopify location id, a WooCommerce pickup location name).
    op.create_table(
        'channellocation',
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('store_location', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['channel_id'], ['saleschannel.id'],
                                name=op.f('fk_channellocation_channel_id_saleschannel')),
        sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_channellocation_location_id_location')),
        sa.PrimaryKeyConstraint('channel_id', 'location_id', name=op.f('pk_channellocation')),
    )
    # The export sends only what changed, per store location: the primary's mark stays on the link.
    op.create_table(
        'exportedstock',
        sa.Column('link_id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('exported_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['link_id'], ['productlink.id'], name=op.f('fk_exportedstock_link_id_productlink'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_exportedstock_location_id_location')),
        sa.PrimaryKeyConstraint('link_id', 'location_id', name=op.f('pk_exportedstock')),
    )


    # A web store with several suppliers keeps each brand's signed documents; "" is every brand.
    with op.batch_alter_table('supplierdocument', schema=None) as batch_op:
        batch_op.add_column(sa.Column('brand', sa.String(length=100), nullable=False, server_default=''))
        batch_op.drop_constraint('uq_supplierdocument_channel_id_kind', type_='unique')
        batch_op.create_unique_constraint('uq_supplierdocument_channel_id_brand_kind', ['channel_id', 'brand', 'kind'])


def downgrade() -> None:
    with op.batch_alter_table('supplierdocument', schema=None) as batch_op:
        batch_op.drop_constraint('uq_supplierdocument_channel_id_brand_kind', type_='unique')
        batch_op.drop_column('brand')
        batch_op.create_unique_constraint('uq_supplierdocument_channel_id_kind', ['channel_id', 'kind'])
    op.drop_table('exportedstock')
    op.drop_table('channellocation')
