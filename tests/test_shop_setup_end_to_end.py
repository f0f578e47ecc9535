"""A shop sets itself up with nothing but the `tandem` command, as a new shop would: two locations'
counts, the three signed supplier documents, supplier fulfilment switched on, a credential piped
through stdin, and a sync against the demo web store on a loopback port. Then a supplier-shipped
order waits until 02:30 Eastern on the next business day with none of the shop's units taken, a
pickup order lands on the shop the customer chose, and each shop's availability is at its own
store location."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import create_engine, select

from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine
from core.models import Location, Product, Stock, WebSale

from tests.core.connectors.conftest import TOKEN, make_store

ROOT = Path(__file__).resolve().parents[1]
EASTERN = ZoneInfo("America/New_York")
RIVERSIDE = "gid://shopify/Location/2"
COUNTS = "sku,part_number,description,price,quantity\nSKU-1,MPN-1,Tube,11.00,{}\nSKU-2,MPN-2,Chain,12.00,{}\n"


def tandem_command() -> list[str]:
    """The installed `tandem` script beside this Python (as staff run it), else the same entry point."""
    script = Path(sys.executable).parent / "tandem"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


class Shop:
    def __init__(self, folder: Path):
        self.folder = folder
        self.env = {**os.environ, "TANDEM_CONFIG": str(folder / "config.toml"),
                    "TANDEM_DATABASE_URL": f"sqlite:///{folder / 'shop.sqlite'}"}
        self.env.pop("TANDEM_SECRET_WEB_ACCESS_TOKEN", None)

    def run(self, *args: str, stdin: str | None = None) -> str:
        # A session of its own: no terminal to ask a secret from, as under cron or a deploy script.
        done = subprocess.run([*tandem_command(), *args], input=stdin, env=self.env, cwd=ROOT, capture_output=True,
                              text=True, timeout=120, start_new_session=True)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        assert TOKEN not in done.stdout + done.stderr
        return done.stdout


def supplier_order(shipped: datetime, variant) -> DemoOrder:
    stamp = shipped.strftime("%Y-%m-%dT%H:%M:%SZ")
    return DemoOrder(number=601, name="#601", created_at=stamp, updated_at=stamp, email="ana@example.com",
                     customer="Ana Lima", phone=None, address=["Ana Lima", "2 Elm St"],
                     lines=[DemoOrderLine(6010, variant, "Tube", 1, variant.price)], shipping=Decimal("6.00"),
                     tags=["supplier-fulfilled"], fulfilled_at=stamp)


def pickup_order(variant) -> DemoOrder:
    return DemoOrder(number=602, name="#602", created_at="2026-11-27T15:00:00Z", updated_at="2026-11-27T15:00:00Z",
                     email="bo@example.com", customer="Bo Chen", phone=None, address=["Bo Chen", "3 Oak St"],
                     lines=[DemoOrderLine(6020, variant, "Chain", 1, variant.price)], pickup_location=RIVERSIDE)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays.US(years=day.year)


def test_a_shop_sets_itself_up_from_the_command_and_syncs(tmp_path):
    store = make_store(products=2, orders=0)
    store.locations[RIVERSIDE] = "Riverside mall"
    tube, chain = (variant for _, variant in store.variants())
    shipped = datetime.now(UTC).replace(microsecond=0)
    store.orders += [supplier_order(shipped, tube), pickup_order(chain)]
    shop = Shop(tmp_path)
    (tmp_path / "main.csv").write_text(COUNTS.format(10, 5))
    (tmp_path / "riverside.csv").write_text(COUNTS.format(4, 2))
    today = datetime.now(EASTERN).date()

    with LoopbackServer(store) as server:
        (tmp_path / "config.toml").write_text(
            f'[channels.Web]\nplatform = "shopify"\nurl = "{server.url}"\nlocation = "Main Street"\n'
            f'[channels.Web.locations]\n"Main Street" = "{LOCATION_ID}"\n"Riverside" = "{RIVERSIDE}"\n')
        shop.run("--import-catalog", str(tmp_path / "main.csv"), "--location", "Main Street")
        shop.run("--add-location", "Riverside")
        shop.run("--import-catalog", str(tmp_path / "riverside.csv"), "--location", "Riverside")
        signed = (today - timedelta(days=30)).isoformat()
        shop.run("--supplier-document", "Web", "internet_addendum", signed, "--reference", "scans/addendum.pdf")
        shop.run("--supplier-document", "Web", "packing_slip_form", signed)
        shop.run("--supplier-document", "Web", "retailer_contract", signed,
                 "--ends", (today + timedelta(days=365)).isoformat())
        shop.run("--supplier-fulfilment", "Web", "on", "--location", "Main Street")
        assert "saved" in shop.run("--set-secret", "Web", stdin=TOKEN + "\n")
        assert "ok" in shop.run("--check")
        report = json.loads(shop.run("--sync", "--export-now", "--json"))["channels"][0]

    assert report["status"] == "ok" and report["orders_imported"] == 2 and report["orders_held"] == 1, report
    engine = create_engine(shop.env["TANDEM_DATABASE_URL"])
    with engine.connect() as conn:
        sales = {row.order_number: row for row in conn.execute(
            select(WebSale.order_number, WebSale.state, WebSale.held_until, WebSale.fulfillment, Location.name)
            .join(Location, Location.id == WebSale.location_id))}
        committed = {(row.sku, row.name): row.committed for row in conn.execute(
            select(Product.sku, Location.name, Stock.committed).join(Product, Product.id == Stock.product_id)
            .join(Location, Location.id == Stock.location_id))}
    engine.dispose()

    held = sales["#601"]
    assert held.state == "held" and held.fulfillment == "supplier"
    release = held.held_until.replace(tzinfo=UTC).astimezone(EASTERN)
    assert (release.hour, release.minute) == (2, 30), "released at 02:30 Eastern"
    shipped_day = shipped.astimezone(EASTERN).date()
    assert release.date() > shipped_day and is_business_day(release.date())
    between = [shipped_day + timedelta(days=n) for n in range(1, (release.date() - shipped_day).days)]
    assert not any(is_business_day(day) for day in between), "the next business day, not a later one"
    assert committed[("SKU-1", "Main Street")] == 0 and committed[("SKU-1", "Riverside")] == 0, \
        "no shop unit is taken for an order the supplier ships"

    assert sales["#602"].name == "Riverside", "the pickup order is at the shop the customer chose"
    assert committed[("SKU-2", "Riverside")] == 1 and committed[("SKU-2", "Main Street")] == 0
    assert tube.available == {LOCATION_ID: 10, RIVERSIDE: 4}
    assert chain.available == {LOCATION_ID: 5, RIVERSIDE: 1}, "each shop's availability at its store location"
