"""`tandem --watch` killed outright (SIGKILL) at random moments while customers order on two
stores that share one stock, and started again each time: in the end every order is in the shop
once, and both stores hold what the shop has left."""

import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from core.audit import Actor
from core.catalog_import import import_catalog
from core.db import open_database
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine
from core.models import WebSale, WebSaleLine
from core.secrets import save_secret

from tests.waiting import until
from tests.core.connectors.conftest import make_store
from tests.core.test_sync import catalog_for

WAIT = 90.0  # an upper bound only: the test goes on as soon as what it waits for is seen
KILLS = 6
ORDERS = 24



def test_a_watcher_killed_at_random_moments_loses_and_doubles_nothing(tmp_path):
    rng = random.Random(20261129)
    shopify, woo = make_store(products=12, orders=0), make_store(products=12, orders=0)
    on_hand = {v.number: v.number % 7 for p in shopify.products for v in p.variants}  # catalog_for's quantities
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    import_catalog(open_database(url), catalog_for(shopify), "Main Street", Actor("t"))
    with LoopbackServer(shopify) as a, LoopbackServer(woo) as b:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[channels.Shop]\nplatform = "shopify"\nurl = "{a.url}"\nlocation = "Main Street"\n'
            f'store_location_id = "{LOCATION_ID}"\n\n'
            f'[channels.Woo]\nplatform = "woocommerce"\nurl = "{b.url}"\nlocation = "Main Street"\n')
        secrets = tmp_path / "secrets.toml"
        save_secret(secrets, "Shop", "access_token", shopify.access_token)
        save_secret(secrets, "Woo", "consumer_key", woo.consumer_key)
        save_secret(secrets, "Woo", "consumer_secret", woo.consumer_secret)
        command = [sys.executable, "-m", "cli", "--watch", "--db", url, "--config", str(config)]

        placed: list[tuple[str, DemoOrder]] = []
        ordered = Counter()  # variant number -> units ordered on either store
        done = threading.Event()

        def customers() -> None:
            for number in range(1, ORDERS + 1):
                time.sleep(rng.uniform(0.1, 1.2))
                name, store = rng.choice([("Shop", shopify), ("Woo", woo)])
                with store.lock:
                    in_stock = [v for _p, v in store.variants() if v.available[LOCATION_ID] > 0]
                    if not in_stock:
                        continue
                    variant = rng.choice(in_stock)
                    stamp = store.touch()
                    order = DemoOrder(number=3000 + number, name=f"#{3000 + number}", created_at=stamp,
                                      updated_at=stamp, email=None, customer=f"Customer {number}", phone=None,
                                      address=[], lines=[DemoOrderLine(30000 + number, variant, "Item", 1,
                                                                       variant.price, Decimal("0.08"))])
                    store.place_order(order)
                placed.append((name, order))
                ordered[variant.number] += 1
            done.set()

        shopper = threading.Thread(target=customers)
        watcher = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        shopper.start()
        kills = 0
        try:
            while kills < KILLS:
                time.sleep(rng.uniform(0.5, 3.5))  # imports, a read, a commit, an export: anywhere
                watcher.send_signal(signal.SIGKILL)
                watcher.wait(timeout=WAIT)
                kills += 1
                watcher = subprocess.Popen(command, stderr=subprocess.DEVNULL)
            assert done.wait(WAIT) and len(placed) >= ORDERS // 2, "the customers ordered while it was killed"
            shopper.join(timeout=WAIT)

            engine = open_database(url)

            def sales_in() -> int:
                with engine.connect() as conn:
                    return conn.execute(select(func.count()).select_from(WebSale)).scalar()

            def shop_says(number: int) -> int:
                return max(on_hand[number] - ordered[number], 0)

            def stores_hold_the_shops_availability() -> bool:
                return all(v.available[LOCATION_ID] == shop_says(v.number)
                           for store in (shopify, woo) for _p, v in store.variants())

            assert until(lambda: sales_in() == len(placed)), f"{sales_in()} sales for {len(placed)} orders"
            assert until(stores_hold_the_shops_availability), [
                (name, v.number, v.available[LOCATION_ID], shop_says(v.number))
                for name, store in (("Shop", shopify), ("Woo", woo)) for _p, v in store.variants()
                if v.available[LOCATION_ID] != shop_says(v.number)]
        finally:
            watcher.send_signal(signal.SIGTERM)
            watcher.wait(timeout=WAIT)
    with engine.connect() as conn:
        per_store = Counter(dict(conn.execute(select(WebSale.channel_id, func.count()).group_by(WebSale.channel_id)).all()))
        units = conn.execute(select(func.sum(WebSaleLine.quantity))).scalar()
    assert sorted(per_store.values()) == sorted(Counter(name for name, _o in placed).values())
    assert units == len(placed), "every order's unit in once"
    assert watcher.returncode == 0
