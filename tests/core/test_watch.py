"""The watcher: a web order on one store reaches the shop and the other store's stock while it runs."""

import threading
import time
from decimal import Decimal

import pytest

from core.audit import Actor
from core.catalog_import import import_catalog
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine
from core.sync import SyncOptions, apply_channel_settings, run_sync
from core.sync.watch import watch

from tests.waiting import until
from tests.core.connectors.conftest import make_store, shopify, woo
from tests.core.test_sync import catalog_for

WAIT = 60.0  # an upper bound only: the test ends as soon as the change is seen



def test_an_order_on_one_store_lowers_the_other_stores_stock_while_the_watcher_runs(engine):
    shop_store, woo_store = make_store(products=20, orders=0), make_store(products=20, orders=0)
    import_catalog(engine, catalog_for(shop_store), "Main Street", Actor("t"))
    with LoopbackServer(shop_store) as a, LoopbackServer(woo_store) as b:
        apply_channel_settings(engine, {
            "Shopify": {"platform": "shopify", "url": a.url, "location": "Main Street", "store_location_id": LOCATION_ID},
            "Woo": {"platform": "woocommerce", "url": b.url, "location": "Main Street"}})
        connectors = {"Shopify": shopify(a, lambda s: None), "Woo": woo(b, lambda s: None)}
        run_sync(engine, options=SyncOptions(export_now=True), connectors=connectors, log=lambda m: None)
        variant = next(v for _, v in woo_store.variants() if v.available[LOCATION_ID] >= 2)
        before = variant.available[LOCATION_ID]
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(engine, stop),
                                   kwargs={"connectors": connectors, "poll_seconds": 0.2})
        watcher.start()
        try:
            sold = next(v for _, v in shop_store.variants() if v.number == variant.number)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            with shop_store.lock:
                shop_store.orders.append(DemoOrder(
                    number=900, name="#9000", created_at=stamp, updated_at=stamp, email="c@example.com",
                    customer="Racing Customer", phone=None, address=["1 Main St"],
                    lines=[DemoOrderLine(90001, sold, "Item", 2, sold.price, Decimal("0.08"))]))
            assert until(lambda: variant.available[LOCATION_ID] == before - 2), "the other store sells two fewer"
        finally:
            stop.set()
            watcher.join(timeout=WAIT)
        assert not watcher.is_alive(), "a stop ends the watcher"


def _sales(engine) -> int:
    from sqlalchemy import func, select

    from core.models import WebSale

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(WebSale)).scalar()


def test_tandem_watch_stops_cleanly_on_sigterm(tmp_path):
    import signal
    import subprocess
    import sys

    from core.db import open_database
    from core.secrets import save_secret
    from tests.core.test_sync import write_config

    store = make_store(products=5, orders=2)
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    import_catalog(open_database(url), catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        config = write_config(tmp_path, server.url)
        save_secret(tmp_path / "secrets.toml", "Web", "access_token", store.access_token)
        process = subprocess.Popen([sys.executable, "-m", "cli", "--watch", "--db", url, "--config", str(config)],
                                   stderr=subprocess.PIPE, text=True)
        # Both orders stored, then one more poll: a busy machine's retries may spend requests first.
        engine = open_database(url)
        assert until(lambda: _sales(engine) == 2), "the orders come in"
        seen = store.requests["TandemOrders"]
        assert until(lambda: store.requests["TandemOrders"] > seen), "it polls"
        engine.dispose()
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=WAIT)
    assert process.returncode == 0 and "stopped after" in err and "2 new orders" in err, err


