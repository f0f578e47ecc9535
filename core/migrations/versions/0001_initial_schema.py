"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('auditlog',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('client', sa.String(length=100), nullable=True),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('entity', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.String(length=100), nullable=True),
    sa.Column('field', sa.String(length=50), nullable=True),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auditlog'))
    )
    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.create_index('ix_auditlog_entity_entity_id', ['entity', 'entity_id'], unique=False)

    op.create_table('location',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location')),
    sa.UniqueConstraint('name', name=op.f('uq_location_name'))
    )
    op.create_table('paymenttype',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('card_present', sa.Boolean(), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paymenttype')),
    sa.UniqueConstraint('name', name=op.f('uq_paymenttype_name'))
    )
    op.create_table('poscustomer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poscustomer'))
    )
    with op.batch_alter_table('poscustomer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poscustomer_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_poscustomer_phone'), ['phone'], unique=False)

    op.create_table('product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('brand', sa.String(length=100), nullable=True),
    sa.Column('barcode_raw', sa.String(length=64), nullable=True),
    sa.Column('gtin14', sa.String(length=14), nullable=True),
    sa.Column('barcode_status', sa.String(length=10), nullable=True),
    sa.Column('part_number', sa.String(length=64), nullable=True),
    sa.Column('part_number_key', sa.String(length=64), nullable=True),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('msrp', sa.BigInteger(), nullable=True),
    sa.Column('non_inventory', sa.Boolean(), nullable=False),
    sa.Column('gift_card_placeholder', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product')),
    sa.UniqueConstraint('sku', name=op.f('uq_product_sku'))
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index('ix_product_gtin14', ['gtin14'], unique=False)
        batch_op.create_index('ix_product_part_number_key', ['part_number_key'], unique=False)

    op.create_table('saleschannel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('safety_buffer', sa.Integer(), nullable=False),
    sa.Column('settings_json', sa.Text(), nullable=False),
    sa.Column('supplier_fulfillment', sa.Boolean(), nullable=False),
    sa.Column('supplier_location_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_saleschannel_location_id_location')),
    sa.ForeignKeyConstraint(['supplier_location_id'], ['location.id'], name=op.f('fk_saleschannel_supplier_location_id_location')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saleschannel')),
    sa.UniqueConstraint('name', name=op.f('uq_saleschannel_name'))
    )
    op.create_table('stock',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('committed', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_stock_location_id_location')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_product_id_product')),
    sa.PrimaryKeyConstraint('product_id', 'location_id', name=op.f('pk_stock'))
    )
    op.create_table('synccursor',
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['saleschannel.id'], name=op.f('fk_synccursor_channel_id_saleschannel')),
    sa.PrimaryKeyConstraint('channel_id', 'name', name=op.f('pk_synccursor'))
    )
    op.create_table('syncrun',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('counts_json', sa.Text(), nullable=False),
    sa.Column('started_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['saleschannel.id'], name=op.f('fk_syncrun_channel_id_saleschannel')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_syncrun'))
    )
    with op.batch_alter_table('syncrun', schema=None) as batch_op:
        batch_op.create_index('ix_syncrun_started_at', ['started_at'], unique=False)

    op.create_table('weblisting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('external_product_id', sa.String(length=100), nullable=True),
    sa.Column('inventory_item_id', sa.String(length=100), nullable=True),
    sa.Column('product_code', sa.String(length=64), nullable=True),
    sa.Column('barcode_raw', sa.String(length=64), nullable=True),
    sa.Column('gtin14', sa.String(length=14), nullable=True),
    sa.Column('part_number', sa.String(length=64), nullable=True),
    sa.Column('part_number_key', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=True),
    sa.Column('match_state', sa.String(length=20), nullable=False),
    sa.Column('remote_updated_at', sa.DateTime(), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['saleschannel.id'], name=op.f('fk_weblisting_channel_id_saleschannel')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weblisting')),
    sa.UniqueConstraint('channel_id', 'external_id', name=op.f('uq_weblisting_channel_id_external_id'))
    )
    with op.batch_alter_table('weblisting', schema=None) as batch_op:
        batch_op.create_index('ix_weblisting_channel_id_gtin14', ['channel_id', 'gtin14'], unique=False)
        batch_op.create_index('ix_weblisting_channel_id_match_state', ['channel_id', 'match_state'], unique=False)
        batch_op.create_index('ix_weblisting_channel_id_part_number_key', ['channel_id', 'part_number_key'], unique=False)
        batch_op.create_index('ix_weblisting_channel_id_product_code', ['channel_id', 'product_code'], unique=False)

    op.create_table('websale',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('order_number', sa.String(length=50), nullable=False),
    sa.Column('state', sa.String(length=30), nullable=False),
    sa.Column('remote_status', sa.String(length=50), nullable=True),
    sa.Column('fulfillment', sa.String(length=20), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('shipped_at', sa.DateTime(), nullable=True),
    sa.Column('held_until', sa.DateTime(), nullable=True),
    sa.Column('customer_name', sa.String(length=200), nullable=True),
    sa.Column('customer_email', sa.String(length=254), nullable=True),
    sa.Column('customer_phone', sa.String(length=40), nullable=True),
    sa.Column('billing_address', sa.Text(), nullable=True),
    sa.Column('shipping_address', sa.Text(), nullable=True),
    sa.Column('pos_customer_id', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('subtotal', sa.BigInteger(), nullable=False),
    sa.Column('shipping_charged', sa.BigInteger(), nullable=False),
    sa.Column('shipping_tax_rate', sa.BigInteger(), nullable=False),
    sa.Column('shipping_tax', sa.BigInteger(), nullable=False),
    sa.Column('tax_total', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('authorized_amount', sa.BigInteger(), nullable=False),
    sa.Column('captured_amount', sa.BigInteger(), nullable=False),
    sa.Column('payment_type_id', sa.Integer(), nullable=True),
    sa.Column('ordered_at', sa.DateTime(), nullable=False),
    sa.Column('remote_updated_at', sa.DateTime(), nullable=True),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('completed_by', sa.String(length=100), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['saleschannel.id'], name=op.f('fk_websale_channel_id_saleschannel')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_websale_location_id_location')),
    sa.ForeignKeyConstraint(['payment_type_id'], ['paymenttype.id'], name=op.f('fk_websale_payment_type_id_paymenttype')),
    sa.ForeignKeyConstraint(['pos_customer_id'], ['poscustomer.id'], name=op.f('fk_websale_pos_customer_id_poscustomer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_websale')),
    sa.UniqueConstraint('channel_id', 'external_id', name=op.f('uq_websale_channel_id_external_id'))
    )
    with op.batch_alter_table('websale', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websale_customer_email'), ['customer_email'], unique=False)
        batch_op.create_index(batch_op.f('ix_websale_order_number'), ['order_number'], unique=False)
        batch_op.create_index('ix_websale_state_ordered_at', ['state', 'ordered_at'], unique=False)

    op.create_table('productlink',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('manual', sa.Boolean(), nullable=False),
    sa.Column('linked_by', sa.String(length=100), nullable=False),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.Column('last_exported_quantity', sa.Integer(), nullable=True),
    sa.Column('last_exported_price', sa.BigInteger(), nullable=True),
    sa.Column('last_exported_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['saleschannel.id'], name=op.f('fk_productlink_channel_id_saleschannel')),
    sa.ForeignKeyConstraint(['listing_id'], ['weblisting.id'], name=op.f('fk_productlink_listing_id_weblisting')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_productlink_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_productlink')),
    sa.UniqueConstraint('listing_id', name=op.f('uq_productlink_listing_id'))
    )
    with op.batch_alter_table('productlink', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_productlink_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_productlink_product_id'), ['product_id'], unique=False)

    op.create_table('salereturn',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('payment_type_id', sa.Integer(), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('refund_total', sa.BigInteger(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_salereturn_location_id_location')),
    sa.ForeignKeyConstraint(['payment_type_id'], ['paymenttype.id'], name=op.f('fk_salereturn_payment_type_id_paymenttype')),
    sa.ForeignKeyConstraint(['sale_id'], ['websale.id'], name=op.f('fk_salereturn_sale_id_websale')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salereturn')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_salereturn_idempotency_key'))
    )
    with op.batch_alter_table('salereturn', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_salereturn_sale_id'), ['sale_id'], unique=False)

    op.create_table('websaleline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('product_code', sa.String(length=64), nullable=True),
    sa.Column('barcode_raw', sa.String(length=64), nullable=True),
    sa.Column('gtin14', sa.String(length=14), nullable=True),
    sa.Column('part_number', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('tax_rate', sa.BigInteger(), nullable=False),
    sa.Column('tax_amount', sa.BigInteger(), nullable=False),
    sa.Column('stock_state', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['weblisting.id'], name=op.f('fk_websaleline_listing_id_weblisting')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_websaleline_product_id_product')),
    sa.ForeignKeyConstraint(['sale_id'], ['websale.id'], name=op.f('fk_websaleline_sale_id_websale')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_websaleline')),
    sa.UniqueConstraint('sale_id', 'external_id', name=op.f('uq_websaleline_sale_id_external_id'))
    )
    with op.batch_alter_table('websaleline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websaleline_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_websaleline_product_id'), ['product_id'], unique=False)

    op.create_table('giftcard',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('sale_line_id', sa.Integer(), nullable=True),
    sa.Column('issued_by', sa.String(length=100), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sale_line_id'], ['websaleline.id'], name=op.f('fk_giftcard_sale_line_id_websaleline')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_giftcard')),
    sa.UniqueConstraint('number', name=op.f('uq_giftcard_number')),
    sa.UniqueConstraint('sale_line_id', name=op.f('uq_giftcard_sale_line_id'))
    )
    op.create_table('returnline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('sale_line_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('tax_rate', sa.BigInteger(), nullable=False),
    sa.Column('charged_tax_rate', sa.BigInteger(), nullable=False),
    sa.Column('tax_rate_reason', sa.String(length=200), nullable=True),
    sa.Column('restock', sa.Boolean(), nullable=False),
    sa.Column('is_shipping', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_returnline_product_id_product')),
    sa.ForeignKeyConstraint(['return_id'], ['salereturn.id'], name=op.f('fk_returnline_return_id_salereturn')),
    sa.ForeignKeyConstraint(['sale_line_id'], ['websaleline.id'], name=op.f('fk_returnline_sale_line_id_websaleline')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_returnline'))
    )
    with op.batch_alter_table('returnline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_returnline_return_id'), ['return_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('returnline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_returnline_return_id'))

    op.drop_table('returnline')
    op.drop_table('giftcard')
    with op.batch_alter_table('websaleline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_websaleline_product_id'))
        batch_op.drop_index(batch_op.f('ix_websaleline_listing_id'))

    op.drop_table('websaleline')
    with op.batch_alter_table('salereturn', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_salereturn_sale_id'))

    op.drop_table('salereturn')
    with op.batch_alter_table('productlink', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_productlink_product_id'))
        batch_op.drop_index(batch_op.f('ix_productlink_channel_id'))

    op.drop_table('productlink')
    with op.batch_alter_table('websale', schema=None) as batch_op:
        batch_op.drop_index('ix_websale_state_ordered_at')
        batch_op.drop_index(batch_op.f('ix_websale_order_number'))
        batch_op.drop_index(batch_op.f('ix_websale_customer_email'))

    op.drop_table('websale')
    with op.batch_alter_table('weblisting', schema=None) as batch_op:
        batch_op.drop_index('ix_weblisting_channel_id_product_code')
        batch_op.drop_index('ix_weblisting_channel_id_part_number_key')
        batch_op.drop_index('ix_weblisting_channel_id_match_state')
        batch_op.drop_index('ix_weblisting_channel_id_gtin14')

    op.drop_table('weblisting')
    with op.batch_alter_table('syncrun', schema=None) as batch_op:
        batch_op.drop_index('ix_syncrun_started_at')

    op.drop_table('syncrun')
    op.drop_table('synccursor')
    op.drop_table('stock')
    op.drop_table('saleschannel')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index('ix_product_part_number_key')
        batch_op.drop_index('ix_product_gtin14')

    op.drop_table('product')
    with op.batch_alter_table('poscustomer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poscustomer_phone'))
        batch_op.drop_index(batch_op.f('ix_poscustomer_email'))

    op.drop_table('poscustomer')
    op.drop_table('paymenttype')
    op.drop_table('location')
    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.drop_index('ix_auditlog_entity_entity_id')

    op.drop_table('auditlog')
