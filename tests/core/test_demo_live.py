"""`tandem --demo` alive: customers order on both demo stores; the watcher brings every order in,
woken by the demo stores' signed webhooks, and both stores end holding what the shop has left."""


from sqlalchemy import func, select

from core.db import open_database
from core.demo import create_demo_database
from core.demo_live import LiveDemo
from core.demo_live import listing_key as live_key
from core.demo_store.catalog import DEMO_CHANNEL, DEMO_SECOND_CHANNEL
from core.demo_store.store import LOCATION_ID
from core.models import SalesChannel, WebSale
from core.sync.export import StockUpdate, _planned
from core.watch_status import watch_status

from tests.waiting import until

WAIT = 90.0  # an upper bound only



def test_customers_order_on_both_demo_stores_and_the_other_store_follows(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    create_demo_database(url)
    engine = open_database(url)

    def sales() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(WebSale)).scalar()

    before = sales()
    # Polls far apart: the orders come in because the stores' webhooks wake the watcher.
    live = LiveDemo(engine, seed=7, poll_seconds=1000, first_order_after=(0.2, 0.4),
                    between_orders=(0.3, 0.8)).start()
    try:
        assert {channel.name for channel in live.channels} == {DEMO_CHANNEL, DEMO_SECOND_CHANNEL}
        assert until(lambda: len(live.placed) >= 8 and len({name for name, _o in live.placed}) == 2), \
            "orders on both stores"
        live.customers_stop()
        placed = list(live.placed)
        assert until(lambda: sales() == before + len(placed)), (sales(), before, len(placed))
        channels = {channel.name: channel for channel in live.channels}
        sold = [live_key(order.lines[0].variant) for _name, order in placed]
        assert set(sold) & live.shared, "customers mostly buy what both stores sell"

        def out_of_step() -> list:
            """Each store's listings whose availability is not the shop's (on hand - committed at Main
            Street, as the export computes it), with both figures."""
            wrong = []
            with engine.connect() as conn:
                for name, channel_id in conn.execute(select(SalesChannel.name, SalesChannel.id)).all():
                    store = channels[name].store
                    by_number = {variant.number: variant for _p, variant in store.variants()}
                    by_product = {product.number: product.variants[0] for product, _v in store.variants()}
                    for _link, update in _planned(conn, channel_id, full=True):
                        if not isinstance(update, StockUpdate):
                            continue
                        number = int(update.listing_external_id.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
                        variant = by_number[number] if "ProductVariant" in update.listing_external_id \
                            else by_product[number]
                        if variant.available[LOCATION_ID] != update.quantity:
                            wrong.append((name, update.listing_external_id, variant.available[LOCATION_ID],
                                          update.quantity))
            return wrong

        assert until(lambda: not out_of_step()), out_of_step()[:10]
        status = watch_status(engine)
        assert status.state == "running" and status.listening
        assert all(channel.webhook_at is not None for channel in status.channels), "woken by each store's webhooks"
    finally:
        live.stop()
    assert watch_status(engine).state == "stopped"
    engine.dispose()