def test_a_watcher_killed_is_replaced_by_the_one_waiting(database_url, tmp_path):
    """Two watchers on one database (two machines, on PostgreSQL): the second waits on the sync
    lock; SIGKILL the first, and the second takes over and brings in the next order."""
    import signal
    import subprocess
    import sys

    from core.db import open_database
    from core.secrets import save_secret
    from tests.core.test_sync import write_config

    store = make_store(products=5, orders=1)
    import_catalog(open_database(database_url), catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        config = write_config(tmp_path, server.url)
        save_secret(tmp_path / "secrets.toml", "Web", "access_token", store.access_token)
        command = [sys.executable, "-m", "cli", "--watch", "--db", database_url, "--config", str(config)]
        first = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        assert until(lambda: store.requests["TandemOrders"] >= 2), "the first one polls"
        second = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        said: list[str] = []
        reader = threading.Thread(target=lambda: said.extend(iter(second.stderr.readline, "")), daemon=True)
        reader.start()
        try:
            assert until(lambda: any("waiting to take over" in line for line in said)), "the second one waits"
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=WAIT)
            variant = store.variants()[0][1]
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            with store.lock:
                store.orders.append(DemoOrder(number=950, name="#9500", created_at=stamp, updated_at=stamp,
                                              email=None, customer="After the crash", phone=None, address=[],
                                              lines=[DemoOrderLine(95001, variant, "Item", 1, variant.price)]))
            engine = open_database(database_url)
            from sqlalchemy import func, select

            from core.models import WebSale

            def sales() -> int:
                with engine.connect() as conn:
                    return conn.execute(select(func.count()).select_from(WebSale)).scalar()
            assert until(lambda: sales() == 2), "the second watcher brought in the order placed after the crash"
            engine.dispose()
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=WAIT)
            reader.join(timeout=WAIT)
    assert second.returncode == 0 and any("stopped after" in line for line in said)


def test_a_webhook_wakes_the_watcher_and_a_forged_one_does_not(engine, tmp_path):
    import json as jsonlib
    from datetime import UTC, datetime

    import httpx

    from core.secrets import save_secret
    from core.webhooks import sign

    store = make_store(products=5, orders=1)
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))
    secrets = tmp_path / "secrets.toml"
    save_secret(secrets, "Web", "access_token", store.access_token)
    save_secret(secrets, "Web", "webhook_secret", "whsec_0123456789")
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "shopify", "url": server.url, "location": "Main Street",
                                                "store_location_id": LOCATION_ID}})
        ports, stop = [], threading.Event()
        watcher = threading.Thread(target=watch, args=(engine, stop), kwargs={
            "secrets_path": secrets, "poll_seconds": 1000, "listen": ("127.0.0.1", 0), "on_listening": ports.append})
        watcher.start()
        try:
            assert until(lambda: ports and store.requests["TandemOrders"] == 1), "one round, then it sleeps"
            variant = store.variants()[0][1]
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            with store.lock:
                store.orders.append(DemoOrder(number=960, name="#9600", created_at=stamp, updated_at=stamp,
                                              email=None, customer="Webhook", phone=None, address=[],
                                              lines=[DemoOrderLine(96001, variant, "Item", 1, variant.price)]))
            body = jsonlib.dumps({"id": 960}).encode()
            headers = {"X-Shopify-Hmac-Sha256": sign("whsec_0123456789", body), "X-Shopify-Event-Id": "e-960",
                       "X-Shopify-Topic": "orders/create", "X-Shopify-Triggered-At": datetime.now(UTC).isoformat()}
            url = f"http://127.0.0.1:{ports[0]}/webhooks/Web"
            forged = httpx.post(url, content=body.replace(b"960", b"961"), headers=headers)
            unsigned = httpx.post(url, content=body, headers={k: v for k, v in headers.items() if "Hmac" not in k})
            oversized = httpx.post(url, content=b" " * (300 * 1024), headers=headers)
            assert (forged.status_code, unsigned.status_code, oversized.status_code) == (401, 401, 413)
            time.sleep(0.5)
            assert store.requests["TandemOrders"] == 1, "nothing refused woke it"
            assert httpx.post(url, content=body, headers=headers).status_code == 200
            assert until(lambda: store.requests["TandemOrders"] == 2), "the webhook woke it"
            replayed = httpx.post(url, content=body, headers=headers)
            assert replayed.status_code == 200  # answered, so Shopify stops resending, but not used
            time.sleep(0.5)
            assert store.requests["TandemOrders"] == 2
        finally:
            stop.set()
            watcher.join(timeout=WAIT)
    from sqlalchemy import func, select

    from core.models import WebSale
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSale)).scalar() == 2


