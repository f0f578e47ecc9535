"""Random and hostile input to every door data comes in by: the catalog importer, the order
parsers of both connectors, and the settings file. Each piece is either refused with an error
meant for people or taken in correctly; never a traceback, never half of it written. The
parsed orders and the catalog go all the way into the database, SQLite and PostgreSQL, since
that is where a NUL byte or a 30-digit quantity would finally break."""

from __future__ import annotations

import copy
import csv
import io
import json
import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.audit import Actor
from core.catalog_import import CatalogImportError, import_catalog
from core.channels import add_channel
from core.connectors import shopify, woocommerce
from core.connectors.base import ConnectorError, read_order
from core.demo_store.shopify_api import _order_node
from core.locations import resolve_location
from core.models import Platform, Product, WebSale, WebSaleLine
from core.sync import import_orders
from core.settings import ConfigError, load_settings

from tests.conftest import dump
from tests.core.connectors.conftest import make_store

PLATFORMS = Path(__file__).resolve().parents[1] / "platforms"
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(min_size=300, max_size=3000),
    st.text(max_size=20).map(lambda t: f"{t}\x00{t}"),
    st.sampled_from(["", " ", "\x00", "-1", "-0.01", "0", "99999999999999999999", "1e30", "NaN", "Infinity",
                     "12.3456789012", "0.0000000001", "١٢٣", "12,50", "$5", "\ufeff7", "7\r\n8", '"', "\u202e"]),
)
HOSTILE_JSON = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), HOSTILE_TEXT,
    st.sampled_from([[], {}, [None], {"amount": "x"}, "2026-13-45T99:00:00Z", "not a date", "12.3456789012"]),
)


# --- the catalog ------------------------------------------------------------------------------

