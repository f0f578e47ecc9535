"""Loading the shop's catalog and on-hand quantities from a POS export (CSV).

The file is read and checked completely before anything is written; one bad row means nothing is
imported and every problem is reported with its line number. It is streamed: a chunk of rows at a
time is checked and put into a temporary staging table, so a million-line file needs no more
memory than a small one. Staging touches only the connection's temporary tables, so the write
lock is taken only afterwards, for the set-based write: a handful of joins insert, update, count
and audit.

SKUs are compared without regard to capitals: `abc-1` and `ABC-1` name one product, so a file
that has both, or that spells an existing SKU with other capitals, is refused with the lines
named (a POS export keeps one spelling; a second product by accident would split its stock).
Only ASCII digits are numbers: a POS export writes prices and quantities in them, and `²` or
Arabic-Indic digits in a price column are a mistake to report, not a value to guess.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, Iterator

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
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
    update,
)

from sqlalchemy.exc import SQLAlchemyError

from core.roles import require
from core.i18n import _, ngettext
from core.i18n import number as grouped
from core.audit import Actor, current_actor
from core.catalog import search_text_of
from core.db import COUNT_ROWS
from core.dbtypes import UTCDateTime, utcnow
from core.identifiers import BarcodeStatus, parse_barcode, part_number_key
from core.locations import location_table, resolve_location
from core.models import AuditEntry, Product, Stock

# name -> (required, what it holds); the README's column table is written from this.
COLUMNS: dict[str, tuple[bool, str]] = {
    "sku": (True, _("the shop's own product code, unique")),
    "description": (True, _("product name as staff and customers see it")),
    "price": (True, _("selling price, e.g. 24.99 (a decimal comma works in ;-separated files)")),
    "upc": (False, _("UPC-A, EAN-13, EAN-8 or GTIN-14; spaces and hyphens are ignored")),
    "part_number": (False, _("manufacturer part number")),
    "brand": (False, _("brand or manufacturer")),
    "msrp": (False, _("manufacturer's suggested retail price")),
    "category": (False, _("the shop's category (web-store rules can name it)")),
    "map": (False, _("minimum advertised price: no web price rule goes under it")),
    "quantity": (False, _("units on hand at the location being imported")),
    "non_inventory": (False, _("yes/no: a service or fee with no stock (default no)")),
    "gift_card": (False, _("yes/no: the gift-card placeholder product (default no)")),
    "active": (False, _("yes/no: still sold (default yes)")),
}
ALIASES = {
    "barcode": "upc", "gtin": "upc", "ean": "upc", "upc_ean": "upc",
    "mpn": "part_number", "manufacturer_part_number": "part_number",
    "qty": "quantity", "on_hand": "quantity", "name": "description",
    "map_price": "map", "minimum_advertised_price": "map",
}
# The text columns' limits; every other column is converted, so its length needs no check.
MAX_LENGTH = {"sku": 64, "description": 255, "brand": 100, "category": 100, "upc": 64, "part_number": 64}
MAX_QUANTITY = 10_000_000
FLAG_DEFAULTS = (("non_inventory", False), ("gift_card", False), ("active", True))
_AMOUNT = re.compile(r"^([0-9]{1,10})(?:\.([0-9]+))?$", re.ASCII)
CHUNK_ROWS = 20_000  # rows checked and staged at a time: memory stays flat whatever the file's length
MAX_PROBLEMS = 1_000  # problems listed; more are counted
PG_IMPORT_LOCK = 727003
FLAG_WORDS = dict.fromkeys(["1", "y", "yes", "true", "o", "oui", "vrai", "x"], True) | dict.fromkeys(
    ["0", "n", "no", "false", "non", "faux", ""], False
)

product_table = Product.__table__
stock_table = Stock.__table__
audit_table = AuditEntry.__table__

# The staging table mirrors the product columns the file can set; money is in cents.
STAGED = (
    "sku", "description", "brand", "barcode_raw", "gtin14", "barcode_status", "part_number",
    "part_number_key", "price", "msrp", "non_inventory", "gift_card_placeholder", "active", "category", "map_price",
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
    "category": ("category",),
    "map": ("map_price",),
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
        where = _('line {line}').format(line=self.line)
        return _('{where}, {column}: {message}').format(where=where, column=self.column, message=self.message) if self.column else _('{where}: {message}').format(where=where, message=self.message)


class CatalogImportError(Exception):
    """The file was refused; nothing was written."""

    def __init__(self, problems: list[Problem], total: int | None = None, warnings: list[Problem] | None = None,
                 warnings_total: int = 0):
        self.problems, self.warnings = problems, warnings or []
        self.total = max(total or 0, len(problems))
        self.warnings_total = max(warnings_total, len(self.warnings))
        problems_found = ngettext("catalog not imported: {total} problem", "catalog not imported: {total} problems",
                                  self.total).format(total=grouped(self.total))
        more = " " + _("(the first {count} are listed)").format(count=grouped(len(problems))) if self.total > len(problems) else ""
        # Warnings alone never refuse a file: they are counted apart, not as problems.
        also = " " + ngettext("and {count} warning", "and {count} warnings", self.warnings_total).format(
            count=grouped(self.warnings_total)) if self.warnings_total else ""
        super().__init__(problems_found + more + also)


class Problems:
    """Problems found so far: the first MAX_PROBLEMS kept, all of them counted."""

    def __init__(self):
        self.kept: list[Problem] = []
        self.count = 0

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(problem)

    def __bool__(self) -> bool:
        return self.count > 0

    def sorted(self) -> list[Problem]:
        return sorted(self.kept, key=lambda p: p.line)


@dataclass
class Header:
    columns: tuple[str, ...]  # the known columns, in the order the rows' values come
    positions: tuple[int, ...]  # where each is in a file row
    width: int
    delimiter: str

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
    more_warnings: int = 0

    @property
    def unchanged(self) -> int:
        return self.rows - self.added - self.updated


def parse_amount(text: str, decimal_comma: bool) -> tuple[int | None, str | None]:
    """Cents for a price written like 24.99 (or 24,99 in a ;-separated file)."""
    value = text.strip()
    whole, dot, decimals = value.partition(".")
    if whole.isascii() and whole.isdigit() and len(whole) <= 10 and (
        not dot or (decimals.isascii() and decimals.isdigit() and len(decimals) <= 2)
    ):
        return int(whole) * 100 + int(decimals.ljust(2, "0") or 0), None
    if decimal_comma and "," in value and "." not in value:
        value = value.replace(",", ".")
    match = _AMOUNT.match(value)
    if not match:
        if value.startswith("-"):
            return None, _('negative amount {text}').format(text=repr(text))
        return None, _('not an amount: {text} (write it like 1234.50, with the digits 0-9, without currency or separators)').format(text=repr(text))
    whole, decimals = match.group(1), match.group(2) or ""
    if len(decimals) > 2:
        return None, _('{text} has more than 2 decimals').format(text=repr(text))
    return int(whole) * 100 + int(decimals.ljust(2, "0")), None


def is_count(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _text_lines(stream: BinaryIO, problems: Problems) -> Iterator[str]:
    """The file's lines as text, each decoded alone so a bad byte or a NUL is named by its line."""
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            problems.add(Problem(number, _('not UTF-8 text (byte 0x{value:02X}); export the file as UTF-8').format(value=raw[exc.start])))
            line = raw.decode("utf-8", "replace")
        if "\x00" in line:
            problems.add(Problem(number, _("contains a NUL byte (is this a spreadsheet rather than CSV?)")))
            line = line.replace("\x00", "")
        yield line