def test_a_store_out_of_reach_is_backed_off_while_the_other_goes_on(engine):
    from core.connectors.http import RetryPolicy
    from core.sync.watch import WatchState

    up, down = make_store(products=5, orders=1), make_store(products=5, orders=1)
    import_catalog(engine, catalog_for(up), "Main Street", Actor("t"))
    with LoopbackServer(up) as a, LoopbackServer(down) as b:
        apply_channel_settings(engine, {
            "Up": {"platform": "shopify", "url": a.url, "location": "Main Street", "store_location_id": LOCATION_ID},
            "Down": {"platform": "shopify", "url": b.url, "location": "Main Street", "store_location_id": LOCATION_ID}})
        once = RetryPolicy(attempts=1, total_seconds=5, initial_wait=0.01, max_wait=0.01)
        connectors = {"Up": shopify(a, lambda s: None), "Down": shopify(b, lambda s: None, policy=once)}
        down.fail_next(*["500"] * 50)
        state, stop = WatchState(), threading.Event()
        watcher = threading.Thread(target=watch, args=(engine, stop), kwargs={
            "connectors": connectors, "poll_seconds": 0.1, "state": state})
        watcher.start()
        try:
            assert until(lambda: up.requests["TandemOrders"] >= 10), "the store in reach is read round after round"
        finally:
            stop.set()
            watcher.join(timeout=WAIT)
    assert "Down" in state.errors and state.backoff["Down"] >= 5
    assert len(down.faults) >= 48, "the store out of reach was asked once, then left alone while backing off"


def test_webhooks_registered_with_both_stores_bring_their_orders_at_once(engine, tmp_path):
    from core.secrets import save_secret

    shop_store, woo_store = make_store(products=10, orders=0), make_store(products=10, orders=0)
    import_catalog(engine, catalog_for(shop_store), "Main Street", Actor("t"))
    secrets = tmp_path / "secrets.toml"
    save_secret(secrets, "Shopify", "webhook_secret", shop_store.client_secret)
    save_secret(secrets, "Woo", "webhook_secret", "whsec_woo_0123")
    with LoopbackServer(shop_store) as a, LoopbackServer(woo_store) as b:
        apply_channel_settings(engine, {
            "Shopify": {"platform": "shopify", "url": a.url, "location": "Main Street", "store_location_id": LOCATION_ID},
            "Woo": {"platform": "woocommerce", "url": b.url, "location": "Main Street"}})
        connectors = {"Shopify": shopify(a, lambda s: None), "Woo": woo(b, lambda s: None)}
        run_sync(engine, options=SyncOptions(export_now=True), connectors=connectors, log=lambda m: None)
        ports, stop = [], threading.Event()
        watcher = threading.Thread(target=watch, args=(engine, stop), kwargs={
            "connectors": connectors, "secrets_path": secrets, "poll_seconds": 1000, "listen": ("127.0.0.1", 0),
            "on_listening": ports.append})
        watcher.start()
        try:
            assert until(lambda: bool(ports))
            base = f"http://127.0.0.1:{ports[0]}/webhooks"
            assert len(connectors["Shopify"].register_webhooks(f"{base}/Shopify")) == 2
            assert len(connectors["Woo"].register_webhooks(f"{base}/Woo", "whsec_woo_0123")) == 2
            # WooCommerce pings each new webhook, unsigned: answered 200 (or it stays "pending"), used for nothing.
            assert woo_store.pings == [(f"{base}/Woo", 200)] * 2
            polls = shop_store.requests["TandemOrders"]
            for store, number in ((shop_store, 970), (woo_store, 971)):
                variant = store.variants()[0][1]
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                store.place_order(DemoOrder(number=number, name=f"#{number}", created_at=stamp, updated_at=stamp,
                                            email=None, customer="Hooked", phone=None, address=[],
                                            lines=[DemoOrderLine(number * 10, variant, "Item", 1, variant.price)]))
            from sqlalchemy import func, select

            from core.models import WebSale

            def sales() -> int:
                with engine.connect() as conn:
                    return conn.execute(select(func.count()).select_from(WebSale)).scalar()
            assert until(lambda: sales() == 2), "both orders came in on their webhooks, not on a poll"
            assert shop_store.requests["TandemOrders"] > polls
        finally:
            stop.set()
            watcher.join(timeout=WAIT)


