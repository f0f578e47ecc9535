"""a change sequence: every write that changes what a screen or a web store shows adds a numbered
row to `change`, in its own transaction, by triggers; kept counts for the home screen

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Triggers rather than application code, so that no path can change stock or a price without its
change row: the counter, the sync, a catalog import's set-based statements, a hand-run UPDATE.
SQLite has row triggers only; PostgreSQL gets statement triggers over transition tables, so a
million-row import adds its change rows in one INSERT ... SELECT, and one NOTIFY per transaction
tells every listening console and the watcher.

A later migration that rebuilds one of these tables on SQLite (`batch_alter_table` copies it)
drops its triggers: it must create them again (`create_triggers(table)` below, copied).
"""

from alembic import op
import sqlalchemy as sa

# As core.models has them today (a migration keeps its own copy: the model may move on).
OPEN_SALE_CONDITION = "state IN ('held', 'waiting_match', 'ready', 'gift_card_to_issue', 'capture_failed')"
COMMITTED_LINE_CONDITION = "stock_state = 'committed'"


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# table: (primary key, {operation: (kind, product, channel)}, columns whose change counts)
# In the expressions {r} is the row (NEW, or OLD for a delete); in an update's, {o} and {n}.
PRICE_MOVED = "{o}.price {differs} {n}.price OR {o}.non_inventory {differs} {n}.non_inventory"
TRIGGERS = {
    "stock": (("product_id", "location_id"),
              {"insert": ("'stock'", "{r}.product_id", "NULL"),
               "update": ("'stock'", "{r}.product_id", "NULL"),
               "delete": ("'stock'", "{r}.product_id", "NULL")},
              ("on_hand", "committed")),
    "product": (("id",),
                {"insert": ("'product'", "{r}.id", "NULL"),
                 # A change of price or of being stocked goes to the stores; the rest only to screens.
                 "update": (f"CASE WHEN {PRICE_MOVED} THEN 'product' ELSE 'catalog' END", "{r}.id", "NULL"),
                 "delete": ("'product'", "{r}.id", "NULL")},
                ("price", "non_inventory", "version", "active", "sku", "description", "brand", "barcode_status")),
    "productlink": (("id",),
                    {"insert": ("'link'", "{r}.product_id", "{r}.channel_id"),
                     "update": ("'link'", "{r}.product_id", "{r}.channel_id"),
                     "delete": ("'link'", "{r}.product_id", "{r}.channel_id")},
                    ("product_id",)),  # never the export's own marks: they must wake nothing
    "saleschannel": (("id",),
                     {"insert": ("'channel'", "NULL", "{r}.id"),
                      "update": ("'channel'", "NULL", "{r}.id"),
                      "delete": ("'channel'", "NULL", "{r}.id")},
                     ("safety_buffer", "location_id", "active", "version", "settings_json")),
    "channellocation": (("channel_id", "location_id"),
                        {"insert": ("'channel'", "NULL", "{r}.channel_id"),
                         "update": ("'channel'", "NULL", "{r}.channel_id"),
                         "delete": ("'channel'", "NULL", "{r}.channel_id")},
                        ("store_location",)),
    "weblisting": (("id",),
                   {"insert": ("'listing'", "NULL", "{r}.channel_id"),
                    "update": ("'listing'", "NULL", "{r}.channel_id"),
                    "delete": ("'listing'", "NULL", "{r}.channel_id")},
                   ("match_state", "version")),
    "websale": (("id",),
                {"insert": ("'sale'", "NULL", "{r}.channel_id"),
                 "update": ("'sale'", "NULL", "{r}.channel_id")},
                ("version", "state")),
    "auditlog": (("id",), {"insert": ("'audit'", "NULL", "NULL")}, ()),
    "syncrun": (("id",),
                {"insert": ("'run'", "NULL", "{r}.channel_id"),
                 "update": ("'run'", "NULL", "{r}.channel_id")},
                ("finished_at", "status")),
}


def _sqlite_triggers(table: str) -> list[str]:
    keys, operations, watched = TRIGGERS[table]
    statements = []
    for operation, (kind, product, channel) in operations.items():
        row = "OLD" if operation == "delete" else "NEW"
        values = ", ".join(part.format(r=row, o="OLD", n="NEW", differs="IS NOT")
                           for part in (kind, product, channel))
        when = ""
        if operation == "update":
            when = " WHEN " + " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in watched)
        statements.append(
            f"CREATE TRIGGER tandem_change_{table}_{operation} AFTER {operation.upper()} ON {table}{when} "
            f"BEGIN INSERT INTO change (kind, product_id, channel_id) VALUES ({values}); END")
    return statements


