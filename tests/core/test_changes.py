"""The change sequence (core.changes): every write a screen or a store would show is numbered in
its own transaction; the watcher exports just what changed since a store's position, and the
position moves only with the export."""

import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select, text

from core.audit import Actor
from core.catalog_import import import_catalog
from core.changes import (
    ChangeListener,
    ChangePosition,
    current_position,
    forget_read_changes,
    latest_change,
    read_store_changes,
    save_position,
    saved_position,
)
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID
from core.models import Change, Product, Stock
from core.overview import shop_overview
from core.secrets import save_secret
from core.sync import SyncOptions, apply_channel_settings, run_sync
from core.sync.export import export_changes

from tests.core.connectors.conftest import make_store, woo
from tests.core.test_sync import catalog_for
from tests.waiting import until


def kinds_after(engine, number: int) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(select(Change.kind, Change.product_id).where(Change.id > number)
                            .order_by(Change.id)).all()


def newest(engine) -> int:
    with engine.connect() as conn:
        return latest_change(conn)


def product_id(engine, sku: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(Product.id).where(Product.sku == sku)).scalar_one()


@pytest.fixture
def woo_shop(engine):
    """A shop on one WooCommerce store, its first export done: the store has what the shop has."""
    store = make_store(products=12, orders=0)
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Woo": {"platform": "woocommerce", "url": server.url,
                                                "location": "Main Street"}})
        connector = woo(server, lambda seconds: None)
        run_sync(engine, options=SyncOptions(export_now=True), connectors={"Woo": connector}, log=lambda m: None)
        yield engine, store, connector


def available_on_store(store) -> dict[str, int]:
    return {f"POS-{v.number}": v.available[LOCATION_ID] for _p, v in store.variants()}


def available_in_shop(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Product.sku, Stock.on_hand - Stock.committed)
                                 .join(Stock, Stock.product_id == Product.id)).all())


def test_each_write_a_screen_or_store_shows_is_numbered_and_a_rollback_numbers_nothing(woo_shop):
    engine, store, _connector = woo_shop
    first = product_id(engine, "POS-1")
    start = newest(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE stock SET on_hand = on_hand + 1 WHERE product_id = :id"), {"id": first})
        conn.execute(text("UPDATE product SET price = price + 100 WHERE id = :id"), {"id": first})
        conn.execute(text("UPDATE product SET description = 'Renamed' WHERE id = :id"), {"id": first})
    assert kinds_after(engine, start) == [("stock", first), ("product", first), ("catalog", first)]

    start = newest(engine)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("UPDATE stock SET on_hand = on_hand + 5 WHERE product_id = :id"), {"id": first})
        raise RuntimeError("the counter's transaction fails")
    assert kinds_after(engine, start) == [], "a change rolled back leaves no number"

    # The export's own marks, a heartbeat, an unchanged value: nothing a store or a screen would see.
    with engine.begin() as conn:
        conn.execute(text("UPDATE productlink SET last_exported_quantity = 99, last_exported_price = 1"))
        conn.execute(text("UPDATE stock SET on_hand = on_hand WHERE product_id = :id"), {"id": first})
        conn.execute(text("UPDATE weblisting SET last_seen_at = CURRENT_TIMESTAMP"))
    assert kinds_after(engine, start) == []


def test_the_home_screens_product_count_is_kept_not_counted(engine):
    store = make_store(products=7, orders=0)
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))
    assert shop_overview(engine).products == 7
    with engine.begin() as conn:
        conn.execute(text("UPDATE product SET active = false WHERE sku = 'POS-2'"))
        conn.execute(text("DELETE FROM stock WHERE product_id = (SELECT id FROM product WHERE sku = 'POS-7')"))
        conn.execute(text("DELETE FROM product WHERE sku = 'POS-7'"))
    overview = shop_overview(engine)
    assert (overview.products, overview.active_products) == (6, 5)


def test_a_round_plans_only_the_products_that_changed_and_the_position_moves_with_it(woo_shop):
    engine, store, connector = woo_shop
    with engine.connect() as conn:
        channel = conn.execute(text("SELECT id FROM saleschannel")).scalar_one()
        before = saved_position(conn, channel)
    assert before is not None, "the whole export left the store's position"
    report, changes = export_changes(engine, channel, connector)
    assert report.quantities_sent == 0 and not changes.anything, "the sync's own run row moves nothing"
    report, changes = export_changes(engine, channel, connector)
    assert (report.quantities_sent, changes.rows) == (0, 0), "nothing changed since: nothing read"

    with engine.begin() as conn:
        conn.execute(text("UPDATE stock SET on_hand = on_hand + 3 WHERE product_id IN "
                          "(SELECT id FROM product WHERE sku IN ('POS-4', 'POS-9'))"))
        conn.execute(text("INSERT INTO auditlog (at, actor, action, entity) VALUES (CURRENT_TIMESTAMP, 't', 'x', 'y')"))
    report, changes = export_changes(engine, channel, connector)
    assert changes.products == {product_id(engine, "POS-4"), product_id(engine, "POS-9")}
    assert (report.quantities_sent, report.prices_sent, changes.rows) == (2, 0, 3)
    assert available_on_store(store) == available_in_shop(engine)
    with engine.connect() as conn:
        assert saved_position(conn, channel).last == latest_change(conn)


