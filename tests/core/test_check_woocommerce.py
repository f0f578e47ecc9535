"""`tandem --check` on a WooCommerce channel, through the CLI against the WooCommerce double on
loopback: the key may write, the part-number meta key is where the shop's part numbers are (not on
whichever products happen to be newest), and the Local Pickup locations the settings name."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from cli import main
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID
from core.secrets import save_secret

from tests.core.connectors.conftest import KEY, SECRET, make_store
from tests.core.test_check import check


@pytest.fixture
def woo_shop(tmp_path, capsys):
    """Opens a shop on a WooCommerce channel: the store served on loopback, the POS catalog
    imported from CSV, the key saved, and the settings written; gives (config, db)."""
    with ExitStack() as stack:
        def open_shop(store, csv: str, *, locations: dict[str, str] | None = None, settings: str = ""):
            server = stack.enter_context(LoopbackServer(store))
            db = f"sqlite:///{tmp_path / 'shop.sqlite'}"
            (tmp_path / "c.csv").write_text(csv)
            assert main(["--import-catalog", str(tmp_path / "c.csv"), "--location", "Main Street", "--db", db]) == 0
            for name in list(locations or {})[1:]:
                assert main(["--add-location", name, "--db", db]) == 0
            capsys.readouterr()
            save_secret(tmp_path / "secrets.toml", "Web", "consumer_key", KEY)
            save_secret(tmp_path / "secrets.toml", "Web", "consumer_secret", SECRET)
            text = (f'[channels.Web]\nplatform = "woocommerce"\nurl = "{server.url}"\nlocation = "Main Street"\n'
                    f'{settings}')
            if locations:
                text += "[channels.Web.locations]\n" + "".join(f'"{shop}" = "{store_name}"\n'
                                                               for shop, store_name in locations.items())
            (tmp_path / "config.toml").write_text(text)
            return str(tmp_path / "config.toml"), db

        yield open_shop


def without_meta(store, keep=()):
    """The store's products lose their part-number meta, but for the product numbers in `keep`."""
    for product in store.products:
        for variant in product.variants:
            variant.mpn = variant.mpn if product.number in keep else None
    return store


def catalog(*rows: tuple[str, str]) -> str:
    """A POS catalog of (SKU, part number) rows."""
    return "sku,description,price,quantity,part_number\n" + "".join(
        f"{sku},Item {sku},9.99,2,{part}\n" for sku, part in rows)


def snapshot(store) -> list:
    return [(v.number, v.sku, v.price, v.mpn, dict(v.available), v.updated_at) for _, v in store.variants()]


def only(lines: list[str], words: str) -> str:
    found = [line for line in lines if words in line]
    assert len(found) == 1, lines
    return found[0]


def test_an_older_product_with_the_meta_passes_though_the_newest_lack_it(woo_shop, capsys):
    store = without_meta(make_store(products=25, orders=0), keep={1})
    newest = sorted(store.products, key=lambda p: p.number, reverse=True)[:20]
    assert not any(v.mpn for p in newest for v in p.variants), "the old check's sample: the 20 newest, none with it"
    config, db = woo_shop(store, catalog(("SKU-1", "MPN-1"), ("TUBE", "T-100")))
    code, lines = check(capsys, config, db)
    assert code == 0, lines
    line = only(lines, "part-number meta key")
    assert line.startswith("ok") and "filled on 1 of 1 web product of" in line


@pytest.mark.parametrize(("settings", "key"), [("", "'mpn'"), ('part_number_field = "_manufacturer_no"\n',
                                                                 "'_manufacturer_no'")],
                         ids=["default key", "part_number_field"])
def test_products_found_without_the_meta_fail_and_name_the_key(woo_shop, capsys, settings, key):
    store = make_store(products=4, orders=0) if settings else without_meta(make_store(products=4, orders=0))
    config, db = woo_shop(store, catalog(("SKU-2", "MPN-2"), ("SKU-3", "MPN-3")), settings=settings)
    code, lines = check(capsys, config, db)
    assert code == 1
    line = only(lines, "meta key")
    assert line.startswith("FAIL") and "none of the 2 web products" in line and f"meta key {key}" in line
    assert "for example SKU SKU-2" in line and "part_number_field" in line


def test_no_part_number_in_the_shop_is_nothing_to_check(woo_shop, capsys):
    config, db = woo_shop(without_meta(make_store(products=3, orders=0)), "sku,description,price\nSKU-1,A,1.00\n")
    code, lines = check(capsys, config, db)
    assert code == 0, lines
    assert only(lines, "part number").startswith("ok") and "nothing to check" in only(lines, "part number")


def test_part_numbers_on_no_web_product_yet_warn(woo_shop, capsys):
    config, db = woo_shop(make_store(products=3, orders=0), catalog(("POS-1", "MPN-1"), ("POS-2", "MPN-2")))
    code, lines = check(capsys, config, db)
    assert code == 0, lines
    line = only(lines, "meta key 'mpn'")
    assert line.startswith("WARN") and "cannot be checked yet" in line and "tandem --sync" in line


