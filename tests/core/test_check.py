"""`tandem --check` against the demo web store on loopback: one line per point, exit 0 only when
everything holds, and never a credential in what it prints."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest

from cli import main
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID
from core.secrets import save_secret

from tests.core.connectors.conftest import KEY, SECRET, TOKEN, make_store

CATALOG = "sku,description,price,quantity\nTUBE,Tube,8.99,3\n"


@pytest.fixture
def shop(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("core.check.shop_today", lambda: date(2026, 12, 7))  # the API version's age
    store = make_store(products=5, orders=0)
    with LoopbackServer(store) as server:
        db = f"sqlite:///{tmp_path / 'shop.sqlite'}"
        (tmp_path / "c.csv").write_text(CATALOG)
        assert main(["--import-catalog", str(tmp_path / "c.csv"), "--location", "Main Street", "--db", db]) == 0
        capsys.readouterr()
        yield tmp_path, db, server, store


def configure(tmp_path, server, location_id=LOCATION_ID, shop_location="Main Street", platform="shopify"):
    config = tmp_path / "config.toml"
    extra = f'store_location_id = "{location_id}"\n' if platform == "shopify" else ""
    config.write_text(f'[channels.Web]\nplatform = "{platform}"\nurl = "{server.url}"\n'
                      f'location = "{shop_location}"\n{extra}')
    config.chmod(0o600)  # as a shop keeps it (tandem --fix-permissions); else --check warns
    return str(config)


def check(capsys, config, db) -> tuple[int, list[str]]:
    code = main(["--check", "--config", config, "--db", db])
    out, err = capsys.readouterr()
    assert TOKEN not in out + err and SECRET not in out + err
    return code, out.splitlines()


def test_a_good_shopify_channel_passes_every_point(shop, capsys):
    tmp_path, db, server, _ = shop
    config = configure(tmp_path, server)
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    code, lines = check(capsys, config, db)
    assert code == 0, lines
    assert all(line.startswith("ok") for line in lines)
    text = "\n".join(lines)
    assert "access token is accepted by 'Demo web store'" in text and "is 'Main warehouse'" in text
    assert "no shop product has a part number: the field mm-google-shopping.mpn is not needed yet" in text
    assert "readable by its owner only" in text


def test_a_good_woocommerce_channel_passes_every_point(shop, capsys):
    tmp_path, db, server, _ = shop
    config = configure(tmp_path, server, platform="woocommerce")
    save_secret(tmp_path / "secrets.toml", "Web", "consumer_key", KEY)
    save_secret(tmp_path / "secrets.toml", "Web", "consumer_secret", SECRET)
    code, lines = check(capsys, config, db)
    assert code == 0, lines
    assert any("consumer key and secret are accepted" in line for line in lines)


def test_a_refused_token_fails_and_says_which_credential(shop, capsys):
    tmp_path, db, server, _ = shop
    config = configure(tmp_path, server)
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", "shpat_wrong_0123456789")
    code, lines = check(capsys, config, db)
    assert code == 1
    assert any(line.startswith("FAIL") and "refused" in line and "access token" in line for line in lines)
    assert not any("shpat_wrong_0123456789" in line for line in lines)


def test_a_missing_store_location_and_a_missing_shop_location_fail(shop, capsys):
    tmp_path, db, server, _ = shop
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    code, lines = check(capsys, configure(tmp_path, server, location_id="gid://shopify/Location/999"), db)
    assert code == 1 and any(line.startswith("FAIL") and "no location gid://shopify/Location/999" in line
                             for line in lines)
    code, lines = check(capsys, configure(tmp_path, server, shop_location="Riverside"), db)
    assert code == 1 and any(line.startswith("FAIL") and "“Riverside” does not exist" in line for line in lines)


def test_missing_scopes_are_named(shop, capsys):
    tmp_path, db, server, store = shop
    store.scopes = ["read_products", "read_orders"]
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    code, lines = check(capsys, configure(tmp_path, server), db)
    lacking = [line.split("lacks the scope ")[1].split(",")[0] for line in lines if "lacks the scope" in line]
    assert code == 1 and lacking == ["write_products", "write_inventory", "read_locations", "write_orders",
                                     "read_all_orders", "write_merchant_managed_fulfillment_orders"]


def test_the_part_number_field_is_looked_for_on_products_that_have_one_not_on_the_newest(shop, capsys):
    """The newest listings lack the field; the older ones of products with a part number have it."""
    from core.demo_store.store import DemoProduct, DemoVariant

    tmp_path, db, server, store = shop
    catalog = tmp_path / "parts.csv"
    first = store.products[0].variants[0]
    catalog.write_text(f"sku,description,upc,part_number,price,quantity\nPART,Part,{first.barcode},{first.mpn},9.99,1\n")
    assert main(["--import-catalog", str(catalog), "--location", "Main Street", "--db", db]) == 0
    capsys.readouterr()
    for number in range(100, 130):  # thirty newer listings without a part number
        store.products.append(DemoProduct(number=number, title=f"New {number}", variants=[DemoVariant(
            number=number, title="Default Title", sku=f"NEW-{number}", barcode=None, price=Decimal("5.00"),
            mpn=None, available={})]))
    store._variants_in_order = None
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    code, lines = check(capsys, configure(tmp_path, server), db)
    assert code == 0, lines
    assert "Web: the part-number field mm-google-shopping.mpn is filled on 1 of 1 listings" in "\n".join(lines)
    first.mpn = None  # the one listing of a product with a part number lacks it: the field name is wrong
    code, lines = check(capsys, configure(tmp_path, server), db)
    assert code == 1 and any(line.startswith("FAIL") and "has the field mm-google-shopping.mpn" in line
                             for line in lines)


def test_a_secrets_file_others_can_read_fails(shop, capsys):
    tmp_path, db, server, _ = shop
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    os.chmod(tmp_path / "secrets.toml", 0o644)
    code, lines = check(capsys, configure(tmp_path, server), db)
    assert code == 1
    assert any(line.startswith("FAIL") and "secrets file" in line and "chmod 600" in line for line in lines)


def test_every_store_location_a_channel_sells_is_checked(shop, capsys):
    tmp_path, db, server, store = shop
    assert main(["--add-location", "Riverside", "--db", db]) == 0
    capsys.readouterr()
    store.locations["gid://shopify/Location/2"] = "Riverside mall"
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    config = tmp_path / "config.toml"
    sold = f'[channels.Web]\nplatform = "shopify"\nurl = "{server.url}"\n[channels.Web.locations]\n' \
           f'"Main Street" = "{LOCATION_ID}"\n"Riverside" = "gid://shopify/Location/'
    config.write_text(sold + '2"\n')
    code, lines = check(capsys, str(config), db)
    assert code == 0, lines
    assert "the store location gid://shopify/Location/2 is 'Riverside mall'" in "\n".join(lines)
    config.write_text(sold + '7"\n')
    code, lines = check(capsys, str(config), db)
    assert code == 1 and [line for line in lines if line.startswith("FAIL")] == [
        "FAIL  Web: the store has no location gid://shopify/Location/7"]
