from decimal import Decimal

import pytest
from sqlalchemy import select

from core.audit import Actor
from core.dbtypes import utcnow
from core.catalog_import import CatalogImportError, import_catalog, parse_amount
from core.locations import UnknownLocationError
from core.models import AuditEntry, Location, Product, Stock
from tests.conftest import dump

CLERK = Actor("clerk", "192.0.2.7")
HEADER = "sku,description,brand,upc,part_number,price,msrp,quantity\n"
GOOD = (
    HEADER
    + "T-700,Tube 700x25,Cobalt,036000241457,CT-IN700,8.99,9.99,12\n"
    + "CH-11,Chain 11s,Kestrel,,KC-CH11,39.50,,3\n"
)


def products(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {row.sku: row._asdict() for row in conn.execute(select(Product.__table__))}


def on_hand(engine) -> dict[tuple[str, str], int]:
    p, s, loc = Product.__table__, Stock.__table__, Location.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(p.c.sku, loc.c.name, s.c.on_hand).join(s, s.c.product_id == p.c.id)
            .join(loc, loc.c.id == s.c.location_id)
        )
        return {(sku, name): qty for sku, name, qty in rows}


def test_a_good_file_loads_products_and_stock(engine):
    report = import_catalog(engine, GOOD.encode(), "Main Street", CLERK)
    assert (report.rows, report.added, report.updated) == (2, 2, 0)
    tube = products(engine)["T-700"]
    assert tube["price"] == Decimal("8.99") and tube["msrp"] == Decimal("9.99")
    assert tube["gtin14"] == "00036000241457" and tube["barcode_status"] == "valid"
    assert tube["part_number_key"] == "ct-in700"
    assert products(engine)["CH-11"]["gtin14"] is None
    assert on_hand(engine) == {("T-700", "Main Street"): 12, ("CH-11", "Main Street"): 3}


def test_reimporting_the_same_file_changes_nothing(engine):
    import_catalog(engine, GOOD.encode(), "Main Street", CLERK)
    before = dump(engine)
    report = import_catalog(engine, GOOD.encode(), "Main Street", CLERK)
    assert (report.added, report.updated, report.stock_changed, report.unchanged) == (0, 0, 0, 2)
    assert dump(engine) == before


def test_a_refresh_updates_changed_rows_and_audits_old_and_new_values(engine):
    import_catalog(engine, GOOD.encode(), "Main Street", CLERK)
    changed = GOOD.replace("8.99,9.99,12", "9.49,9.99,7")
    report = import_catalog(engine, changed.encode(), "Main Street", CLERK)
    assert (report.added, report.updated, report.stock_changed) == (0, 1, 1)
    tube = products(engine)["T-700"]
    assert tube["price"] == Decimal("9.49") and tube["version"] == 2
    assert products(engine)["CH-11"]["version"] == 1
    assert on_hand(engine)[("T-700", "Main Street")] == 7
    with engine.connect() as conn:
        entries = conn.execute(
            select(AuditEntry.__table__).where(AuditEntry.__table__.c.field.is_not(None))
        ).all()
    assert {(e.actor, e.client, e.entity_id, e.field, e.old_value, e.new_value) for e in entries} == {
        ("clerk", "192.0.2.7", "T-700", "price", "8.99", "9.49"),
        ("clerk", "192.0.2.7", "T-700", "on_hand@Main Street", "12", "7"),
    }


def test_columns_absent_from_the_file_keep_their_values(engine):
    import_catalog(engine, GOOD.encode(), "Main Street", CLERK)
    import_catalog(engine, b"sku,description,price\nT-700,Tube 700x25 Presta,8.99\n", None, CLERK)
    tube = products(engine)["T-700"]
    assert tube["description"] == "Tube 700x25 Presta"
    assert tube["brand"] == "Cobalt" and tube["msrp"] == Decimal("9.99")
    assert on_hand(engine)[("T-700", "Main Street")] == 12