def test_linked_variations_are_read_by_id_and_take_their_parents_meta(woo_shop, capsys):
    """After a sync links the shop's products (by barcode: the shop's SKUs are not the store's), the
    check reads those listings by id; a variation without the meta has its product's."""
    store = without_meta(make_store(products=3, variants=2, orders=0))
    store.products[1].mpn = "MPN-P2"
    rows = [f"POS-{v.number},Item {v.number},{v.barcode},PN-{v.number},9.99,2" for _, v in store.variants()]
    config, db = woo_shop(store, "sku,description,upc,part_number,price,quantity\n" + "\n".join(rows) + "\n")
    assert main(["--sync", "--config", config, "--db", db]) == 0
    capsys.readouterr()
    code, lines = check(capsys, config, db)
    assert code == 0, lines
    assert "filled on 2 of 6 web products" in only(lines, "part-number meta key")
    store.products[1].mpn = None
    code, lines = check(capsys, config, db)
    assert code == 1 and "none of the 6 web products" in only(lines, "meta key")


@pytest.mark.parametrize("permission", ["read", "read_write"])
def test_the_write_probe_tells_a_read_only_key_and_changes_nothing(woo_shop, capsys, permission):
    store = make_store(products=5, orders=0)
    store.consumer_key_permission = permission
    config, db = woo_shop(store, catalog(("SKU-1", "MPN-1")))
    before = snapshot(store)
    code, lines = check(capsys, config, db)
    assert snapshot(store) == before
    assert store.requests["POST products"] == (1 if permission == "read_write" else 0)
    assert any("consumer key and secret are accepted" in line for line in lines)
    if permission == "read":
        assert code == 1
        line = only(lines, "read-only")
        assert line.startswith("FAIL") and "REST API" in line and "Read/Write" in line
    else:
        assert code == 0, lines
        assert only(lines, "may write").startswith("ok")


def test_named_pickup_locations_seen_on_recent_orders_pass_and_a_misspelt_one_warns(woo_shop, capsys):
    store = make_store(products=3, orders=3)
    store.orders[1].pickup_location = LOCATION_ID  # collected at "Main warehouse"
    config, db = woo_shop(store, catalog(("SKU-1", "MPN-1")),
                          locations={"Main Street": " main WAREHOUSE", "Riverside": "Main warehous"})
    code, lines = check(capsys, config, db)
    assert code == 0, lines
    assert only(lines, "offers Local Pickup").startswith("ok")
    assert only(lines, "“ main WAREHOUSE”").startswith("ok")
    misspelt = only(lines, "“Main warehous”")
    assert misspelt.startswith("WARN") and "any of the store's 3 recent orders" in misspelt
    assert "WooCommerce → Settings → Shipping → Local pickup" in misspelt
    assert "sum of the 2 shop locations" in only(lines, "one stock per product")


def test_pickup_locations_named_on_a_store_without_local_pickup_fail(woo_shop, capsys):
    store = make_store(products=3, orders=1)
    store.offers_local_pickup = False
    config, db = woo_shop(store, catalog(("SKU-1", "MPN-1")), locations={"Main Street": "Main warehouse"})
    code, lines = check(capsys, config, db)
    assert code == 1
    line = only(lines, "Local Pickup")
    assert line.startswith("FAIL") and "Settings → Shipping → Local pickup" in line and "Checkout block" in line


def test_a_channel_naming_no_pickup_location_says_nothing_of_pickup(woo_shop, capsys):
    store = make_store(products=3, orders=1)
    config, db = woo_shop(store, catalog(("SKU-1", "MPN-1")))
    code, lines = check(capsys, config, db)
    assert code == 0, lines
    assert not any("pickup" in line.lower() for line in lines)
    assert store.requests["GET shipping_methods"] == 0 and store.requests["GET orders"] == 0
    assert "the stock of the channel's shop location" in only(lines, "one stock per product")


def test_a_refused_key_fails_without_showing_it(woo_shop, capsys, tmp_path):
    config, db = woo_shop(make_store(products=3, orders=0), catalog(("SKU-1", "MPN-1")))
    save_secret(tmp_path / "secrets.toml", "Web", "consumer_secret", "cs_wrong_0123456789")
    code, lines = check(capsys, config, db)
    assert code == 1 and not any("cs_wrong_0123456789" in line for line in lines)
    assert any(line.startswith("FAIL") and "refused" in line and "consumer key and secret" in line for line in lines)


def test_a_shop_sku_with_a_comma_is_looked_up_whole(woo_shop, capsys):
    """WooCommerce's `sku` filter also splits at commas: "SKU-1,SKU-2" must not pass for SKU-1 and SKU-2."""
    config, db = woo_shop(make_store(products=3, orders=0),
                          'sku,description,price,part_number\n"SKU-1,SKU-2",A,1.00,P\n')
    code, lines = check(capsys, config, db)
    assert code == 0, lines
    assert only(lines, "meta key 'mpn'").startswith("WARN")


def test_a_variation_found_by_sku_takes_its_parents_meta(woo_shop, capsys):
    store = without_meta(make_store(products=2, variants=2, orders=0))
    store.products[0].mpn = "MPN-P1"
    config, db = woo_shop(store, catalog(("SKU-2", "PN-2"), ("SKU-3", "PN-3")))
    code, lines = check(capsys, config, db)
    assert code == 0, lines
    assert "filled on 1 of 2 web products" in only(lines, "meta key 'mpn'")
