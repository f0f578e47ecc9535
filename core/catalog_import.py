"""Loading the shop's catalog and on-hand quantities from a POS export (CSV).

The file is read and checked completely before anything is written; one bad row means nothing is
imported and every problem is reported with its line number. The write itself is set-based: the
rows go into a temporary staging table, and a handful of joins insert, update and count.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    exists,
    insert,
    literal,
    or_,
    select,
    update,
)

from core.audit import Actor, current_actor
from core.catalog import search_text_of
from core.db import COUNT_ROWS
from core.dbtypes import UTCDateTime, utcnow
from core.identifiers import BarcodeStatus, parse_barcode, part_number_key
from core.locations import location_table, resolve_location
from core.models import AuditEntry, Product, Stock

# name -> (required, what it holds); the README's column table is written from this.
COLUMNS: dict[str, tuple[bool, str]] = {
    "sku": (True, "the shop's own product code, unique"),
    "description": (True, "product name as staff and customers see it"),
    "price": (True, "selling price, e.g. 24.99 (a decimal comma works in ;-separated files)"),
    "upc": (False, "UPC-A, EAN-13, EAN-8 or GTIN-14; spaces and hyphens are ignored"),
    "part_number": (False, "manufacturer part number"),
    "brand": (False, "brand or manufacturer"),
    "msrp": (False, "manufacturer's suggested retail price"),
    "quantity": (False, "units on hand at the location being imported"),
    "non_inventory": (False, "yes/no: a service or fee with no stock (default no)"),
    "gift_card": (False, "yes/no: the gift-card placeholder product (default no)"),
    "active": (False, "yes/no: still sold (default yes)"),
}
ALIASES = {
    "barcode": "upc", "gtin": "upc", "ean": "upc", "upc_ean": "upc",
    "mpn": "part_number", "manufacturer_part_number": "part_number",
    "qty": "quantity", "on_hand": "quantity", "name": "description",
}
# The text columns' limits; every other column is converted, so its length needs no check.
MAX_LENGTH = {"sku": 64, "description": 255, "brand": 100, "upc": 64, "part_number": 64}
MAX_QUANTITY = 10_000_000
FLAG_DEFAULTS = (("non_inventory", False), ("gift_card", False), ("active", True))
_AMOUNT = re.compile(r"^(\d{1,10})(?:\.(\d+))?$")
FLAG_WORDS = dict.fromkeys(["1", "y", "yes", "true", "o", "oui", "vrai", "x"], True) | dict.fromkeys(
    ["0", "n", "no", "false", "non", "faux", ""], False
)

product_table = Product.__table__
stock_table = Stock.__table__
audit_table = AuditEntry.__table__

# The staging table mirrors the product columns the file can set; money is in cents.
STAGED = (
    "sku", "description", "brand", "barcode_raw", "gtin14", "barcode_status", "part_number",
    "part_number_key", "price", "msrp", "non_inventory", "gift_card_placeholder", "active",
)
SEARCHED = ("sku", "part_number", "brand", "description")
# Which product columns each file column sets.
SETS = {
    "sku": ("sku",),
    "description": ("description",),
    "brand": ("brand",),
    "upc": ("barcode_raw", "gtin14", "barcode_status"),
    "part_number": ("part_number", "part_number_key"),
    "price": ("price",),
    "msrp": ("msrp",),
    "non_inventory": ("non_inventory",),
    "gift_card": ("gift_card_placeholder",),
    "active": ("active",),
}


@dataclass(frozen=True)
class Problem:
    line: int
    message: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}"
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


class CatalogImportError(Exception):
    """The file was refused; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"catalog not imported: {len(problems)} {noun}")


@dataclass
class ParsedCatalog:
    columns: tuple[str, ...]
    rows: list[tuple]  # STAGED values, then quantity, then the row's position in the file
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def has_quantity(self) -> bool:
        return "quantity" in self.columns


@dataclass(frozen=True)
class ImportReport:
    rows: int
    added: int
    updated: int
    stock_changed: int
    location: str
    warnings: list[Problem]

    @property
    def unchanged(self) -> int:
        return self.rows - self.added - self.updated


def parse_amount(text: str, decimal_comma: bool) -> tuple[int | None, str | None]:
    """Cents for a price written like 24.99 (or 24,99 in a ;-separated file)."""
    value = text.strip()
    whole, dot, decimals = value.partition(".")
    if whole.isdigit() and whole.isascii() and len(whole) <= 10 and (
        not dot or (decimals.isdigit() and decimals.isascii() and len(decimals) <= 2)
    ):
        return int(whole) * 100 + int(decimals.ljust(2, "0") or 0), None
    if decimal_comma and "," in value and "." not in value:
        value = value.replace(",", ".")
    match = _AMOUNT.match(value)
    if not match:
        if value.startswith("-"):
            return None, f"negative amount {text!r}"
        return None, f"not an amount: {text!r} (write it like 1234.50, without currency or separators)"
    whole, decimals = match.group(1), match.group(2) or ""
    if len(decimals) > 2:
        return None, f"{text!r} has more than 2 decimals"
    return int(whole) * 100 + int(decimals.ljust(2, "0")), None


