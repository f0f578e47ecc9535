"""The headless sync end to end: a real database, the demo store on a loopback port, real HTTP."""

import json
import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from core.audit import Actor
from core.catalog_import import import_catalog
from cli import main
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID
from core.models import ProductLink, SalesChannel, SyncCursor, SyncRun, WebSale, WebSaleLine
from core.config import ChannelConfig
from core.sync import ORDERS_CURSOR, SyncBusy, SyncOptions, apply_channel_settings, export_due, run_sync, sync_lock

from tests.conftest import dump
from tests.core.connectors.conftest import TOKEN, make_store, shopify, woo

QUIET = {"log": lambda message: None}


def catalog_for(store) -> bytes:
    rows = ["sku,description,upc,part_number,price,quantity"]
    for product in store.products:
        for v in product.variants:
            rows.append(f"POS-{v.number},{product.title},{v.barcode},{v.mpn},{v.price + 1},{v.number % 7}")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture
def shop(engine):
    store = make_store(products=30, orders=5, lines=2)
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "shopify", "url": server.url, "location": "Main Street",
                                                "store_location_id": LOCATION_ID, "export_time": "00:00"}})
        yield engine, store, server


def committed_by_orders(store) -> dict[int, int]:
    committed = {}
    for order in store.orders:
        for line in order.lines:
            committed[line.variant.number] = committed.get(line.variant.number, 0) + line.quantity
    return committed


def shop_available(store, variant) -> int:
    """What the shop has for this variant: on hand (number % 7) less what web orders committed."""
    return max(variant.number % 7 - committed_by_orders(store).get(variant.number, 0), 0)


def connectors(server, platform="shopify"):
    make = shopify if platform == "shopify" else woo
    return {"Web": make(server, lambda s: None)}


def count(engine, model):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar()


def test_a_sync_reads_matches_imports_and_exports(shop):
    engine, store, server = shop
    report = run_sync(engine, options=SyncOptions(export_now=True), connectors=connectors(server), **QUIET)
    result = report.channels[0]
    assert report.exit_code == 0 and result.status == "ok"
    assert (result.listings_seen, result.matched, result.orders_imported) == (30, 30, 5)
    assert result.items_exported == 30 and result.prices_exported == 30
    assert sum(committed_by_orders(store).values()) == 10
    assert all(v.available[LOCATION_ID] == shop_available(store, v) for _, v in store.variants())
    assert count(engine, WebSale) == 5 and count(engine, WebSaleLine) == 10
    with engine.connect() as conn:
        run = conn.execute(select(SyncRun.status, SyncRun.counts_json)).one()
    assert run.status == "ok" and json.loads(run.counts_json)["items_exported"] == 30


def test_an_immediate_second_run_exports_nothing_and_doubles_nothing(shop):
    engine, store, server = shop
    run_sync(engine, options=SyncOptions(export_now=True), connectors=connectors(server), **QUIET)
    logs = ("syncrun", "synccursor", "weblisting", "change")
    before = {name: rows for name, rows in dump(engine).items() if name not in logs}
    changes_before = len(dump(engine)["change"])
    writes = store.requests["TandemSetStock"] + store.requests["TandemSetPrices"]
    report = run_sync(engine, options=SyncOptions(export_now=True), connectors=connectors(server), **QUIET)
    assert report.channels[0].items_exported == 0 and report.channels[0].orders_imported == 0
    assert store.requests["TandemSetStock"] + store.requests["TandemSetPrices"] == writes
    after = {name: rows for name, rows in dump(engine).items() if name not in logs}
    assert after == before
    # The change sequence says a run happened, and the listings were read again; nothing a store is sent.
    assert {row[1] for row in sorted(dump(engine)["change"])[changes_before:]} <= {"run", "listing"}


def test_only_changed_quantities_are_sent(shop):
    engine, store, server = shop
    run_sync(engine, options=SyncOptions(export_now=True), connectors=connectors(server), **QUIET)
    import_catalog(engine, b"sku,description,price,quantity\nPOS-20,Product 20,31.00,40\n", "Main Street", Actor("t"))
    report = run_sync(engine, options=SyncOptions(export_now=True), connectors=connectors(server), **QUIET)
    assert report.channels[0].items_exported == 1
    assert store.products[19].variants[0].available[LOCATION_ID] == 40


def test_dry_run_sends_nothing(shop, capsys):
    engine, store, server = shop
    report = run_sync(engine, options=SyncOptions(dry_run=True), connectors=connectors(server), **QUIET)
    assert report.channels[0].items_exported == 30
    assert store.requests["TandemSetStock"] == 0
    assert "would set gid://shopify/ProductVariant/20 available=6" in capsys.readouterr().out
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(ProductLink.last_exported_quantity.is_not(None))).scalar() == 0