def test_webhooks_are_registered_from_the_command_line(tmp_path, capsys):
    from cli import main
    from core.db import open_database
    from core.secrets import save_secret
    from tests.core.test_sync import write_config

    store = make_store(products=5, orders=0)
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    import_catalog(open_database(url), catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        config = write_config(tmp_path, server.url)
        save_secret(tmp_path / "secrets.toml", "Web", "access_token", store.access_token)
        assert main(["--watch", "--register-webhooks", "https://shop.example/tandem", "--db", url,
                     "--config", str(config)]) == 0
    assert "Web: 2 webhooks now go to https://shop.example/tandem/webhooks/Web" in capsys.readouterr().out
    assert [hook[1] for hook in store.webhooks] == ["https://shop.example/tandem/webhooks/Web"] * 2
    with pytest.raises(SystemExit):
        main(["--watch", "--listen", "8787"])
    with pytest.raises(SystemExit):
        main(["--sync", "--listen", "127.0.0.1:8787"])


def test_a_catalog_import_and_a_cancelled_order_reach_the_stores_while_the_watcher_runs(engine):
    """Availability changed by something other than a new order — a POS import at the counter, an
    order cancelled on one store — reaches every store within the watcher's next rounds too."""
    shop_store, woo_store = make_store(products=5, orders=0), make_store(products=5, orders=0)
    import_catalog(engine, catalog_for(shop_store), "Main Street", Actor("t"))
    with LoopbackServer(shop_store) as a, LoopbackServer(woo_store) as b:
        apply_channel_settings(engine, {
            "Shopify": {"platform": "shopify", "url": a.url, "location": "Main Street", "store_location_id": LOCATION_ID},
            "Woo": {"platform": "woocommerce", "url": b.url, "location": "Main Street"}})
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(engine, stop), kwargs={
            "connectors": {"Shopify": shopify(a, lambda s: None), "Woo": woo(b, lambda s: None)},
            "poll_seconds": 0.2})
        watcher.start()
        try:
            sold = next(v for _p, v in shop_store.variants() if v.number == 3)
            other = next(v for _p, v in woo_store.variants() if v.number == 3)
            assert until(lambda: (sold.available[LOCATION_ID], other.available[LOCATION_ID]) == (3, 3)), \
                "the first round sends the shop's count (3 % 7) to both"
            rows = catalog_for(shop_store).decode().replace(
                f"POS-3,Product 3,{sold.barcode},{sold.mpn},{sold.price + 1},3",
                f"POS-3,Product 3,{sold.barcode},{sold.mpn},{sold.price + 1},9")
            import_catalog(engine, rows.encode(), "Main Street", Actor("t"))
            assert until(lambda: (sold.available[LOCATION_ID], other.available[LOCATION_ID]) == (9, 9)), \
                "the import's new count is on both stores"
            stamp = shop_store.touch()
            order = DemoOrder(number=980, name="#9800", created_at=stamp, updated_at=stamp, email=None,
                              customer="Changes mind", phone=None, address=[],
                              lines=[DemoOrderLine(98001, sold, "Item", 2, sold.price, Decimal("0"))])
            shop_store.place_order(order)
            assert until(lambda: other.available[LOCATION_ID] == 7), "the other store sells two fewer"
            with shop_store.lock:
                time.sleep(1.0)  # the store's timestamps are whole seconds: the cancellation comes later
                # Cancelled with restocking, as Shopify's orderCancel(restock: true) does.
                order.cancelled_at = order.updated_at = shop_store.touch()
                sold.available[LOCATION_ID] += 2
            assert until(lambda: other.available[LOCATION_ID] == 9), "the cancelled units are offered again"
        finally:
            stop.set()
            watcher.join(timeout=WAIT)


