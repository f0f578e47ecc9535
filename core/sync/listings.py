"""Web listings: the store's products and variants as Tandem last saw them.

Connectors hand over what the store lists; `store_listings` normalizes the identifiers and writes
them set-based (a staging table and two joins). A listing's `updated_at` moves only when something
it says changed, which is what lets matching re-examine just the changed ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    exists,
    insert,
    literal,
    or_,
    select,
    update,
)

from core.connectors.base import ListingData
from core.db import COUNT_ROWS
from core.dbtypes import UTCDateTime, to_cents, utcnow
from core.identifiers import parse_barcode, part_number_key
from core.models import WebListing

listing_table = WebListing.__table__
# The columns a store's data sets; a change in any of them counts as a change of the listing.
CONTENT = ("external_product_id", "inventory_item_id", "product_code", "barcode_raw", "gtin14",
           "part_number", "part_number_key", "title", "price", "remote_updated_at")


@dataclass(frozen=True)
class StoreReport:
    added: int
    changed: int
    seen: int


def _text(value: str | None, limit: int) -> str | None:
    """Store text as the columns keep it: no NUL bytes (PostgreSQL refuses them), cut to length."""
    return (value or "").replace("\x00", "").strip()[:limit] or None


def _staged(listing: ListingData) -> tuple:
    barcode = parse_barcode(_text(listing.barcode, 64))
    part = _text(listing.part_number, 64)
    remote = listing.remote_updated_at
    return (
        listing.external_id, listing.external_product_id, listing.inventory_item_id,
        _text(listing.product_code, 64),
        barcode.raw if barcode else None, barcode.gtin14 if barcode else None,
        part, part_number_key(part), _text(listing.title, 255) or listing.external_id,
        to_cents(listing.price) if listing.price is not None else None,
        UTCDateTime().process_bind_param(remote, None) if remote else None,
    )


def _staging() -> Table:
    return Table(
        "listing_staging", MetaData(),
        Column("external_id", String, primary_key=True),
        *(Column(name, String) for name in CONTENT[:8]),
        Column("price", BigInteger), Column("remote_updated_at", DateTime),
        Column("position", Integer),
        prefixes=["TEMPORARY"],
    )


def store_listings(conn: Connection, channel_id: int, listings: list[ListingData]) -> StoreReport:
    """Insert new listings and update changed ones, in the caller's transaction."""
    if not listings:
        return StoreReport(0, 0, 0)
    staging = _staging()
    staging.create(conn)  # on any error the caller's rollback removes it too
    rows = {}
    for position, listing in enumerate(listings):
        rows[listing.external_id] = _staged(listing) + (position,)  # the last one sent wins
    conn.execute(insert(staging), [
        dict(zip(["external_id", *CONTENT, "position"], row)) for row in rows.values()
    ])
    now = literal(utcnow(), UTCDateTime())
    s, l = staging.c, listing_table.c
    # The IN list lets SQLite walk the page's rows by index instead of the channel's whole table.
    same = (l.channel_id == channel_id) & (l.external_id == s.external_id) & l.external_id.in_(select(s.external_id))
    changed = conn.execute(
        update(listing_table)
        .where(same, or_(*(l[name].is_distinct_from(s[name]) for name in CONTENT)))
        .values({name: s[name] for name in CONTENT} | {
            "updated_at": now, "last_seen_at": now, "version": l.version + 1,
        })
    ).rowcount
    conn.execute(update(listing_table).where(same).values(last_seen_at=now))
    added = conn.execute(
        insert(listing_table).from_select(
            ["channel_id", "external_id", *CONTENT, "match_state", "first_seen_at", "last_seen_at",
             "updated_at", "version"],
            staging.select().with_only_columns(
                literal(channel_id), s.external_id, *(s[name] for name in CONTENT),
                literal("unmatched"), now, now, now, literal(1),
            ).where(~exists().where(same)).order_by(s.position),
        ),
        execution_options=COUNT_ROWS,
    ).rowcount
    staging.drop(conn)
    return StoreReport(added=added, changed=changed, seen=len(rows))
