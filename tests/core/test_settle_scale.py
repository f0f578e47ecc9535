"""The settle stage runs in every watcher round and after every link a person makes: its work must
follow the open sales, not the years of closed ones behind them (core.sync.settle, the partial
indexes of core.models). Counted in SQLite's VM steps, which do not depend on the machine's speed."""

from sqlalchemy import text

from core.db import migrate, open_database
from core.sync.settle import settle_sales


def add_closed_sales(engine, first: int, count: int) -> None:
    """`count` sales of years past, completed (a line sold) or cancelled (a line released), with
    statistics gathered as a careful administrator's ANALYZE would."""
    numbers = (f"WITH RECURSIVE n(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM n WHERE i < {first + count - 1}) "
               "SELECT i FROM n")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO websale (id, channel_id, external_id, order_number, state, fulfillment, currency, subtotal, "
            "shipping_charged, shipping_tax_rate, shipping_tax, tax_total, total, authorized_amount, captured_amount, "
            "ordered_at, imported_at, version) SELECT i, 1, 'o' || i, '#' || i, "
            "CASE WHEN i % 10 = 0 THEN 'cancelled' ELSE 'completed' END, 'store', 'CAD', 1000, 0, 0, 0, 0, 1000, "
            f"1000, 1000, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 FROM ({numbers})"))
        conn.execute(text(
            "INSERT INTO websaleline (sale_id, external_id, product_id, title, quantity, unit_price, discount, "
            "tax_rate, tax_amount, stock_state, product_by_hand) SELECT i, 'l' || i, 1, 'Kettle', 1, 1000, 0, 0, 0, "
            f"CASE WHEN i % 10 = 0 THEN 'released' ELSE 'sold' END, 0 FROM ({numbers})"))
        conn.execute(text("ANALYZE"))


def steps_to_settle(engine, **scope) -> int:
    """SQLite's VM steps for one settle (a progress handler on the connection)."""
    steps = [0]

    def count():
        steps[0] += 1
        return 0

    with engine.begin() as conn:
        conn.connection.dbapi_connection.set_progress_handler(count, 1)
        settle_sales(conn, 1, **scope)
        conn.connection.dbapi_connection.set_progress_handler(None, 1)
    return steps[0]


def test_settling_costs_the_same_after_thousands_of_closed_sales(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'tandem.sqlite'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO location (id, name, created_at, active) VALUES (1, 'Shop', CURRENT_TIMESTAMP, 1)"))
        conn.execute(text(
            "INSERT INTO saleschannel (id, name, platform, base_url, location_id, safety_buffer, settings_json, "
            "supplier_fulfillment, active, version, created_at) VALUES (1, 'Web', 'shopify', 'http://127.0.0.1', 1, "
            "0, '{}', 0, 1, 1, CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO product (id, sku, description, price, non_inventory, gift_card_placeholder, active, version, "
            "created_at, updated_at) VALUES (1, 'K1', 'Kettle', 1000, 0, 0, 1, 1, CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)"))
    add_closed_sales(engine, 1, 20)
    round_with_few = steps_to_settle(engine, sale_ids=[])  # a watcher round that read no new order
    whole_with_few = steps_to_settle(engine)  # a person's link, the whole sync's settle
    add_closed_sales(engine, 21, 5000)
    round_with_many = steps_to_settle(engine, sale_ids=[])
    whole_with_many = steps_to_settle(engine)

    assert round_with_many <= round_with_few * 1.5, (round_with_few, round_with_many)
    assert whole_with_many <= whole_with_few * 1.5, (whole_with_few, whole_with_many)
    engine.dispose()