def test_a_failing_order_download_leaves_the_cursor_where_it_was(shop):
    engine, store, server = shop
    run_sync(engine, connectors=connectors(server), **QUIET)
    with engine.connect() as conn:
        cursor = conn.execute(select(SyncCursor.value).where(SyncCursor.name == ORDERS_CURSOR)).scalar()
    store.orders[0].updated_at = "2026-11-27T09:00:00Z"
    store.fail_next(*["ok"] * 0)
    connector = connectors(server)

    original = connector["Web"].orders_since

    def orders_then_fail(cursor_value):
        store.fail_next(*["500"] * 10)
        yield from original(cursor_value)

    connector["Web"].orders_since = orders_then_fail
    report = run_sync(engine, connectors=connector, **QUIET)
    assert report.exit_code == 1
    assert "kept answering HTTP 500" in report.channels[0].error
    with engine.connect() as conn:
        assert conn.execute(select(SyncCursor.value).where(SyncCursor.name == ORDERS_CURSOR)).scalar() == cursor
        assert conn.execute(select(SyncRun.status).order_by(SyncRun.id.desc())).scalars().first() == "failed"


def test_an_export_cut_short_resends_only_what_the_store_did_not_accept(engine):
    store = make_store(products=600, orders=0)
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "shopify", "url": server.url, "location": "Main Street",
                                                "store_location_id": LOCATION_ID}})
        connector = connectors(server)
        connector["Web"].stock_batch_size = 250  # one inventorySetQuantities call per request: three of them
        real = connector["Web"].set_stock
        calls = []

        class Killed(BaseException):
            """The process stopped from outside (a signal), which no handler of the sync swallows."""

        def crash_on_third(updates):
            calls.append(len(updates))
            if len(calls) == 3:
                raise Killed
            real(updates)

        connector["Web"].set_stock = crash_on_third
        with pytest.raises(Killed):
            run_sync(engine, options=SyncOptions(export_now=True), connectors=connector, **QUIET)
        with engine.connect() as conn:
            assert conn.execute(select(SyncRun.status, SyncRun.finished_at)).one()[0] == "interrupted"
        report = run_sync(engine, options=SyncOptions(export_now=True), connectors=connectors(server), **QUIET)
        assert report.channels[0].items_exported == 100, "only the last batch of 100 was still to send"
        assert all(v.available[LOCATION_ID] == v.number % 7 for _, v in store.variants())


def test_woocommerce_sync_end_to_end(engine):
    store = make_store(products=120, orders=4)
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "woocommerce", "url": server.url,
                                                "location": "Main Street"}})
        report = run_sync(engine, options=SyncOptions(export_now=True), connectors=connectors(server, "woocommerce"),
                          **QUIET)
    result = report.channels[0]
    assert (result.status, result.matched, result.orders_imported, result.items_exported) == ("ok", 120, 4, 120)
    assert store.requests["POST products"] == 4  # 120 quantities, then 120 prices: 100 + 20 each
    assert all(v.available[LOCATION_ID] == shop_available(store, v) for _, v in store.variants())


def test_a_second_sync_is_refused_while_one_runs(shop):
    engine, _, server = shop
    with sync_lock(engine):
        with pytest.raises(SyncBusy):
            run_sync(engine, connectors=connectors(server), **QUIET)


def test_the_cli_exits_3_while_another_sync_runs(tmp_path):
    from core.db import open_database

    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    engine = open_database(url)
    with sync_lock(engine):
        assert main(["--sync", "--db", url]) == 3


@pytest.mark.parametrize(("local_time", "exported_on", "due"), [
    ("2026-11-27 05:59", None, False), ("2026-11-27 06:00", None, True),
    ("2026-11-27 23:00", "2026-11-27", False), ("2026-11-28 06:30", "2026-11-27", True),
])
def test_the_export_is_due_once_a_day_at_the_channels_local_time(engine, local_time, exported_on, due):
    from core.channels import add_channel
    from core.models import Platform
    from core.sync.runner import EXPORTED_ON, _save_cursor

    with engine.begin() as conn:
        channel = add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com")
        if exported_on:
            _save_cursor(conn, channel, EXPORTED_ON, exported_on)
    now = datetime.fromisoformat(local_time).replace(tzinfo=ZoneInfo("America/New_York"))
    config = ChannelConfig(platform="shopify", export_time="06:00", time_zone="America/New_York")
    assert export_due(engine, channel, config, now) is due


def write_config(tmp_path, server_url, platform="shopify"):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[channels.Web]\nplatform = "{platform}"\nurl = "{server_url}"\nlocation = "Main Street"\n'
        f'store_location_id = "{LOCATION_ID}"\nexport_time = "00:00"\n')
    return config


