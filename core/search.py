"""Finding a web sale or a POS customer the way staff remember it: a word of the name, the
email, the last digits of the phone, the order number, or a scanned barcode of a line.

Each record's words are stored in `searchterm`, lower-cased and without accents, one row per
word. A typed word is a prefix, so it is one range of the primary key — an index seek on
SQLite and PostgreSQL alike, however many sales the shop has kept. Several typed words must
all match. The words are written where the records are (orders stored by the sync, customers
created from a sale), and the migration that made the table wrote those of older records.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import Connection, ColumnElement, and_, delete, or_, select

from core.identifiers import parse_barcode
from core.models import PosCustomer, Product, SearchTerm, WebSale, WebSaleLine

SALE, CUSTOMER = "websale", "poscustomer"
TERM_LENGTH = 100  # the column's size; longer words are cut (a prefix still finds them)
LAST_DIGITS = (4, 7)  # people give the end of a phone number: "0142", "555-0142"
_HIGHEST = "\U0010ffff"  # sorts after every other character, bytewise (UTF-8) as in code points
_words = re.compile(r"[^\W_]+", re.UNICODE)
_phone_like = re.compile(r"[\d\s().+-]*\d[\d\s().+-]*")
term_table = SearchTerm.__table__


def fold(text: str) -> str:
    """Lower case, accents dropped: "Élodie" is found by "elodie"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def terms_for(order_number: str | None = None, name: str | None = None, email: str | None = None,
              phone: str | None = None) -> set[str]:
    terms: set[str] = set()
    if order_number:
        number = fold(order_number).lstrip("#").strip()
        terms.add(number)
        if _phone_like.fullmatch(number):
            terms.add("".join(c for c in number if c.isdigit()))
    if name:
        terms.update(_words.findall(fold(name)))
    if email:
        email = fold(email).strip()
        terms.add(email)  # typed whole, or its start
        terms.update(_words.findall(email.partition("@")[0]))  # "lindqvist" finds maya.lindqvist@…
    if phone:
        digits = "".join(c for c in phone if c.isdigit())
        if digits:
            terms.add(digits)
            terms.update(digits[-n:] for n in LAST_DIGITS if len(digits) > n)
    return {term[:TERM_LENGTH] for term in terms if term}


def _rows(entity: str, records: Iterable[tuple]) -> list[dict]:
    """Sales are (id, order number, name, email, phone); customers (id, name, email, phone)."""
    if entity == CUSTOMER:
        return [{"entity": entity, "term": term, "entity_id": record[0]}
                for record in records for term in terms_for(None, *record[1:])]
    return [{"entity": entity, "term": term, "entity_id": record[0]}
            for record in records for term in terms_for(*record[1:])]


def _replace(conn: Connection, entity: str, ids: list[int], rows: list[dict]) -> None:
    for start in range(0, len(ids), 500):
        conn.execute(delete(term_table).where(term_table.c.entity == entity,
                                              term_table.c.entity_id.in_(ids[start:start + 500])))
    if rows:
        conn.execute(term_table.insert(), rows)


def index_sales(conn: Connection, sale_ids: Iterable[int]) -> None:
    """(Re)write the words of these sales, in the caller's transaction."""
    ids = sorted(set(sale_ids))
    if not ids:
        return
    sale = WebSale.__table__
    records = []
    for start in range(0, len(ids), 500):
        records += conn.execute(select(sale.c.id, sale.c.order_number, sale.c.customer_name, sale.c.customer_email,
                                       sale.c.customer_phone).where(sale.c.id.in_(ids[start:start + 500]))).all()
    _replace(conn, SALE, ids, _rows(SALE, records))


def index_customers(conn: Connection, customer_ids: Iterable[int]) -> None:
    ids = sorted(set(customer_ids))
    if not ids:
        return
    pos = PosCustomer.__table__
    records = []
    for start in range(0, len(ids), 500):
        records += conn.execute(select(pos.c.id, pos.c.name, pos.c.email, pos.c.phone)
                                .where(pos.c.id.in_(ids[start:start + 500]))).all()
    _replace(conn, CUSTOMER, ids, _rows(CUSTOMER, records))


def index_all(conn: Connection) -> None:
    """Every stored sale's and customer's words (the migration that made the table; a rebuild)."""
    conn.execute(delete(term_table))
    sale, pos = WebSale.__table__, PosCustomer.__table__
    batch: list[dict] = []
    for query, entity in ((select(sale.c.id, sale.c.order_number, sale.c.customer_name, sale.c.customer_email,
                                  sale.c.customer_phone), SALE),
                          (select(pos.c.id, pos.c.name, pos.c.email, pos.c.phone), CUSTOMER)):
        for record in conn.execute(query):
            batch += _rows(entity, [record])
            if len(batch) >= 5000:
                conn.execute(term_table.insert(), batch)
                batch = []
    if batch:
        conn.execute(term_table.insert(), batch)


def _word_matches(entity: str, word: str):
    """The ids of `entity` with a word starting with `word`: one index range."""
    return select(term_table.c.entity_id).where(term_table.c.entity == entity, term_table.c.term >= word,
                                                term_table.c.term < word + _HIGHEST)


def typed_words(text: str) -> list[str]:
    """What was typed, as the words are stored: "#1041" is 1041, "555-0142" is 5550142."""
    words = []
    for word in fold(text).split():
        word = word.lstrip("#")
        if _phone_like.fullmatch(word):
            word = "".join(c for c in word if c.isdigit())
        if word:
            words.append(word[:TERM_LENGTH])
    return words


def sale_condition(text: str) -> ColumnElement[bool] | None:
    """A WHERE condition on `websale` for what was typed or scanned; None when nothing was.

    A barcode scanned at the counter finds the sales with a line of that product (by the line's
    own barcode or its product's); otherwise every typed word must start a word of the sale."""
    words = typed_words(text)
    if not words:
        return None
    sale = WebSale.__table__
    barcode = parse_barcode(text.strip()) if len(words) == 1 else None
    by_words = and_(*(sale.c.id.in_(_word_matches(SALE, word)) for word in words))
    if barcode is None or not barcode.gtin14:
        return by_words
    line = WebSaleLine.__table__
    with_line = or_(
        sale.c.id.in_(select(line.c.sale_id).where(line.c.gtin14 == barcode.gtin14)),
        sale.c.id.in_(select(line.c.sale_id).join(Product, Product.id == line.c.product_id)
                      .where(Product.gtin14 == barcode.gtin14)))
    return or_(by_words, with_line)


def customer_condition(text: str) -> ColumnElement[bool] | None:
    words = typed_words(text)
    if not words:
        return None
    pos = PosCustomer.__table__
    return and_(*(pos.c.id.in_(_word_matches(CUSTOMER, word)) for word in words))
