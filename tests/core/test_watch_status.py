"""What the watcher leaves in the database for the console and `tandem --status`: its heartbeat, and
per store the last read, the last order with its lag, and the error it is backing off from."""

import threading
from datetime import timedelta
from decimal import Decimal

from core.audit import Actor
from core.catalog_import import import_catalog
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine
from core.secrets import save_secret
from core.sync import apply_channel_settings
from core.sync.watch import WATCH_RETRIES, watch
from core.watch_status import STALE_AFTER, channel_line, headline, watch_status

from cli import EXIT_BUSY, main
from tests.waiting import until
from tests.core.connectors.conftest import make_store
from tests.core.test_sync import catalog_for

WAIT = 60.0  # an upper bound only



def test_no_watcher_ever_is_said_and_is_not_healthy(engine, database_url, capsys):
    status = watch_status(engine)
    assert status.state == "never" and not status.healthy
    assert main(["--status", "--db", database_url]) == 1
    assert "off (start it with tandem --watch)" in capsys.readouterr().out


def test_status_while_the_watcher_runs_then_after_it_stops(engine, database_url, tmp_path, capsys):
    store = make_store(products=5, orders=1)
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))
    secrets = tmp_path / "secrets.toml"
    save_secret(secrets, "Web", "access_token", store.access_token)
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "shopify", "url": server.url, "location": "Main Street",
                                                "store_location_id": LOCATION_ID}})
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(engine, stop), kwargs={"secrets_path": secrets,
                                                                           "poll_seconds": 0.2})
        watcher.start()
        try:
            assert until(lambda: watch_status(engine).channels and watch_status(engine).channels[0].read_at)
            variant = store.variants()[0][1]
            stamp = store.touch()
            store.place_order(DemoOrder(number=990, name="#9900", created_at=stamp, updated_at=stamp, email=None,
                                        customer="Status", phone=None, address=[],
                                        lines=[DemoOrderLine(99001, variant, "Item", 1, variant.price, Decimal("0"))]))
            assert until(lambda: watch_status(engine).orders == 2), "the first order, then the one placed now"
            status = watch_status(engine)
            assert status.state == "running" and status.healthy
            channel = status.channels[0]
            assert channel.name == "Web" and channel.error is None and channel.order_at is not None
            # The order was changed on the store at `stamp` (whole seconds): here within seconds of it.
            assert 0 <= channel.lag_seconds < WAIT
            assert main(["--status", "--db", database_url]) == 0
            out = capsys.readouterr().out
            assert "Live sync on" in out and "2 new orders" in out and "Web: read" in out and "last order" in out
            # A heartbeat older than STALE_AFTER: the watcher is taken for gone.
            later = status.heartbeat_at + STALE_AFTER + timedelta(seconds=1)
            gone = watch_status(engine, now=later)
            assert gone.state == "gone" and not gone.healthy
            assert "was last heard from 31 s ago: restart tandem --watch" in headline(gone, later)
            assert main(["--sync", "--db", database_url]) == EXIT_BUSY
            assert "tandem --watch on" in capsys.readouterr().err, "the refusal names the watcher"
        finally:
            stop.set()
            watcher.join(timeout=WAIT)
    status = watch_status(engine)
    assert status.state == "stopped" and not status.healthy
    assert main(["--status", "--db", database_url]) == 1
    assert "stopped" in capsys.readouterr().out


def test_a_store_failing_is_retried_briefly_then_shown_as_backed_off(engine, tmp_path):
    up, down = make_store(products=5, orders=0), make_store(products=5, orders=0)
    import_catalog(engine, catalog_for(up), "Main Street", Actor("t"))
    secrets = tmp_path / "secrets.toml"
    save_secret(secrets, "Up", "access_token", up.access_token)
    save_secret(secrets, "Down", "access_token", down.access_token)
    with LoopbackServer(up) as a, LoopbackServer(down) as b:
        apply_channel_settings(engine, {
            "Up": {"platform": "shopify", "url": a.url, "location": "Main Street", "store_location_id": LOCATION_ID},
            "Down": {"platform": "shopify", "url": b.url, "location": "Main Street", "store_location_id": LOCATION_ID}})
        down.fail_next(*["500"] * 50)
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(engine, stop), kwargs={"secrets_path": secrets,
                                                                           "poll_seconds": 0.2})
        watcher.start()
        try:
            def down_shown() -> bool:
                channels = {c.name: c for c in watch_status(engine).channels}
                return "Down" in channels and channels["Down"].error is not None
            assert until(down_shown)
            asked = 50 - len(down.faults)
            status = watch_status(engine)
        finally:
            stop.set()
            watcher.join(timeout=WAIT)
    # The watcher's own connectors give up after the policy's attempts, not the nightly sync's six.
    assert asked == WATCH_RETRIES.attempts
    channels = {c.name: c for c in status.channels}
    assert channels["Up"].error is None and channels["Up"].read_at is not None
    assert not status.healthy
    line = channel_line(channels["Down"], status.heartbeat_at)
    assert "HTTP 500" in line and "asked again in" in line
    assert "Live sync on" in headline(status, status.heartbeat_at)