def _decode(data: bytes) -> tuple[str | None, Problem | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        return None, Problem(line, f"not UTF-8 text (byte 0x{byte:02X}); export the file as UTF-8")


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def parse_catalog(data: bytes) -> ParsedCatalog:
    """Read and check a whole CSV file without touching the database.

    Checks run column by column over the whole file (list comprehensions rather than a Python
    function per row and field), with the cyclic garbage collector paused: the file creates
    millions of small objects and no cycles, and collection passes would otherwise double the time.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse_catalog(data)
    finally:
        if collecting:
            gc.enable()


def _parse_catalog(data: bytes) -> ParsedCatalog:
    text, problem = _decode(data)
    if problem:
        return ParsedCatalog((), [], [problem])
    if not text.strip():
        return ParsedCatalog((), [], [Problem(1, "the file is empty")])
    if "\x00" in text:
        # A NUL byte means a binary or corrupted file; name each line it is on.
        return ParsedCatalog((), [], [
            Problem(number, "contains a NUL byte (is this a spreadsheet rather than CSV?)")
            for number, line in enumerate(text.split("\n"), start=1) if "\x00" in line
        ])
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        return ParsedCatalog((), [], [Problem(1, f"unreadable header ({exc})")])

    errors: list[Problem] = []
    columns: list[str] = []
    for raw_name in header:
        name = raw_name.strip().casefold().replace(" ", "_").replace("-", "_")
        name = ALIASES.get(name, name)
        if name not in COLUMNS:
            known = ", ".join(COLUMNS)
            errors.append(Problem(1, f"unknown column {raw_name!r} (known columns: {known})"))
        elif name in columns:
            errors.append(Problem(1, f"column {name!r} appears twice"))
        columns.append(name)
    missing = [name for name, (required, _) in COLUMNS.items() if required and name not in columns]
    errors += [Problem(1, f"required column {name!r} is missing") for name in missing]
    if missing:
        return ParsedCatalog(tuple(columns), [], errors)

    records, lines = _read_records(text, delimiter, len(columns), errors)
    # Rows are still checked under a header with unknown columns, so one run reports everything.
    known = [(name, index) for index, name in enumerate(columns) if name in COLUMNS]
    parsed = ParsedCatalog(tuple(name for name, _ in known), [], errors)
    if not records:
        if not errors:
            errors.append(Problem(1, "the file has a header but no product rows"))
        return parsed
    cells = {name: [cell.strip() for cell in column]
             for (name, _), column in zip(known, _columns_of(records, known))}
    checked = _check_columns(cells, lines, delimiter == ";", parsed)
    if parsed.errors:
        parsed.errors.sort(key=lambda p: p.line)
        return parsed
    parsed.rows = list(zip(*checked, range(len(lines))))
    return parsed


def _read_records(text: str, delimiter: str, width: int, errors: list[Problem]):
    """The rows after the header that have the right width, with their line numbers; rows of
    another width become problems, blank rows are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        next(reader)
        records = list(reader)
    except csv.Error:
        records = None
    # The common case, one row per line and all the right width: line numbers follow from positions.
    if records is not None and reader.line_num == len(records) + 1 and all(len(r) == width for r in records):
        return records, list(range(2, len(records) + 2))

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader)
    records, lines = [], []
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(Problem(reader.line_num, f"unreadable row ({exc})"))
            break
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        if len(record) != width:
            if all(not cell.strip() for cell in record):
                continue
            errors.append(Problem(reader.line_num, f"expected {width} fields, found {len(record)}"))
            continue
        records.append(record)
        lines.append(reader.line_num)
    return records, lines


def _columns_of(records, known):
    transposed = list(zip(*records))
    return [transposed[index] for _, index in known]