def _read_header(first_line: str, problems: Problems) -> Header | None:
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        header = next(csv.reader([first_line], delimiter=delimiter))
    except (csv.Error, StopIteration) as exc:
        problems.add(Problem(1, _('unreadable header ({exc})').format(exc=exc)))
        return None
    columns: list[str] = []
    for raw_name in header:
        name = raw_name.strip().casefold().replace(" ", "_").replace("-", "_")
        name = ALIASES.get(name, name)
        if name not in COLUMNS:
            problems.add(Problem(1, _('unknown column {raw_name} (known columns: {value})').format(raw_name=repr(raw_name), value=', '.join(COLUMNS))))
        elif name in columns:
            problems.add(Problem(1, _('column {name} appears twice').format(name=repr(name))))
        columns.append(name)
    missing = [name for name, (required, _kind) in COLUMNS.items() if required and name not in columns]
    for name in missing:
        problems.add(Problem(1, _('required column {name} is missing').format(name=repr(name))))
    if missing:
        return None
    # Rows are still checked under a header with unknown columns, so one run reports everything.
    known = [(name, index) for index, name in enumerate(columns) if name in COLUMNS]
    return Header(tuple(name for name, _index in known), tuple(index for _name, index in known), len(columns), delimiter)


def read_catalog(stream: BinaryIO, problems: Problems,
                 warnings: Problems | None = None) -> Iterator[tuple[Header, list[tuple]]]:
    """The file's rows, checked and converted a chunk at a time: staging values, then quantity,
    then the row's line number. Problems go to `problems`; rows with problems still come (with
    None where a value was bad) so that duplicates are found among all of them."""
    warnings = Problems() if warnings is None else warnings
    lines = _text_lines(stream, problems)
    first = next(lines, None)
    if first is None or (not first.strip() and not problems):
        problems.add(Problem(1, _("the file is empty")))
        return
    header = _read_header(first.rstrip("\r\n"), problems)
    if header is None:
        return
    reader = csv.reader(lines, delimiter=header.delimiter)
    records: list[list[str]] = []
    numbers: list[int] = []
    seen_rows = False
    collecting = gc.isenabled()
    gc.disable()  # a chunk makes many small objects and no cycles; collection passes would double the time
    try:
        while True:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                problems.add(Problem(reader.line_num + 1, _('unreadable row ({exc})').format(exc=exc)))
                break
            if len(record) != header.width:
                if not record or all(not cell.strip() for cell in record):
                    continue
                problems.add(Problem(reader.line_num + 1, f"expected {header.width} fields, found {len(record)}"))
                continue
            records.append(record)
            numbers.append(reader.line_num + 1)
            if len(records) == CHUNK_ROWS:
                seen_rows = True
                yield header, _check_chunk(header, records, numbers, problems, warnings)
                records, numbers = [], []
        if records:
            seen_rows = True
            yield header, _check_chunk(header, records, numbers, problems, warnings)
    finally:
        if collecting:
            gc.enable()
    if not seen_rows and not problems:
        problems.add(Problem(1, _("the file has a header but no product rows")))