def test_a_change_committed_between_the_watchers_read_and_its_commit_goes_in_the_next_round(woo_shop):
    """The counter sells POS-5 while the round for POS-3 is at the store: that round's position
    stops before it (it was read before), and the next round sends it."""
    engine, store, connector = woo_shop
    with engine.connect() as conn:
        channel = conn.execute(text("SELECT id FROM saleschannel")).scalar_one()
    with engine.begin() as conn:
        conn.execute(text("UPDATE stock SET on_hand = on_hand + 1 WHERE product_id = :id"),
                     {"id": product_id(engine, "POS-3")})
    sent = connector.set_stock

    def counter_sells_while_the_store_answers(updates):
        sent(updates)
        with engine.begin() as conn:  # another terminal, between the round's read and its marks
            conn.execute(text("UPDATE stock SET committed = committed + 1 WHERE product_id = :id"),
                         {"id": product_id(engine, "POS-5")})

    connector.set_stock = counter_sells_while_the_store_answers
    report, _changes = export_changes(engine, channel, connector)
    connector.set_stock = sent
    assert report.quantities_sent == 1
    assert available_on_store(store)["POS-5"] != available_in_shop(engine)["POS-5"], "not in the round under way"
    report, changes = export_changes(engine, channel, connector)
    assert changes.products == {product_id(engine, "POS-5")} and report.quantities_sent == 1
    assert available_on_store(store) == available_in_shop(engine)