def _check_columns(cells: dict[str, list[str]], lines: list[int], decimal_comma: bool,
                   parsed: ParsedCatalog) -> list[list]:
    """Every column checked and converted; problems go to `parsed`. Returns staging columns."""
    errors = parsed.errors
    count = len(lines)

    def report(name, message_for):
        """Add a problem for each row where message_for(value) is not None."""
        for line, value in zip(lines, cells[name]):
            message = message_for(value)
            if message:
                errors.append(Problem(line, message, name))

    for name, limit in MAX_LENGTH.items():
        if name in cells and max(map(len, cells[name])) > limit:
            report(name, lambda v, limit=limit: f"longer than {limit} characters" if len(v) > limit else None)

    skus = cells["sku"]
    first_line: dict[str, int] = {}
    for line, sku in zip(lines, skus):
        if not sku:
            errors.append(Problem(line, "SKU is empty", "sku"))
        elif sku in first_line:
            errors.append(Problem(line, f"duplicate SKU {sku!r} (first on line {first_line[sku]})", "sku"))
        else:
            first_line[sku] = line
    if not all(cells["description"]):
        report("description", lambda v: None if v else "description is empty")

    amounts = {}
    for name in ("price", "msrp"):
        if name not in cells:
            amounts[name] = [None] * count
            continue
        parsed_amounts = [parse_amount(v, decimal_comma) if v or name == "price" else (None, None)
                          for v in cells[name]]
        for line, (_, problem) in zip(lines, parsed_amounts):
            if problem:
                errors.append(Problem(line, problem, name))
        amounts[name] = [cents for cents, _ in parsed_amounts]

    quantities = [0] * count
    if "quantity" in cells:
        raw = cells["quantity"]
        quantities = [int(v) if v.isdigit() else 0 for v in raw]
        for line, value, quantity in zip(lines, raw, quantities):
            if value and not value.isdigit():
                if value.startswith("-") and value[1:].isdigit():
                    errors.append(Problem(line, f"negative quantity {value}", "quantity"))
                else:
                    errors.append(Problem(line, f"not a whole number: {value!r}", "quantity"))
            elif quantity > MAX_QUANTITY:
                errors.append(Problem(line, f"implausible quantity {quantity}", "quantity"))

    flags = []
    for name, default in FLAG_DEFAULTS:
        if name not in cells:
            flags.append([default] * count)
            continue
        values = list(map(FLAG_WORDS.get, map(str.casefold, cells[name])))
        if None in values:
            for line, raw_flag, flag in zip(lines, cells[name], values):
                if flag is None:
                    errors.append(Problem(line, f"expected yes or no, found {raw_flag!r}", name))
        flags.append([default if raw == "" else v for v, raw in zip(values, cells[name])])

    none = [None] * count
    barcodes = [parse_barcode(v) if v else None for v in cells.get("upc", none)]
    for line, barcode in zip(lines, barcodes):
        if barcode is not None and barcode.status is BarcodeStatus.INVALID:
            parsed.warnings.append(Problem(
                line, f"barcode {barcode.raw!r} {barcode.reason}; imported but flagged invalid", "upc"
            ))
    part_numbers = [v or None for v in cells.get("part_number", none)]
    part_number_keys = list(map(part_number_key, part_numbers))
    return [
        skus,
        cells["description"],
        [v or None for v in cells.get("brand", none)],
        [b.raw if b else None for b in barcodes],
        [b.gtin14 if b else None for b in barcodes],
        [b.status.value if b else None for b in barcodes],
        part_numbers,
        part_number_keys,
        amounts["price"],
        amounts["msrp"],
        *flags,
        quantities,
    ]


def _staging_table() -> Table:
    types = {"price": BigInteger, "msrp": BigInteger, "non_inventory": Boolean,
             "gift_card_placeholder": Boolean, "active": Boolean}
    columns = [Column(name, types.get(name, String)) for name in STAGED]
    return Table(
        "catalog_staging", MetaData(), *columns, Column("quantity", Integer),
        Column("line", Integer, primary_key=True),
        prefixes=["TEMPORARY"],
    )