def test_quantities_go_to_the_named_location_only(engine):
    import_catalog(engine, GOOD.encode(), "Main Street", CLERK)
    with engine.begin() as conn:
        conn.execute(Location.__table__.insert().values(name="Warehouse", created_at=utcnow()))
    import_catalog(engine, GOOD.replace(",12\n", ",40\n").encode(), "warehouse", CLERK)
    assert on_hand(engine)[("T-700", "Main Street")] == 12
    assert on_hand(engine)[("T-700", "Warehouse")] == 40


def test_an_unknown_location_is_an_error_not_a_new_place(engine):
    import_catalog(engine, GOOD.encode(), "Main Street", CLERK)
    before = dump(engine)
    with pytest.raises(UnknownLocationError, match="Main Stret.*known: Main Street"):
        import_catalog(engine, GOOD.encode(), "Main Stret", CLERK)
    assert dump(engine) == before


def test_semicolons_bom_and_decimal_commas_are_understood(engine):
    text = "\ufeffsku;description;price;quantity\nT-700;Tube, 700x25;8,99;2\n"
    import_catalog(engine, text.encode("utf-8"), None, CLERK)
    tube = products(engine)["T-700"]
    assert tube["description"] == "Tube, 700x25" and tube["price"] == Decimal("8.99")


def test_non_inventory_products_get_no_stock(engine):
    text = "sku,description,price,quantity,non_inventory,gift_card\nGIFT,Gift card,0,5,yes,yes\n"
    import_catalog(engine, text.encode(), None, CLERK)
    gift = products(engine)["GIFT"]
    assert gift["non_inventory"] and gift["gift_card_placeholder"]
    assert on_hand(engine) == {}


def test_wrong_check_digit_imports_the_product_and_flags_the_barcode(engine):
    text = HEADER + "T-700,Tube,Cobalt,036000241458,CT-IN700,8.99,,1\n"
    report = import_catalog(engine, text.encode(), None, CLERK)
    assert report.added == 1
    assert [str(w) for w in report.warnings] == [
        "line 2, upc: barcode '036000241458' has a wrong check digit; imported but flagged invalid"
    ]
    tube = products(engine)["T-700"]
    assert tube["barcode_raw"] == "036000241458"
    assert tube["barcode_status"] == "invalid" and tube["gtin14"] is None