def test_a_transaction_numbered_before_the_read_but_committed_after_is_not_skipped(database_url):
    """PostgreSQL numbers a change when it is written, not when it commits: a long transaction's
    row can appear below a position already read. The position remembers the transactions open
    at the read and takes their rows the next time."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: numbers come in commit order")
    from core.db import open_database, migrate

    engine = open_database(database_url)
    migrate(engine)
    import_catalog(engine, catalog_for(make_store(products=3, orders=0)), "Main Street", Actor("t"))
    apply_channel_settings(engine, {"Woo": {"platform": "woocommerce", "url": "http://127.0.0.1:9",
                                            "location": "Main Street"}})
    with engine.connect() as conn:
        channel = conn.execute(text("SELECT id FROM saleschannel")).scalar_one()
        start = current_position(conn)
    slow, quick = product_id(engine, "POS-1"), product_id(engine, "POS-2")
    long_running = engine.connect()
    long_running.begin()
    long_running.execute(text("UPDATE stock SET on_hand = on_hand + 1 WHERE product_id = :id"), {"id": slow})
    with engine.begin() as conn:
        conn.execute(text("UPDATE stock SET on_hand = on_hand + 1 WHERE product_id = :id"), {"id": quick})
    first = read_store_changes(engine, channel, start)
    assert first.products == {quick} and first.position.pending, "the open transaction is remembered"
    long_running.commit()
    long_running.close()
    with engine.begin() as conn:
        save_position(conn, channel, first.position)
    forget_read_changes(engine, kept=0)
    with engine.connect() as conn:
        assert conn.execute(select(Change.product_id)).scalars().all() == [slow], \
            "what a position waits for is kept; what it read is forgotten"
    second = read_store_changes(engine, channel, first.position)
    assert slow in second.products, "its row, numbered below the position, is read once it committed"
    third = read_store_changes(engine, channel, second.position)
    assert not third.anything
    engine.dispose()


def test_a_position_reads_back_as_written():
    for position in (ChangePosition(0), ChangePosition(41, (900, 903))):
        assert ChangePosition.decode(position.encode()) == position
    assert ChangePosition.decode(None) is None


def test_rows_every_store_has_read_are_forgotten_and_the_numbering_goes_on(woo_shop):
    engine, _store, connector = woo_shop
    with engine.connect() as conn:
        channel = conn.execute(text("SELECT id FROM saleschannel")).scalar_one()
    export_changes(engine, channel, connector)
    last = newest(engine)
    assert last > 0
    assert forget_read_changes(engine, kept=0) > 0
    assert newest(engine) == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE stock SET on_hand = on_hand + 1 WHERE product_id = :id"),
                     {"id": product_id(engine, "POS-1")})
    with engine.connect() as conn:
        numbers = conn.execute(select(Change.id)).scalars().all()
    assert numbers and min(numbers) > last, "a number is never given twice"
    report, _changes = export_changes(engine, channel, connector)
    assert report.quantities_sent == 1


def test_the_listener_hears_a_commit_elsewhere_and_not_one_that_changed_nothing_shown(woo_shop):
    engine, _store, _connector = woo_shop
    heard = []
    listener = ChangeListener(engine, lambda: heard.append(time.monotonic()), interval=0.05).start()
    try:
        assert listener.ready.wait(30)
        time.sleep(0.3)
        heard.clear()
        with engine.begin() as conn:  # the watcher's heartbeat, an export's marks
            conn.execute(text("UPDATE productlink SET last_exported_quantity = last_exported_quantity"))
        time.sleep(0.5)
        assert heard == [], "a commit that added no change wakes no console"
        with engine.begin() as conn:
            conn.execute(text("UPDATE stock SET on_hand = on_hand + 1 WHERE product_id = :id"),
                         {"id": product_id(engine, "POS-1")})
        assert until(lambda: heard, 10), "another terminal's change is heard"
    finally:
        listener.stop(wait=5)


def test_an_older_database_gets_the_change_sequence_and_its_counts(tmp_path):
    """A shop's database of the previous version: upgraded, it counts its products and numbers
    the next change, and the watcher's first round sends the whole catalog's differences."""
    from alembic import command
    from alembic.config import Config

    from core.db import MIGRATIONS_DIR, SCHEMA_HEAD, current_revision, make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0011")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO location (id, name, created_at, active) VALUES (1, 'Shop', CURRENT_TIMESTAMP, 1)"))
        for n in range(1, 4):
            conn.execute(text("INSERT INTO product (id, sku, description, price, non_inventory, gift_card_placeholder, "
                              "active, version, created_at, updated_at) VALUES (:n, :sku, 'P', 1000, 0, 0, 1, 1, "
                              "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"n": n, "sku": f"OLD-{n}"})
    migrate(engine)
    assert current_revision(engine) == SCHEMA_HEAD
    assert list(tmp_path.glob("old.sqlite.before-upgrade-0011-*")), "a copy before the upgrade"
    assert shop_overview(engine).products == 3
    start = newest(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE product SET price = 1200 WHERE id = 2"))
    assert kinds_after(engine, start) == [("product", 2)]
    engine.dispose()


def test_a_watcher_killed_mid_export_loses_nothing_and_doubles_nothing(engine, database_url, tmp_path):
    """`tandem --watch` SIGKILLed while the store holds the second of three batches of one round:
    the first batch's marks were written, the position was not; started again, it sends the rest
    — the batch in flight again (the store may have taken it as the process died), no other twice."""
    store = make_store(products=250, orders=0)
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Woo": {"platform": "woocommerce", "url": server.url,
                                                "location": "Main Street"}})
        run_sync(engine, options=SyncOptions(export_now=True), connectors={"Woo": woo(server, lambda s: None)},
                 log=lambda m: None)
        assert available_on_store(store) == available_in_shop(engine)

        sent: Counter = Counter()
        batches: list[list[int]] = []
        second_batch_held, release = threading.Event(), threading.Event()
        inner = server._server.get_app()

        def store_that_holds_the_second_batch(environ, start_response):
            if environ["REQUEST_METHOD"] == "POST" and environ.get("PATH_INFO", "").endswith("/batch"):
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length)
                items = [item["id"] for item in json.loads(body).get("update", [])]
                from io import BytesIO

                environ["wsgi.input"] = BytesIO(body)
                batches.append(items)
                if len(batches) == 2 and not release.is_set():
                    second_batch_held.set()
                    release.wait(60)
                sent.update(items)
            return inner(environ, start_response)

        server._server.set_app(store_that_holds_the_second_batch)
        config = tmp_path / "config.toml"
        config.write_text(f'[channels.Woo]\nplatform = "woocommerce"\nurl = "{server.url}"\nlocation = "Main Street"\n')
        secrets = tmp_path / "secrets.toml"
        save_secret(secrets, "Woo", "consumer_key", store.consumer_key)
        save_secret(secrets, "Woo", "consumer_secret", store.consumer_secret)
        command = [sys.executable, "-m", "cli", "--watch", "--db", database_url, "--config", str(config),
                   ]
        watcher = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            assert until(lambda: store.requests["GET orders"] >= 2, 60), "the watcher's rounds go on"
            with engine.begin() as conn:  # every product's count moves at once: three batches of 100
                conn.execute(text("UPDATE stock SET on_hand = on_hand + 2"))
            assert second_batch_held.wait(60), "the round reaches its second batch"
            watcher.send_signal(signal.SIGKILL)
            watcher.wait(30)
        finally:
            release.set()
            if watcher.poll() is None:
                watcher.kill()
        first, in_flight = set(batches[0]), set(batches[1])
        watcher = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            assert until(lambda: available_on_store(store) == available_in_shop(engine), 60), \
                "every new count reached the store"
        finally:
            watcher.send_signal(signal.SIGTERM)
            watcher.wait(60)
        assert len(first | in_flight) == 200
        assert all(sent[item] == 1 for item in first), "what the store took and was marked is not sent again"
        assert all(sent[item] <= 2 for item in in_flight), "the batch in flight at most once more"
        assert sum(sent.values()) <= 250 + len(in_flight)