def _check_chunk(header: Header, records: list[list[str]], lines: list[int], problems: Problems,
                 warnings: Problems) -> list[tuple]:
    transposed = list(zip(*records))
    cells = {name: [cell.strip() for cell in transposed[index]]
             for name, index in zip(header.columns, header.positions)}
    return list(zip(*_check_columns(cells, lines, header.delimiter == ";", problems, warnings), lines))


def _check_columns(cells: dict[str, list[str]], lines: list[int], decimal_comma: bool,
                   problems: Problems, warnings: Problems) -> list[list]:
    """Every column of a chunk checked and converted (column by column: list comprehensions rather
    than a Python function per row and field). Returns the staging columns."""
    count = len(lines)

    def report(name, message_for):
        """Add a problem for each row where message_for(value) is not None."""
        for line, value in zip(lines, cells[name]):
            message = message_for(value)
            if message:
                problems.add(Problem(line, message, name))

    for name, limit in MAX_LENGTH.items():
        if name in cells and max(map(len, cells[name])) > limit:
            report(name, lambda v, limit=limit: _('longer than {limit} characters').format(limit=limit) if len(v) > limit else None)

    skus = cells["sku"]
    if not all(skus):
        report("sku", lambda v: None if v else _("SKU is empty"))
    if not all(cells["description"]):
        report("description", lambda v: None if v else _("description is empty"))

    amounts = {}
    for name in ("price", "msrp", "map"):
        if name not in cells:
            amounts[name] = [None] * count
            continue
        parsed_amounts = [parse_amount(v, decimal_comma) if v or name == "price" else (None, None)
                          for v in cells[name]]
        for line, (_amount, problem) in zip(lines, parsed_amounts):
            if problem:
                problems.add(Problem(line, problem, name))
        amounts[name] = [cents for cents, _problem in parsed_amounts]

    quantities = [0] * count
    if "quantity" in cells:
        raw = cells["quantity"]
        quantities = [int(v) if is_count(v) else 0 for v in raw]
        for line, value, quantity in zip(lines, raw, quantities):
            if value and not is_count(value):
                if value.startswith("-") and is_count(value[1:]):
                    problems.add(Problem(line, _('negative quantity {value}').format(value=value), "quantity"))
                else:
                    problems.add(Problem(line, _('not a whole number: {value} (digits 0-9 only)').format(value=repr(value)),
                                         "quantity"))
            elif quantity > MAX_QUANTITY:
                problems.add(Problem(line, _('implausible quantity {quantity}').format(quantity=quantity), "quantity"))
        # A refused row is still staged (to find duplicates among all rows): keep its value storable.
        quantities = [quantity if quantity <= MAX_QUANTITY else 0 for quantity in quantities]

    flags = []
    for name, default in FLAG_DEFAULTS:
        if name not in cells:
            flags.append([default] * count)
            continue
        values = list(map(FLAG_WORDS.get, map(str.casefold, cells[name])))
        if None in values:
            for line, raw_flag, flag in zip(lines, cells[name], values):
                if flag is None:
                    problems.add(Problem(line, _('expected yes or no, found {raw_flag}').format(raw_flag=repr(raw_flag)), name))
        flags.append([default if raw == "" or v is None else v for v, raw in zip(values, cells[name])])

    none = [None] * count
    barcodes = [parse_barcode(v) if v else None for v in cells.get("upc", none)]
    part_numbers = [v or None for v in cells.get("part_number", none)]
    for line, barcode in zip(lines, barcodes):
        if barcode is not None and barcode.status is BarcodeStatus.INVALID:
            warnings.add(Problem(line, _('barcode {raw} {reason}; imported but flagged invalid').format(raw=repr(barcode.raw), reason=barcode.reason), "upc"))
    return [
        skus,
        cells["description"],
        [v or None for v in cells.get("brand", none)],
        [b.raw if b else None for b in barcodes],
        [b.gtin14 if b else None for b in barcodes],
        [b.status.value if b else None for b in barcodes],
        part_numbers,
        list(map(part_number_key, part_numbers)),
        amounts["price"],
        amounts["msrp"],
        *flags,
        [v or None for v in cells.get("category", none)],
        amounts["map"],
        quantities,
    ]