def csv_bytes(header: list[str], rows: list[list[str]], encoding_damage: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    if encoding_damage:
        data = data[: len(data) // 2] + b"\xff\xfe\xc3(" + data[len(data) // 2:]
    return data


CATALOG_HEADER = ["sku", "description", "upc", "part_number", "price", "quantity"]


@st.composite
def catalogs(draw):
    kind = draw(st.sampled_from(["structured", "structured", "structured", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    rows = draw(st.lists(st.lists(HOSTILE_TEXT, min_size=6, max_size=6), min_size=1, max_size=8))
    if draw(st.booleans()):  # a file of good lines but for odd descriptions, so the import path is taken too
        rows = [[f"SK-{n}", draw(st.text(min_size=1, max_size=200).filter(str.strip)), "",
                 draw(st.sampled_from(["", "MPN-1", "mpn 2"])),
                 draw(st.from_regex(r"[0-9]{1,6}(\.[0-9]{1,2})?", fullmatch=True)),
                 draw(st.from_regex(r"[0-9]{1,5}", fullmatch=True))] for n in range(len(rows))]
        if draw(st.booleans()):  # and one hostile cell somewhere
            rows[draw(st.integers(0, len(rows) - 1))][draw(st.integers(0, 5))] = draw(HOSTILE_TEXT)
    return csv_bytes(CATALOG_HEADER, rows, draw(st.integers(0, 9)) == 0)


@FUZZ
@given(data=catalogs())
def test_the_catalog_importer_refuses_or_imports_never_half(engine, data):
    before = dump(engine)
    try:
        report = import_catalog(engine, data, "Main Street", Actor("fuzz"))
    except CatalogImportError as exc:
        event("refused")
        assert str(exc).strip(), "the refusal says why"
        assert dump(engine) == before, "a refused file writes nothing"
        return
    event("imported")
    # Taken in: every line of the file is a product with exactly the file's SKU and price.
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert report.rows == len(rows)
    with engine.connect() as conn:
        for row in rows:
            price = conn.execute(select(Product.price).where(Product.sku == row["sku"].strip())).scalar()
            assert price == Decimal(row["price"].strip() or "0"), row


# --- the order parsers ------------------------------------------------------------------------

def woo_order() -> dict:
    return json.loads((PLATFORMS / "woocommerce" / "orders_list_example.json").read_text())[0]


def shopify_order() -> dict:
    return _order_node(make_store(orders=1, lines=3).orders[0], 20)


def paths(value, prefix=()):
    """Every place in a JSON document a value can be replaced."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def replaced(document, path, value):
    if not path:
        return value
    document = copy.deepcopy(document)
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


@st.composite
def damaged(draw, original):
    document = original
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(list(paths(document))))
        document = replaced(document, where, draw(HOSTILE_JSON))
    return document


PARSERS = {
    "shopify": (shopify_order, shopify.parse_order, ("supplier-fulfilled", None)),
    "woocommerce": (woo_order, woocommerce.parse_order, ("supplier_fulfilled", None)),
}


@pytest.fixture
def channel(engine):
    with engine.begin() as conn:
        return add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com")


@pytest.mark.parametrize("platform", list(PARSERS))
def test_the_untouched_examples_parse(platform):
    make, parse, args = PARSERS[platform]
    order = read_order(make(), parse, *args)
    assert order.lines and all(line.quantity > 0 for line in order.lines)


def check_order_survives(engine, channel, raw, parse, args):
    try:
        order = read_order(raw, parse, *args)
    except ConnectorError as exc:
        event("refused")
        assert str(exc) and "Traceback" not in str(exc)
        return
    event("taken in")
    for line in order.lines:
        assert 0 <= line.quantity <= 100_000
        assert line.unit_price == line.unit_price.quantize(Decimal("0.01"))
    assert order.total == order.total.quantize(Decimal("0.01"))
    # What was taken in must go into the database whole: one order, all its lines, or nothing.
    # (Each example is its own order here; the examples share one database.)
    order = replace(order, external_id=uuid.uuid4().hex)
    with engine.begin() as conn:
        import_orders(conn, channel, [order])
    with engine.connect() as conn:
        sale = conn.execute(select(WebSale.id, WebSale.total).where(WebSale.external_id == order.external_id)).one()
        lines = conn.execute(select(func.count()).where(WebSaleLine.sale_id == sale.id)).scalar()
    assert sale.total == order.total
    assert lines == len({line.external_id for line in order.lines})


@FUZZ
@given(raw=damaged(shopify_order()))
def test_shopify_orders_from_a_broken_store(engine, channel, raw):
    check_order_survives(engine, channel, raw, shopify.parse_order, ("supplier-fulfilled", None))


@FUZZ
@given(raw=damaged(woo_order()))
def test_woocommerce_orders_from_a_broken_store(engine, channel, raw):
    check_order_survives(engine, channel, raw, woocommerce.parse_order, ("supplier_fulfilled", None))


@pytest.mark.parametrize(("platform", "path", "value", "words"), [
    ("woocommerce", ("line_items", 0, "quantity"), -3, "asks for -3 units"),
    ("woocommerce", ("line_items", 0, "quantity"), 10**30, "units"),
    ("woocommerce", ("total",), "1e30", "not a number"),
    ("woocommerce", ("total",), "99999999999.00", "not an amount a shop charges"),
    ("woocommerce", ("date_created_gmt",), None, "no creation date"),
    ("shopify", ("lineItems", "edges", 0, "node", "quantity"), "many", "cannot read .a value of the wrong kind"),
    ("shopify", ("lineItems", "edges", 0, "node", "taxLines"), 7, "cannot read .a field of the wrong type"),
    ("shopify", ("totalPriceSet", "shopMoney", "amount"), "Infinity", "amount that is not a number"),
    ("shopify", ("totalPriceSet", "shopMoney", "amount"), "NaN", "not an amount a shop charges"),
    ("shopify", ("createdAt",), None, "no creation date"),
    ("shopify", ("id",), "x" * 500, "not a usable identifier"),
    ("shopify", (), None, "cannot read"),
    ("woocommerce", (), ["not", "an", "order"], "cannot read"),
])
def test_what_a_broken_order_is_refused_with(platform, path, value, words):
    make, parse, args = PARSERS[platform]
    with pytest.raises(ConnectorError, match=words):
        read_order(replaced(make(), path, value), parse, *args)


def test_ten_decimals_and_nul_bytes_are_taken_in_cleanly(engine, channel):
    raw = replaced(woo_order(), ("line_items", 0, "subtotal"), "35.0000000049")
    raw = replaced(raw, ("billing", "first_name"), "Jo\x00hn")
    order = read_order(raw, woocommerce.parse_order, None, None)
    assert order.lines[0].unit_price == Decimal("17.50")
    assert "\x00" not in order.customer_name and order.customer_name.startswith("John")
    with engine.begin() as conn:
        import_orders(conn, channel, [order])


# --- the settings file ------------------------------------------------------------------------

SETTING_VALUES = st.one_of(
    st.integers(min_value=-10**20, max_value=10**20), st.booleans(), HOSTILE_TEXT,
    st.sampled_from(['"shopify"', '"https://shop.example.com"', '"25:99"', '"06:00"', '"Mars/Olympus"', "[1, 2]",
                     "{ a = 1 }", '"fr"', '"\\u0000"']),
)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and (value.startswith(('"', "[", "{"))):
        return value
    return json.dumps(value)  # a TOML basic string is a JSON string


@st.composite
def config_files(draw):
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=500))
    keys = ["platform", "url", "location", "export_time", "time_zone", "safety_buffer", "push_status",
            "store_location_id", "api_version", "refund_on_website", "colour"]
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=6, unique=True))
    lines = ['[channels.Web]', 'platform = "shopify"', 'url = "https://shop.example.com"']
    lines = [line for line in lines if line.split(" ")[0] not in chosen]
    lines += [f"{key} = {toml_value(draw(SETTING_VALUES))}" for key in chosen]
    if draw(st.booleans()):
        lines += ["[shop]", f"language = {toml_value(draw(SETTING_VALUES))}"]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@FUZZ
@given(data=config_files())
def test_the_settings_file_is_refused_or_usable(engine, tmp_path, data):
    from core.config import ChannelConfig
    from core.sync import apply_channel_settings, export_due

    path = tmp_path / "config.toml"
    path.write_bytes(data)
    try:
        loaded = load_settings(config_path=path, environ={})
    except ConfigError as exc:
        event("refused")
        assert str(path) in str(exc), "the refusal says which file"
        return
    event("loaded")
    # Usable means usable: the channels go into the database and the sync can read their times.
    assume(all(spec.get("location") in (None, "Main Street") for spec in loaded.channels.values()))
    with engine.begin() as conn:
        resolve_location(conn, "Main Street")
    try:
        apply_channel_settings(engine, loaded.channels)
        for name, spec in loaded.channels.items():
            export_due(engine, 1, ChannelConfig.from_settings(name, spec), __import__("datetime").datetime.now().astimezone())
    except ConfigError:
        pytest.fail(f"settings accepted at load time were refused later: {data!r}")


@FUZZ
@given(texts=st.lists(HOSTILE_TEXT, min_size=4, max_size=4))
def test_listings_with_hostile_text_are_stored_clean(engine, channel, texts):
    from core.connectors.base import ListingData
    from core.sync.listings import store_listings
    from core.models import WebListing

    external_id = uuid.uuid4().hex
    title, code, barcode, part = texts
    with engine.begin() as conn:
        store_listings(conn, channel, [ListingData(external_id, title, product_code=code, barcode=barcode,
                                                   part_number=part, price=Decimal("9.99"))])
    with engine.connect() as conn:
        row = conn.execute(select(WebListing.title, WebListing.product_code, WebListing.part_number)
                           .where(WebListing.external_id == external_id)).one()
    assert all(value is None or ("\x00" not in value and len(value) <= 255) for value in row)
    assert row.title.strip()
