"""channel rules: safety stock, in store only, web prices and their floors, per web store; a
product's category and minimum advertised price; a web sale held back for a person

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

A product's brand, category and minimum advertised price now decide what a store is sent (through
its rules), so a change of them is a 'product' change, not only a screen's: the product table's
update trigger is made again with those columns (columns are added in place, so the other
triggers stay).
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

WATCHED = ("price", "non_inventory", "version", "active", "sku", "description", "brand", "barcode_status",
           "category", "map_price")
TO_STORES = ("price", "non_inventory", "brand", "category", "map_price")
BEFORE = ("price", "non_inventory")  # 0012's
HELD_BACK_CONDITION = "held_back_reason IS NOT NULL"  # as core.models has it today


def _product_update_trigger(to_stores, watched) -> list[str]:
    if op.get_bind().dialect.name == "postgresql":
        moved = " OR ".join(f"o.{column} IS DISTINCT FROM n.{column}" for column in to_stores)
        changed = " OR ".join(f"o.{column} IS DISTINCT FROM n.{column}" for column in watched)
        return [
            "DROP TRIGGER IF EXISTS tandem_change_product_update ON product",
            "CREATE OR REPLACE FUNCTION tandem_change_product_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO change (kind, product_id, channel_id) SELECT CASE WHEN {moved} THEN 'product' "
            f"ELSE 'catalog' END, n.id, NULL FROM added n JOIN removed o ON o.id = n.id WHERE {changed}; "
            "RETURN NULL; END $$",
            "CREATE TRIGGER tandem_change_product_update AFTER UPDATE ON product "
            "REFERENCING OLD TABLE AS removed NEW TABLE AS added "
            "FOR EACH STATEMENT EXECUTE FUNCTION tandem_change_product_update()",
        ]
    moved = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in to_stores)
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in watched)
    return [
        "DROP TRIGGER IF EXISTS tandem_change_product_update",
        f"CREATE TRIGGER tandem_change_product_update AFTER UPDATE ON product WHEN {changed} "
        f"BEGIN INSERT INTO change (kind, product_id, channel_id) VALUES "
        f"(CASE WHEN {moved} THEN 'product' ELSE 'catalog' END, NEW.id, NULL); END",
    ]


def upgrade() -> None:
    op.create_table(
        'channelrule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('family', sa.String(length=20), nullable=False),
        sa.Column('scope', sa.String(length=20), nullable=False),
        sa.Column('target', sa.String(length=100), nullable=False),
        sa.Column('target_key', sa.String(length=100), nullable=False),
        sa.Column('units', sa.Integer(), nullable=True),
        sa.Column('above_price', sa.BigInteger(), nullable=True),
        sa.Column('percent', sa.BigInteger(), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=True),
        sa.Column('ending', sa.String(length=10), nullable=True),
        sa.Column('changed_by', sa.String(length=100), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['channel_id'], ['saleschannel.id'], name='fk_channelrule_channel_id_saleschannel'),
        sa.PrimaryKeyConstraint('id', name='pk_channelrule'),
        sa.UniqueConstraint('channel_id', 'family', 'scope', 'target_key',
                            name='uq_channelrule_channel_id_family_scope_target_key'),
    )
    op.add_column('product', sa.Column('category', sa.String(length=100), nullable=True))
    op.add_column('product', sa.Column('map_price', sa.BigInteger(), nullable=True))
    op.add_column('websale', sa.Column('held_back_reason', sa.Text(), nullable=True))
    op.create_index('ix_websale_held_back', 'websale', ['state'], sqlite_where=sa.text(HELD_BACK_CONDITION),
                    postgresql_where=sa.text(HELD_BACK_CONDITION))
    op.add_column('websaleline', sa.Column('held_back', sa.Boolean(), nullable=False,
                                           server_default=sa.text('false')))
    op.add_column('productlink', sa.Column('unpublished', sa.String(length=10), nullable=True))
    op.add_column('websale', sa.Column('held_back_accepted_by', sa.String(length=100), nullable=True))
    for statement in _product_update_trigger(TO_STORES, WATCHED):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index('ix_websale_held_back', table_name='websale')
    for statement in _product_update_trigger(BEFORE, WATCHED[:8]):
        op.execute(statement)
    # In place (SQLite 3.35+ drops a column without copying its table), so the triggers stay.
    for table, column in (('websaleline', 'held_back'), ('productlink', 'unpublished'), ('websale', 'held_back_accepted_by'),
                          ('websale', 'held_back_reason'),
                          ('product', 'map_price'), ('product', 'category')):
        op.drop_column(table, column)
    op.drop_table('channelrule')