def import_catalog(
    engine: Engine,
    source: Path | bytes,
    location: str | None = None,
    actor: Actor | None = None,
) -> ImportReport:
    """Import a catalog file, all or nothing. Raises CatalogImportError listing every bad row."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    parsed = parse_catalog(data)
    if parsed.errors:
        raise CatalogImportError(parsed.errors + parsed.warnings)
    actor = actor or current_actor()
    return _write(engine, parsed, location, actor)


def _write(engine: Engine, parsed: ParsedCatalog, location: str | None, actor: Actor) -> ImportReport:
    staging = _staging_table()
    now = utcnow()
    now_param = literal(now, UTCDateTime())
    updatable = [col for name in parsed.columns if name != "quantity" for col in SETS[name] if col != "sku"]
    product = product_table

    with engine.begin() as conn:
        location_id = resolve_location(conn, location)
        location_name = conn.execute(
            select(location_table.c.name).where(location_table.c.id == location_id)
        ).scalar_one()
        staging.create(conn)
        placeholders = ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * (len(STAGED) + 2))
        # Straight to the driver's executemany: SQLAlchemy would otherwise inspect all 100,000
        # parameter tuples in Python before handing them over.
        cursor = conn.connection.cursor()
        cursor.executemany(
            f"INSERT INTO catalog_staging ({', '.join(STAGED)}, quantity, line) VALUES ({placeholders})",
            parsed.rows,
        )
        cursor.close()
        s = staging.c
        differs = or_(*(product.c[col].is_distinct_from(s[col]) for col in updatable))
        same_sku = product.c.sku == s.sku

        price_changes = conn.execute(
            select(product.c.sku, product.c.price, s.price.label("new_price"))
            .join(staging, same_sku)
            .where(product.c.price != s.price)
        ).all()
        # The search text is rebuilt in the same statements: from the file where it has the
        # column, from the product's current value where it does not.
        def source(col):
            return s[col] if col in updatable or col == "sku" else product.c[col]

        updated = conn.execute(
            update(product)
            .where(same_sku, differs)
            .values({col: s[col] for col in updatable} | {
                "version": product.c.version + 1, "updated_at": now_param,
                "search_text": search_text_of(*(source(c) for c in SEARCHED)),
            })
        ).rowcount if updatable else 0

        new_columns = ["sku", *updatable]
        added = conn.execute(
            insert(product).from_select(
                [*new_columns, "search_text", "version", "created_at", "updated_at"],
                select(*(s[col] for col in new_columns), search_text_of(*(s[c] for c in SEARCHED)),
                       literal(1), now_param, now_param)
                .where(~exists().where(same_sku))
                .order_by(s.line),
            ),
            execution_options=COUNT_ROWS,
        ).rowcount

        stock_changes, stock_changed = [], 0
        if parsed.has_quantity:
            stock_changes, stock_changed = _refresh_stock(conn, staging, location_id, now_param)

        audit_rows = [
            _audit(now, actor, "product", sku, "price", _cents(old), _cents(new))
            for sku, old, new in price_changes
        ] + [
            _audit(now, actor, "stock", sku, f"on_hand@{location_name}", str(old), str(new))
            for sku, old, new in stock_changes
        ]
        if added or updated or stock_changed:
            audit_rows.append(_audit(
                now, actor, "catalog", None, None, None, None,
                note=f"catalog import at {location_name}: {added} added, {updated} updated, "
                f"{stock_changed} stock quantities changed",
            ))
        if audit_rows:
            conn.execute(insert(audit_table), audit_rows)
        staging.drop(conn)

    return ImportReport(len(parsed.rows), added, updated, stock_changed, location_name, parsed.warnings)


def _refresh_stock(conn, staging: Table, location_id: int, now_param):
    s = staging.c
    product, stock = product_table, stock_table
    stocked = and_(product.c.sku == s.sku, product.c.non_inventory.is_(False))
    if conn.execute(select(stock.c.product_id).where(stock.c.location_id == location_id).limit(1)).first() is None:
        changes, changed = [], 0  # a first import at this location: nothing to compare or update
    else:
        changes, changed = _changed_stock(conn, staging, location_id, now_param)
    created = conn.execute(
        insert(stock).from_select(
            ["product_id", "location_id", "on_hand", "committed", "version", "updated_at"],
            select(product.c.id, literal(location_id), s.quantity, literal(0), literal(1), now_param)
            .select_from(staging.join(product, stocked))
            .where(~exists().where(stock.c.product_id == product.c.id, stock.c.location_id == location_id)),
        ),
        execution_options=COUNT_ROWS,
    ).rowcount
    return changes, changed + created


def _changed_stock(conn, staging: Table, location_id: int, now_param):
    s = staging.c
    product, stock = product_table, stock_table
    stocked = and_(product.c.sku == s.sku, product.c.non_inventory.is_(False))
    at_location = and_(stock.c.product_id == product.c.id, stock.c.location_id == location_id)
    changes = conn.execute(
        select(product.c.sku, stock.c.on_hand, s.quantity)
        .select_from(staging.join(product, stocked).join(stock, at_location))
        .where(stock.c.on_hand != s.quantity)
    ).all()
    changed = conn.execute(
        update(stock)
        .where(stock.c.location_id == location_id, stock.c.product_id == product.c.id,
               product.c.sku == s.sku, product.c.non_inventory.is_(False),
               stock.c.on_hand != s.quantity)
        .values(on_hand=s.quantity, version=stock.c.version + 1, updated_at=now_param)
    ).rowcount
    return changes, changed


def _cents(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return f"{Decimal(value).scaleb(-2):.2f}"


def _audit(now, actor: Actor, entity, entity_id, field_name, old, new, note=None) -> dict:
    return {
        "at": now, "actor": actor.user, "client": actor.client, "action": "catalog_import",
        "entity": entity, "entity_id": entity_id, "field": field_name,
        "old_value": old, "new_value": new, "note": note,
    }