def _postgresql_triggers(table: str) -> list[str]:
    keys, operations, watched = TRIGGERS[table]
    statements = []
    for operation, (kind, product, channel) in operations.items():
        rows = "removed" if operation == "delete" else "added"
        values = ", ".join(part.format(r="n" if operation == "update" else "r", o="o", n="n",
                                       differs="IS DISTINCT FROM") for part in (kind, product, channel))
        if operation == "update":
            join = " AND ".join(f"o.{key} = n.{key}" for key in keys)
            moved = " OR ".join(f"o.{column} IS DISTINCT FROM n.{column}" for column in watched)
            source = f"added n JOIN removed o ON {join} WHERE {moved}"
            referencing = "REFERENCING OLD TABLE AS removed NEW TABLE AS added"
        else:
            source = f"{rows} r"
            referencing = f"REFERENCING {'OLD' if operation == 'delete' else 'NEW'} TABLE AS {rows}"
        function = f"tandem_change_{table}_{operation}"
        statements.append(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO change (kind, product_id, channel_id) SELECT {values} FROM {source}; "
            f"RETURN NULL; END $$")
        statements.append(
            f"CREATE TRIGGER {function} AFTER {operation.upper()} ON {table} {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    return statements


def create_triggers(table: str) -> None:
    dialect = op.get_bind().dialect.name
    for statement in (_postgresql_triggers if dialect == "postgresql" else _sqlite_triggers)(table):
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        'change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=True),
        sa.Column('channel_id', sa.Integer(), nullable=True),
        # PostgreSQL: the transaction that wrote the row. Numbers are taken at insert, not at
        # commit, so a row may become visible after a higher one: a reader remembers the
        # transactions still open when it read, and reads their rows again (core.changes).
        sa.Column('xid', sa.BigInteger(), nullable=True,
                  server_default=sa.text("(pg_current_xact_id()::text::bigint)") if dialect == "postgresql" else None),
        sa.PrimaryKeyConstraint('id'),
        # Never reused on SQLite, even once old rows are pruned: positions and marks compare numbers.
        sqlite_autoincrement=True,
    )
    op.create_index('ix_change_xid', 'change', ['xid'])
    op.create_table(
        'tally',
        sa.Column('name', sa.String(length=30), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    # The home screen's and the resolver's counts read index ranges, not whole tables.
    op.create_index('ix_weblisting_match_state', 'weblisting', ['match_state'])
    op.create_index('ix_websale_state_hold_reason', 'websale', ['state', 'hold_reason'])
    op.create_index('ix_product_active', 'product', ['active'])
    op.create_index('ix_product_barcode_status', 'product', ['barcode_status'])
    # Each watcher round settles the open sales: read from indexes of just the open sales and the
    # committed lines, which stay small while the closed history grows.
    op.create_index('ix_websale_open', 'websale', ['channel_id', 'state'], sqlite_where=sa.text(OPEN_SALE_CONDITION),
                    postgresql_where=sa.text(OPEN_SALE_CONDITION))
    op.create_index('ix_websaleline_committed', 'websaleline', ['sale_id'],
                    sqlite_where=sa.text(COMMITTED_LINE_CONDITION), postgresql_where=sa.text(COMMITTED_LINE_CONDITION))
    op.execute("INSERT INTO tally (name, value) SELECT 'products', count(*) FROM product")
    for table in TRIGGERS:
        create_triggers(table)
    if dialect == "postgresql":
        op.execute("CREATE FUNCTION tandem_count_products_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "UPDATE tally SET value = value + (SELECT count(*) FROM added) WHERE name = 'products'; "
                    "RETURN NULL; END $$")
        op.execute("CREATE TRIGGER tandem_count_products_insert AFTER INSERT ON product "
                   "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION tandem_count_products_insert()")
        op.execute("CREATE FUNCTION tandem_count_products_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "UPDATE tally SET value = value - (SELECT count(*) FROM removed) WHERE name = 'products'; "
                    "RETURN NULL; END $$")
        op.execute("CREATE TRIGGER tandem_count_products_delete AFTER DELETE ON product "
                   "REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION tandem_count_products_delete()")
        # One notification per transaction that added change rows (PostgreSQL folds identical
        # ones), sent when it commits: consoles and the watcher LISTEN instead of polling.
        op.execute("CREATE FUNCTION tandem_change_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF EXISTS (SELECT 1 FROM added) THEN PERFORM pg_notify('tandem_changes', ''); END IF; "
                   "RETURN NULL; END $$")
        op.execute("CREATE TRIGGER tandem_change_notify AFTER INSERT ON change REFERENCING NEW TABLE AS added "
                   "FOR EACH STATEMENT EXECUTE FUNCTION tandem_change_notify()")
    else:
        op.execute("CREATE TRIGGER tandem_count_products_insert AFTER INSERT ON product "
                   "BEGIN UPDATE tally SET value = value + 1 WHERE name = 'products'; END")
        op.execute("CREATE TRIGGER tandem_count_products_delete AFTER DELETE ON product "
                   "BEGIN UPDATE tally SET value = value - 1 WHERE name = 'products'; END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    names = [f"tandem_change_{table}_{operation}" for table, (_, operations, _) in TRIGGERS.items()
             for operation in operations]
    names += ["tandem_count_products_insert", "tandem_count_products_delete"]
    tables = {f"tandem_change_{table}_{operation}": table for table, (_, operations, _) in TRIGGERS.items()
              for operation in operations}
    tables.update(tandem_count_products_insert="product", tandem_count_products_delete="product")
    for name in names:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {tables[name]}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS tandem_change_notify ON change")
        op.execute("DROP FUNCTION IF EXISTS tandem_change_notify()")
    op.drop_index('ix_product_barcode_status', table_name='product')
    op.drop_index('ix_product_active', table_name='product')
    op.drop_index('ix_weblisting_match_state', table_name='weblisting')
    op.drop_index('ix_websale_state_hold_reason', table_name='websale')
    op.drop_index('ix_websale_open', table_name='websale')
    op.drop_index('ix_websaleline_committed', table_name='websaleline')
    op.drop_table('tally')
    op.drop_index('ix_change_xid', table_name='change')
    op.drop_table('change')