BAD_FILES = {
    "unknown column": (
        "sku,description,price,colour\nA,a,1.00,red\n",
        ["line 1: unknown column 'colour'"],
    ),
    "missing required column": ("sku,description\nA,a\n", ["line 1: required column 'price' is missing"]),
    "bad price": ("sku,description,price\nA,a,12.5O\n", ["line 2, price: not an amount: '12.5O'"]),
    "too many decimals": ("sku,description,price\nA,a,1.005\n", ["line 2, price: '1.005' has more than 2"]),
    "negative price": ("sku,description,price\nA,a,-3.00\n", ["line 2, price: negative amount"]),
    "negative quantity": (
        "sku,description,price,quantity\nA,a,1.00,-2\n",
        ["line 2, quantity: negative quantity -2"],
    ),
    "fractional quantity": (
        "sku,description,price,quantity\nA,a,1.00,2.5\n",
        ["line 2, quantity: not a whole number: '2.5'"],
    ),
    "duplicate sku": (
        "sku,description,price\nA,a,1.00\nB,b,2.00\nA,again,3.00\n",
        ["line 4, sku: duplicate SKU 'A' (first on line 2)"],
    ),
    "empty sku": ("sku,description,price\n,a,1.00\n", ["line 2, sku: SKU is empty"]),
    "wrong field count": ("sku,description,price\nA,a,1.00,extra\n", ["line 2: expected 3 fields, found 4"]),
    "bad flag": ("sku,description,price,active\nA,a,1.00,maybe\n", ["line 2, active: expected yes or no"]),
    "not utf-8": (b"sku,description,price\nA,caf\xe9,1.00\n", ["line 2: not UTF-8 text (byte 0xE9)"]),
    "NUL byte": ("sku,description,price\nA,a\x00b,1.00\n", ["line 2"]),
    "huge field": ("sku,description,price\nA," + "x" * 300 + ",1.00\n", ["line 2, description: longer than 255"]),
    "empty file": ("", ["line 1: the file is empty"]),
    "header only": ("sku,description,price\n", ["line 1: the file has a header but no product rows"]),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_imports_nothing_and_names_every_bad_line(engine, case):
    import_catalog(engine, GOOD.encode(), "Main Street", CLERK)
    before = dump(engine)
    content, expected = BAD_FILES[case]
    data = content if isinstance(content, bytes) else content.encode()
    with pytest.raises(CatalogImportError) as caught:
        import_catalog(engine, data, "Main Street", CLERK)
    messages = [str(p) for p in caught.value.problems]
    for prefix in expected:
        assert any(m.startswith(prefix) for m in messages), (prefix, messages)
    assert dump(engine) == before


def test_every_bad_row_is_reported_in_one_run_and_good_rows_are_not_written(engine):
    text = (
        "sku,description,price,quantity\n"
        "OK-1,fine,1.00,1\n"
        "BAD-1,bad price,abc,1\n"
        "OK-2,fine,2.00,1\n"
        "BAD-2,bad qty,1.00,-1\n"
        "OK-1,dup,1.00,1\n"
    )
    with pytest.raises(CatalogImportError) as caught:
        import_catalog(engine, text.encode(), None, CLERK)
    assert [p.line for p in caught.value.problems] == [3, 5, 6]
    assert products(engine) == {}


def test_a_failure_while_writing_rolls_everything_back(engine, monkeypatch):
    import_catalog(engine, GOOD.encode(), "Main Street", CLERK)
    before = dump(engine)
    import core.catalog_import as module

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "_refresh_stock", explode)
    with pytest.raises(RuntimeError):
        import_catalog(engine, GOOD.replace("8.99", "1.00").replace("T-700", "NEW").encode(), None, CLERK)
    assert dump(engine) == before


@pytest.mark.parametrize(
    ("text", "comma", "cents"),
    [("24.99", False, 2499), ("24", False, 2400), ("24.5", False, 2450), ("24,99", True, 2499), (" 0 ", False, 0)],
)
def test_amounts_are_read_exactly(text, comma, cents):
    assert parse_amount(text, comma) == (cents, None)


def test_a_decimal_comma_is_only_accepted_in_semicolon_files():
    assert parse_amount("24,99", False)[0] is None


def test_a_large_catalog_is_streamed_not_held_in_memory(engine, tmp_path):
    """Python's own allocations, counted by tracemalloc (not the machine's load or timing): a
    100,000-line file is checked and staged a chunk at a time, so the import's peak is a few
    chunks, not the whole file several times over."""
    import tracemalloc

    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("sku,description,brand,part_number,price,quantity\n")
        for n in range(100_000):
            out.write(f"SKU-{n:07d},Product number {n} of a large catalog,Brand {n % 97},MPN-{n},9.99,{n % 13}\n")
    tracemalloc.start()
    try:
        report = import_catalog(engine, path, "Main Street", CLERK)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.added == 100_000
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MB of Python objects for a {path.stat().st_size >> 20} MB file"


def test_a_refused_file_counts_its_warnings_apart_from_its_problems(engine):
    text = HEADER + "T-700,Tube,Cobalt,036000241458,CT-IN700,8.99,,1\nT-701,Tube,Cobalt,,CT-IN701,abc,,1\n"
    with pytest.raises(CatalogImportError) as caught:
        import_catalog(engine, text.encode(), None, CLERK)
    assert [p.line for p in caught.value.problems] == [3], "the bad price is the one problem"
    assert [w.line for w in caught.value.warnings] == [2], "the wrong check digit is a warning"
    assert str(caught.value) == "catalog not imported: 1 problem and 1 warning"