def test_the_watcher_goes_on_after_losing_its_database_connections(database_url):
    """PostgreSQL drops every session of the watcher (a server restart, a network cut): the watcher
    takes the lock again and brings in the next order."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to lose")
    from sqlalchemy import func, select, text

    from core.db import open_database
    from core.models import WebSale

    engine = open_database(database_url)
    store = make_store(products=5, orders=1)
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "shopify", "url": server.url, "location": "Main Street",
                                                "store_location_id": LOCATION_ID}})
        said, stop = [], threading.Event()
        watcher = threading.Thread(target=watch, args=(engine, stop), kwargs={
            "connectors": {"Web": shopify(server, lambda s: None)}, "poll_seconds": 0.2, "log": said.append})
        watcher.start()
        other = open_database(database_url)

        def sales() -> int:
            with other.connect() as conn:
                return conn.execute(select(func.count()).select_from(WebSale)).scalar()
        try:
            assert until(lambda: sales() == 1 and store.requests["TandemOrders"] >= 3)
            with other.connect() as conn:
                dropped = conn.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
            assert dropped >= 1
            variant = store.variants()[0][1]
            stamp = store.touch()
            store.place_order(DemoOrder(number=985, name="#9850", created_at=stamp, updated_at=stamp, email=None,
                                        customer="After the cut", phone=None, address=[],
                                        lines=[DemoOrderLine(98501, variant, "Item", 1, variant.price)]))
            assert until(lambda: sales() == 2), said
            assert watcher.is_alive()
            assert any("sync lock" in line or "database" in line for line in said), "it noticed, and said so"
        finally:
            stop.set()
            watcher.join(timeout=WAIT)
            other.dispose()
            engine.dispose()


def test_a_listen_address_already_taken_is_said_plainly(tmp_path, capfd):
    import socket

    from cli import EXIT_USAGE, main
    from tests.core.test_sync import write_config

    from core.db import open_database

    store = make_store(products=2, orders=0)
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    import_catalog(open_database(url), catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = write_config(tmp_path, server.url)
        from core.secrets import save_secret

        save_secret(tmp_path / "secrets.toml", "Web", "access_token", store.access_token)
        code = main(["--watch", "--listen", f"127.0.0.1:{taken.getsockname()[1]}",
                     "--db", url, "--config", str(config)])
    err = capfd.readouterr().err
    assert code == EXIT_USAGE and "cannot listen on 127.0.0.1:" in err and "Traceback" not in err, err


def test_a_sync_asked_for_at_a_console_is_run_by_the_watcher_that_holds_the_lock(engine):
    from sqlalchemy import func, select

    from core.models import SyncCursor, SyncRun
    from core.sync.runner import SyncBusy
    from core.watch_status import request_sync

    store = make_store(products=5, orders=0)
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))

    def runs() -> int:
        """Whole syncs finished."""
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(SyncRun).where(SyncRun.status == "ok")).scalar_one()

    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Woo": {"platform": "woocommerce", "url": server.url, "location": "Main Street"}})
        connectors = {"Woo": woo(server, lambda s: None)}
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(engine, stop), kwargs={
            "connectors": connectors, "poll_seconds": 0.1, "full_sync_seconds": 3600})
        watcher.start()
        try:
            assert until(lambda: runs() >= 1), "the watcher's first whole sync"
            with pytest.raises(SyncBusy):
                run_sync(engine, connectors=connectors, log=lambda m: None)
            before = runs()
            assert request_sync(engine, "Woo", Actor("anna", role="cashier")) == ["Woo"]
            assert until(lambda: runs() == before + 1), "the watcher ran the whole sync asked for"
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(SyncCursor)
                                    .where(SyncCursor.name == "sync_requested")).scalar_one() == 0, "taken once"
            time.sleep(0.5)  # a few more rounds: the request is not run twice
            assert runs() == before + 1
        finally:
            stop.set()
            watcher.join(timeout=WAIT)