def test_secrets_never_appear_in_output_logs_database_or_errors(tmp_path, capfd):
    from core.db import open_database
    from core.secrets import save_secret

    store = make_store(products=20, orders=3)
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    import_catalog(open_database(url), catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        config = write_config(tmp_path, server.url)
        save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
        assert main(["--sync", "--json", "--db", url, "--config", str(config)]) == 0
        summary = capfd.readouterr()
        assert json.loads(summary.out)["channels"][0]["items_exported"] == 20
        # Now a wrong token: the refusal names the credential to fix, never its value.
        save_secret(tmp_path / "secrets.toml", "Web", "access_token", "shpat_wrong_value_4242")
        assert main(["--sync", "--json", "--db", url, "--config", str(config)]) == 1
        failed = capfd.readouterr()
    everything = summary.out + summary.err + failed.out + failed.err + repr(dump(open_database(url)))
    assert "access token" in failed.err
    for secret in (TOKEN, "shpat_wrong_value_4242"):
        assert secret not in everything
    assert oct(os.stat(tmp_path / "secrets.toml").st_mode & 0o777) == "0o600"


def test_a_secrets_file_others_can_read_is_refused(tmp_path, capsys):
    from core.secrets import save_secret

    from core.db import open_database

    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    import_catalog(open_database(url), b"sku,description,price\nA,a,1.00\n", "Main Street", Actor("t"))
    config = write_config(tmp_path, "https://shop.example.com")
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    os.chmod(tmp_path / "secrets.toml", 0o644)
    code = main(["--sync", "--db", url, "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 1 and "can be read by other users" in err and "chmod 600" in err and TOKEN not in err


def test_credentials_in_the_settings_file_are_refused(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text('[channels.Web]\nplatform = "shopify"\nurl = "https://x.example.com"\naccess_token = "abc"\n')
    assert main(["--paths", "--config", str(config)]) == 2
    assert "credentials belong in the secrets file" in capsys.readouterr().err


def supplier_fulfilment_on(engine) -> None:
    """The three signed documents recorded and supplier fulfilment switched on, for the one channel."""
    from core.supplier import enable_supplier_fulfillment, record_supplier_document

    with engine.connect() as conn:
        channel = conn.execute(select(SalesChannel.id)).scalar()
    for kind in ("internet_addendum", "packing_slip_form", "retailer_contract"):
        record_supplier_document(engine, channel, kind, datetime(2026, 1, 1).date(), Actor("t"))
    enable_supplier_fulfillment(engine, channel, Actor("t"))


def test_a_sync_releases_holds_that_fell_due_even_without_new_orders(shop):
    from datetime import UTC, datetime

    from core.models import WebSale

    engine, store, server = shop
    supplier_fulfilment_on(engine)
    store.orders[0].tags = ["supplier-fulfilled"]
    store.orders[0].fulfilled_at = "2099-01-01T12:00:00Z"  # shipped far in the future: held
    store.orders[1].tags = ["supplier-fulfilled"]
    store.orders[1].fulfilled_at = "2026-01-02T12:00:00Z"  # released long ago
    report = run_sync(engine, connectors=connectors(server), **QUIET)
    assert report.channels[0].orders_held == 1
    with engine.begin() as conn:
        conn.execute(update(WebSale).where(WebSale.state == "held").values(held_until=datetime(2026, 1, 1, tzinfo=UTC)))
    report = run_sync(engine, connectors=connectors(server), **QUIET)
    assert report.channels[0].orders_imported == 0 and report.channels[0].orders_held == 0


def test_orders_waiting_for_a_person_are_reported_apart_from_those_held_for_the_supplier(shop):
    """Supplier fulfilment off: a supplier-tagged order waits for a person's decision, and the sync
    (its log and --json) says so, instead of calling it held for the supplier."""
    engine, store, server = shop
    store.orders[0].tags = ["supplier-fulfilled"]
    said = []
    report = run_sync(engine, connectors=connectors(server), **{**QUIET, "log": said.append})
    result = report.channels[0]
    assert (result.orders_held, result.orders_for_a_person) == (0, 1)
    assert json.loads(report.to_json())["channels"][0]["orders_for_a_person"] == 1
    assert any("0 held for the supplier, 1 waiting for a person" in line for line in said), said


def test_a_posted_return_is_refunded_on_the_website_once(shop, tmp_path):
    import json as json_module

    from core.returns import complete_return, refund_on_website, return_view, set_quantity, start_return
    from core.pickup import PickupChecks, complete_sale
    from core.secrets import save_secret

    engine, store, server = shop
    run_sync(engine, connectors=connectors(server), **QUIET)
    with engine.begin() as conn:
        conn.execute(update(SalesChannel).values(settings_json=json_module.dumps(
            {"store_location_id": LOCATION_ID, "refund_on_website": True})))
        sale = conn.execute(select(WebSale.__table__).where(WebSale.state == "ready").order_by(WebSale.id)).first()
    complete_sale(engine, sale.id, Actor("t"), sale.version, connector=shopify(server, lambda s: None),
                  pickup=sale.shipping_charged == 0, checks=PickupChecks(True, True, True))
    ret = start_return(engine, sale.id, Actor("t"))
    set_quantity(engine, return_view(engine, ret).lines[0].id, 1, Actor("t"))
    refunded = complete_return(engine, ret, Actor("t"), return_view(engine, ret).version)
    secrets = tmp_path / "secrets.toml"
    save_secret(secrets, "Web", "access_token", TOKEN)
    reference = refund_on_website(engine, ret, Actor("t"), secrets)
    assert reference.startswith("gid://shopify/Refund/")
    assert refund_on_website(engine, ret, Actor("t"), secrets) == reference  # found at the store, not made again
    order = next(o for o in store.orders if o.gid == sale.external_id)
    assert [r["amount"] for r in order.refunds] == [-refunded]


def test_completing_a_sale_can_mark_it_fulfilled_on_the_website(shop, tmp_path):
    import json as json_module

    from core.pickup import PickupChecks, complete_with_store
    from core.secrets import save_secret

    engine, store, server = shop
    run_sync(engine, connectors=connectors(server), **QUIET)
    with engine.begin() as conn:
        conn.execute(update(SalesChannel).values(settings_json=json_module.dumps(
            {"store_location_id": LOCATION_ID, "push_status": True})))
        sale = conn.execute(select(WebSale.__table__).where(WebSale.state == "ready").order_by(WebSale.id)).first()
    secrets = tmp_path / "secrets.toml"
    save_secret(secrets, "Web", "access_token", TOKEN)
    message = complete_with_store(engine, sale.id, Actor("t"), sale.version, secrets_path=secrets,
                                  pickup=sale.shipping_charged == 0, checks=PickupChecks(True, True, True))
    assert "captured" in message and "The website shows it fulfilled." in message
    order = next(o for o in store.orders if o.gid == sale.external_id)
    assert order.financial_status == "PAID" and order.fulfilled_at is not None


def test_many_prices_go_in_one_bulk_operation_and_one_cut_short_is_finished_by_the_next_run(shop):
    engine, store, server = shop
    connector = connectors(server)
    connector["Web"].bulk_prices_from = 10  # the 30 prices of this shop then go in bulk
    store.fail_next_bulk("partial")
    report = run_sync(engine, options=SyncOptions(export_now=True), connectors=connector, **QUIET)
    assert report.channels[0].status == "failed" and "stopped part-way" in report.channels[0].error
    taken = [v for _, v in store.variants() if v.price == v.number + 11]
    assert 0 < len(taken) < 30, "half the file was run"
    before = dict(store.requests)
    report = run_sync(engine, options=SyncOptions(export_now=True), connectors=connector, **QUIET)
    assert report.channels[0].prices_exported == 30 - len(taken), "only the prices the store had not taken"
    assert store.requests["TandemBulkMutation"] == before["TandemBulkMutation"] + 1
    assert all(v.price == v.number + 11 for _, v in store.variants()), "the store has every shop price"
    again = run_sync(engine, options=SyncOptions(export_now=True), connectors=connector, **QUIET)
    assert again.channels[0].prices_exported == 0 and store.requests["TandemBulkMutation"] == before[
        "TandemBulkMutation"] + 1


def test_a_price_the_store_refuses_in_bulk_is_named_and_the_others_are_kept(shop):
    engine, store, server = shop
    connector = connectors(server)["Web"]
    connector.bulk_prices_from = 10
    real = connector.set_prices_in_bulk

    def after_the_product_is_deleted(updates):
        store.products[3].number = 999  # deleted on the website after the listings were read
        return real(updates)

    connector.set_prices_in_bulk = after_the_product_is_deleted
    report = run_sync(engine, options=SyncOptions(export_now=True), connectors={"Web": connector}, **QUIET)
    assert report.channels[0].status == "failed"
    assert "refused the prices of 1 product: Product does not exist" in report.channels[0].error
    assert sum(v.price == v.number + 11 for _, v in store.variants()) == 29
    with engine.connect() as conn:
        marked = conn.execute(select(func.count()).select_from(ProductLink).where(
            ProductLink.last_exported_price.is_not(None))).scalar()
    assert marked == 29, "the 29 prices taken are marked; the refused one is sent again next time"