def _staging_table() -> Table:
    types = {"price": BigInteger, "msrp": BigInteger, "map_price": BigInteger, "non_inventory": Boolean,
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
    actor = actor or current_actor()
    require(actor, "catalog.import")
    with (io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")) as stream, \
            engine.connect() as conn:
        staging = _staging_table()
        # Staging writes only this connection's temporary table: no lock on the shop's tables yet.
        staging.drop(conn, checkfirst=True)
        staging.create(conn)
        try:
            header, rows, warnings = _stage(conn, staging, stream)
            conn.commit()
            conn.execution_options(tandem_writes=True)
            with conn.begin():
                report = _write(conn, staging, header, rows, location, actor)
            return ImportReport(**report, warnings=warnings.sorted(), more_warnings=warnings.count - len(warnings.kept))
        finally:
            if conn.in_transaction():
                conn.rollback()
            conn.execution_options(tandem_writes=False)
            try:
                with conn.begin():
                    staging.drop(conn, checkfirst=True)
            except SQLAlchemyError:
                pass  # the temporary table goes with the connection; the next import drops it first anyway


def _stage(conn, staging: Table, stream: BinaryIO) -> tuple[Header, int, Problems]:
    problems, warnings = Problems(), Problems()
    placeholders = ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * (len(STAGED) + 2))
    statement = f"INSERT INTO catalog_staging ({', '.join(STAGED)}, quantity, line) VALUES ({placeholders})"
    header, rows = None, 0
    for header, chunk in read_catalog(stream, problems, warnings):
        # Straight to the driver's executemany: SQLAlchemy would otherwise inspect every parameter tuple.
        cursor = conn.connection.cursor()
        cursor.executemany(statement, chunk)
        cursor.close()
        rows += len(chunk)
    if header is not None and rows:
        _find_duplicates(conn, staging, problems)
    if problems or header is None:
        raise CatalogImportError(problems.sorted(), problems.count, warnings.sorted(), warnings.count)
    return header, rows, warnings


def _find_duplicates(conn, staging: Table, problems: Problems) -> None:
    """Two rows of the file with one SKU (capitals aside), and a row spelling an existing SKU with
    other capitals: set-based, so the check costs no memory whatever the file's length."""
    s = staging.c
    first = select(func.lower(s.sku).label("folded"), func.min(s.line).label("line")) \
        .where(s.sku != "").group_by(func.lower(s.sku)).having(func.count() > 1).subquery()
    twin = staging.alias("twin")
    duplicates = conn.execute(
        select(s.line, s.sku, twin.c.sku, first.c.line)
        .join(first, func.lower(s.sku) == first.c.folded)
        .join(twin, twin.c.line == first.c.line)
        .where(s.line != first.c.line).order_by(s.line).limit(MAX_PROBLEMS))
    for line, sku, first_sku, first_line in duplicates:
        same = "" if sku == first_sku else f", written {first_sku!r} there"
        problems.add(Problem(line, _('duplicate SKU {sku} (first on line {first_line}{same})').format(sku=repr(sku), first_line=first_line, same=same), "sku"))
    product = product_table
    respelled = conn.execute(
        select(s.line, s.sku, product.c.sku)
        .join(product, func.lower(product.c.sku) == func.lower(s.sku))
        .where(product.c.sku != s.sku).order_by(s.line).limit(MAX_PROBLEMS))
    for line, sku, existing in respelled:
        problems.add(Problem(line, _("SKU {sku} is the catalog's {existing} with other capitals; write it {existing} (SKUs ignore capitals)").format(sku=repr(sku), existing=repr(existing)), "sku"))


def _write(conn, staging: Table, header: Header, rows: int, location: str | None, actor: Actor) -> dict:
    now = utcnow()
    now_param = literal(now, UTCDateTime())
    updatable = [col for name in header.columns if name != "quantity" for col in SETS[name] if col != "sku"]
    product = product_table
    if conn.dialect.name == "postgresql":
        # Two imports at once would both insert the same new SKUs; the second waits, then updates.
        conn.execute(text(f"SELECT pg_advisory_xact_lock({PG_IMPORT_LOCK})"))

    location_id = resolve_location(conn, location)
    location_name = conn.execute(select(location_table.c.name).where(location_table.c.id == location_id)).scalar_one()
    s = staging.c
    differs = or_(*(product.c[col].is_distinct_from(s[col]) for col in updatable))
    same_sku = product.c.sku == s.sku
    actor_values = {"at": now_param, "actor": literal(actor.user), "client": literal(actor.client),
                    "action": literal("catalog_import")}

    # Old and new prices go to the audit in one INSERT ... SELECT, before the update changes them.
    if "price" in updatable:
        conn.execute(insert(audit_table).from_select(
            [*actor_values, "entity", "entity_id", "field", "old_value", "new_value"],
            select(*actor_values.values(), literal("product"), product.c.sku, literal("price"),
                   _money_text(conn, product.c.price), _money_text(conn, s.price))
            .join(staging, same_sku).where(product.c.price != s.price).order_by(s.line)))

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

    stock_changed = 0
    if header.has_quantity:
        stock_changed = _refresh_stock(conn, staging, location_id, location_name, now_param, actor_values)

    if added or updated or stock_changed:
        conn.execute(insert(audit_table), [_audit(
            now, actor, "catalog", None, None, None, None,
            note=_('catalog import at {location_name}: {added} added, {updated} updated, {stock_changed} stock quantities changed').format(location_name=location_name, added=added, updated=updated, stock_changed=stock_changed),
        )])
    return {"rows": rows, "added": added, "updated": updated, "stock_changed": stock_changed,
            "location": location_name}


def _money_text(conn, cents):
    """Cents as text like 12.50, in SQL."""
    amount = type_coerce(cents, BigInteger) / literal_column("100.0")
    if conn.dialect.name == "postgresql":
        return func.to_char(amount, "FM999999999990.00")
    return func.printf("%.2f", amount)


def _refresh_stock(conn, staging: Table, location_id: int, location_name: str, now_param, actor_values) -> int:
    s = staging.c
    product, stock = product_table, stock_table
    stocked = and_(product.c.sku == s.sku, product.c.non_inventory.is_(False))
    changed = 0
    if conn.execute(select(stock.c.product_id).where(stock.c.location_id == location_id).limit(1)).first() is not None:
        changed = _changed_stock(conn, staging, location_id, location_name, now_param, actor_values)
    # else a first import at this location: nothing to compare or update
    created = conn.execute(
        insert(stock).from_select(
            ["product_id", "location_id", "on_hand", "committed", "version", "updated_at"],
            select(product.c.id, literal(location_id), s.quantity, literal(0), literal(1), now_param)
            .select_from(staging.join(product, stocked))
            .where(~exists().where(stock.c.product_id == product.c.id, stock.c.location_id == location_id)),
        ),
        execution_options=COUNT_ROWS,
    ).rowcount
    return changed + created


def _changed_stock(conn, staging: Table, location_id: int, location_name: str, now_param, actor_values) -> int:
    s = staging.c
    product, stock = product_table, stock_table
    stocked = and_(product.c.sku == s.sku, product.c.non_inventory.is_(False))
    at_location = and_(stock.c.product_id == product.c.id, stock.c.location_id == location_id)
    conn.execute(insert(audit_table).from_select(
        [*actor_values, "entity", "entity_id", "field", "old_value", "new_value"],
        select(*actor_values.values(), literal("stock"), product.c.sku, literal(f"on_hand@{location_name}"),
               cast(stock.c.on_hand, String), cast(s.quantity, String))
        .select_from(staging.join(product, stocked).join(stock, at_location))
        .where(stock.c.on_hand != s.quantity).order_by(s.line)))
    return conn.execute(
        update(stock)
        .where(stock.c.location_id == location_id, stock.c.product_id == product.c.id,
               product.c.sku == s.sku, product.c.non_inventory.is_(False),
               stock.c.on_hand != s.quantity)
        .values(on_hand=s.quantity, version=stock.c.version + 1, updated_at=now_param)
    ).rowcount


def _cents(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return f"{Decimal(value).scaleb(-2):.2f}"


def _audit(now, actor: Actor, entity, entity_id, field_name, old, new, note=None) -> dict:
    return {
        "at": now, "actor": actor.user, "client": actor.client, "action": "catalog_import",
        "entity": entity, "entity_id": entity_id, "field": field_name,
        "old_value": old, "new_value": new, "note": note, "approved_by": actor.approved_by,
    }
