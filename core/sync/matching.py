"""Matching web listings to the shop's products (SPEC §10-11).

A listing and a product match when a field pair is identical: the POS barcode and the web GTIN
(compared as GTIN-14; invalid codes have none), or the manufacturer part numbers (trimmed,
case-insensitive). A link is made automatically only when it is one-to-one: the listing's
candidates over every pair are exactly one product, and that product's candidates among the
channel's listings are exactly that listing. Otherwise the listing is unmatched, ambiguous
(several identical counterparts on either side) or in conflict (the pairs name different
products), and waits for a person. Manual decisions always win and are never undone by a rerun.

Everything here is set-based SQL in the caller's transaction: temporary tables, joins on the
indexed normalized keys, and a few INSERT/UPDATE/DELETE ... SELECT statements. After the first run
only listings that could have changed are examined (see `_SCOPE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from core.dbtypes import UTCDateTime, utcnow
from core.models import MatchState

WATERMARK = "matched_at"
AUTOMATIC_ACTOR = "tandem"
_BIND_TIME = UTCDateTime()

_CREATE = [
    "CREATE TEMPORARY TABLE m_keys (gtin14 VARCHAR(14), part_key VARCHAR(64))",
    "CREATE TEMPORARY TABLE m_scope (listing_id INTEGER PRIMARY KEY)",
    "CREATE TEMPORARY TABLE m_cand (listing_id INTEGER NOT NULL, product_id INTEGER NOT NULL,"
    " via VARCHAR(20) NOT NULL)",
    "CREATE TEMPORARY TABLE m_reverse (product_id INTEGER PRIMARY KEY, listings INTEGER NOT NULL)",
    "CREATE TEMPORARY TABLE m_result (listing_id INTEGER PRIMARY KEY, state VARCHAR(20) NOT NULL,"
    " product_id INTEGER, method VARCHAR(20))",
]
_DROP = ["DROP TABLE m_keys", "DROP TABLE m_scope", "DROP TABLE m_cand", "DROP TABLE m_reverse",
         "DROP TABLE m_result"]

# Keys that changed since the last run, on either side: listings sharing them are re-examined.
_DIRTY_KEYS = """
INSERT INTO m_keys (gtin14, part_key)
SELECT gtin14, part_number_key FROM product WHERE updated_at >= :since
UNION ALL
SELECT gtin14, part_number_key FROM weblisting WHERE channel_id = :channel AND updated_at >= :since
"""

# A changed listing can change what its products' other listings see (a product named by two
# listings is ambiguous for both), so the keys of products sharing a changed key count too.
_EXPAND_KEYS = """
INSERT INTO m_keys (gtin14, part_key)
SELECT p.gtin14, p.part_number_key FROM product p
  WHERE p.gtin14 IN (SELECT gtin14 FROM m_keys WHERE gtin14 IS NOT NULL)
UNION ALL
SELECT p.gtin14, p.part_number_key FROM product p
  WHERE p.part_number_key IN (SELECT part_key FROM m_keys WHERE part_key IS NOT NULL)
"""

# The listings to (re)examine: never manually decided ones; on a full run all others; otherwise
# the unresolved ones, the changed ones, those linked to a changed product, and those sharing a
# key with anything that changed.
_SCOPE = """
INSERT INTO m_scope (listing_id)
SELECT l.id FROM weblisting l
WHERE l.channel_id = :channel
  AND NOT EXISTS (SELECT 1 FROM productlink k WHERE k.listing_id = l.id AND k.manual = :yes)
  AND (:full = 1
       OR l.match_state IN ('unmatched', 'ambiguous', 'conflict')
       OR l.updated_at >= :since
       OR l.id IN (SELECT k.listing_id FROM productlink k JOIN product p ON p.id = k.product_id
                   WHERE k.channel_id = :channel AND p.updated_at >= :since)
       OR l.gtin14 IN (SELECT gtin14 FROM m_keys WHERE gtin14 IS NOT NULL)
       OR l.part_number_key IN (SELECT part_key FROM m_keys WHERE part_key IS NOT NULL))
"""

# Only the listings around given keys: what a person's link or unlink can change.
_SCOPE_AROUND = """
INSERT INTO m_scope (listing_id)
SELECT l.id FROM weblisting l
WHERE l.channel_id = :channel
  AND NOT EXISTS (SELECT 1 FROM productlink k WHERE k.listing_id = l.id AND k.manual = :yes)
  AND (l.gtin14 IN (SELECT gtin14 FROM m_keys WHERE gtin14 IS NOT NULL)
       OR l.part_number_key IN (SELECT part_key FROM m_keys WHERE part_key IS NOT NULL))
"""

# A product a person linked in this channel is no candidate for anything else.
_FREE_PRODUCT = """NOT EXISTS (SELECT 1 FROM productlink k
                  WHERE k.channel_id = :channel AND k.manual = :yes AND k.product_id = p.id)"""
_FREE_LISTING = """NOT EXISTS (SELECT 1 FROM productlink k WHERE k.listing_id = l2.id AND k.manual = :yes)"""

_CANDIDATES = f"""
INSERT INTO m_cand (listing_id, product_id, via)
SELECT l.id, p.id, 'gtin' FROM m_scope s
  JOIN weblisting l ON l.id = s.listing_id
  JOIN product p ON p.gtin14 = l.gtin14
  WHERE {_FREE_PRODUCT}
UNION ALL
SELECT l.id, p.id, 'part_number' FROM m_scope s
  JOIN weblisting l ON l.id = s.listing_id
  JOIN product p ON p.part_number_key = l.part_number_key
  WHERE {_FREE_PRODUCT}
"""

# For each candidate product: how many of the channel's (undecided) listings name it.
_REVERSE = f"""
INSERT INTO m_reverse (product_id, listings)
SELECT product_id, COUNT(DISTINCT listing_id) FROM (
  SELECT p.id AS product_id, l2.id AS listing_id
    FROM (SELECT DISTINCT product_id FROM m_cand) c
    JOIN product p ON p.id = c.product_id
    JOIN weblisting l2 ON l2.channel_id = :channel AND l2.gtin14 = p.gtin14
    WHERE {_FREE_LISTING}
  UNION ALL
  SELECT p.id, l2.id
    FROM (SELECT DISTINCT product_id FROM m_cand) c
    JOIN product p ON p.id = c.product_id
    JOIN weblisting l2 ON l2.channel_id = :channel AND l2.part_number_key = p.part_number_key
    WHERE {_FREE_LISTING}
) pairs GROUP BY product_id
"""

_RESULT = """
INSERT INTO m_result (listing_id, state, product_id, method)
SELECT s.listing_id,
  CASE WHEN a.n IS NULL THEN 'unmatched'
       WHEN a.n = 1 AND r.listings = 1 THEN 'matched'
       WHEN a.n = 1 THEN 'ambiguous'
       WHEN a.n_gtin > 1 OR a.n_part > 1 THEN 'ambiguous'
       ELSE 'conflict' END,
  CASE WHEN a.n = 1 AND r.listings = 1 THEN a.product_id END,
  CASE WHEN a.n = 1 AND r.listings = 1 THEN
       CASE WHEN a.n_gtin = 1 THEN 'gtin' ELSE 'part_number' END END
FROM m_scope s
LEFT JOIN (
  SELECT listing_id,
         COUNT(DISTINCT product_id) AS n,
         COUNT(DISTINCT CASE WHEN via = 'gtin' THEN product_id END) AS n_gtin,
         COUNT(DISTINCT CASE WHEN via = 'part_number' THEN product_id END) AS n_part,
         MIN(product_id) AS product_id
  FROM m_cand GROUP BY listing_id
) a ON a.listing_id = s.listing_id
LEFT JOIN m_reverse r ON r.product_id = a.product_id
"""

_SET_STATES = """
UPDATE weblisting SET match_state = m_result.state
FROM m_result WHERE weblisting.id = m_result.listing_id AND weblisting.match_state <> m_result.state
"""

# Automatic links that the rules no longer support go; manual ones are never touched here.
_DROP_STALE_LINKS = """
DELETE FROM productlink
WHERE manual = :no
  AND listing_id IN (SELECT listing_id FROM m_result)
  AND NOT EXISTS (SELECT 1 FROM m_result r
                  WHERE r.listing_id = productlink.listing_id AND r.product_id = productlink.product_id)
"""

_ADD_LINKS = """
INSERT INTO productlink (channel_id, listing_id, product_id, method, manual, linked_by, linked_at)
SELECT :channel, r.listing_id, r.product_id, r.method, :no, :actor, :now FROM m_result r
WHERE r.state = 'matched'
  AND NOT EXISTS (SELECT 1 FROM productlink k WHERE k.listing_id = r.listing_id)
ORDER BY r.listing_id
"""

_COUNT_STATES = "SELECT state, COUNT(*) FROM m_result GROUP BY state"


@dataclass(frozen=True)
class MatchSummary:
    examined: int
    states: dict[str, int]
    linked: int
    unlinked: int

    def count(self, state: MatchState) -> int:
        return self.states.get(state.value, 0)


def _since(conn: Connection, channel_id: int) -> datetime | None:
    value = conn.execute(
        text("SELECT value FROM synccursor WHERE channel_id = :c AND name = :n"),
        {"c": channel_id, "n": WATERMARK},
    ).scalar()
    return datetime.fromisoformat(value) if value else None


def _save_watermark(conn: Connection, channel_id: int, started: datetime) -> None:
    params = {"c": channel_id, "n": WATERMARK, "v": started.isoformat(),
              "t": _BIND_TIME.process_bind_param(utcnow(), None)}
    updated = conn.execute(
        text("UPDATE synccursor SET value = :v, updated_at = :t WHERE channel_id = :c AND name = :n"), params
    ).rowcount
    if not updated:
        conn.execute(
            text("INSERT INTO synccursor (channel_id, name, value, updated_at) VALUES (:c, :n, :v, :t)"), params
        )


def match_channel(conn: Connection, channel_id: int, *, full: bool = False,
                  extra_keys: list[tuple[str | None, str | None]] = (), around_only: bool = False) -> MatchSummary:
    """Apply the matching rules to a channel's listings, in the caller's transaction.

    `extra_keys` are (gtin14, part key) pairs whose listings must be re-examined too, e.g. the
    keys of a product a person just linked or unlinked. With `around_only`, only those listings
    (and the ones sharing a product with them) are examined, and the next sync's incremental run
    is left to pick up everything else: a person's link stays quick on a large channel.
    """
    started = utcnow()
    since = _since(conn, channel_id)
    full = full or since is None
    params = {
        "channel": channel_id, "yes": True, "no": False, "full": 1 if full else 0,
        "since": _BIND_TIME.process_bind_param(since or started, None),
        "now": _BIND_TIME.process_bind_param(started, None), "actor": AUTOMATIC_ACTOR,
    }
    for statement in _CREATE:
        conn.execute(text(statement))
    if not around_only:
        conn.execute(text(_DIRTY_KEYS), params)
    if extra_keys:
        conn.execute(text("INSERT INTO m_keys (gtin14, part_key) VALUES (:g, :p)"),
                     [{"g": g, "p": p} for g, p in extra_keys])
    conn.execute(text(_EXPAND_KEYS), params)
    conn.execute(text(_SCOPE_AROUND if around_only else _SCOPE), params)
    conn.execute(text(_CANDIDATES), params)
    conn.execute(text(_REVERSE), params)
    conn.execute(text(_RESULT), params)
    states = {state: count for state, count in conn.execute(text(_COUNT_STATES))}
    conn.execute(text(_SET_STATES), params)
    unlinked = conn.execute(text(_DROP_STALE_LINKS), params).rowcount
    linked = conn.execute(text(_ADD_LINKS), params, execution_options={"preserve_rowcount": True}).rowcount
    for statement in _DROP:
        conn.execute(text(statement))
    if not around_only:
        _save_watermark(conn, channel_id, started)
    return MatchSummary(sum(states.values()), states, linked, unlinked)


# Sale lines (SPEC §10, sales import only): the listing's link first; failing that, the same rule
# with the shop's SKU and the web product code as a third pair, one product or none.
_LINES_FROM_LINKS = """
UPDATE websaleline SET product_id = (
  SELECT k.product_id FROM productlink k WHERE k.listing_id = websaleline.listing_id)
WHERE product_id IS NULL
  AND sale_id IN (SELECT id FROM websale WHERE channel_id = :channel)
  AND EXISTS (SELECT 1 FROM productlink k
              WHERE k.listing_id = websaleline.listing_id AND k.product_id IS NOT NULL)
"""

_LINE_CANDIDATES = f"""
INSERT INTO m_line_cand (line_id, product_id)
SELECT line.id, p.id FROM websaleline line JOIN product p ON p.gtin14 = line.gtin14
  WHERE line.product_id IS NULL AND line.sale_id IN (SELECT id FROM websale WHERE channel_id = :channel)
    AND {_FREE_PRODUCT}
UNION
SELECT line.id, p.id FROM websaleline line JOIN product p ON p.part_number_key = line.part_number_key
  WHERE line.product_id IS NULL AND line.sale_id IN (SELECT id FROM websale WHERE channel_id = :channel)
    AND {_FREE_PRODUCT}
UNION
SELECT line.id, p.id FROM websaleline line JOIN product p ON p.sku = line.product_code
  WHERE line.product_id IS NULL AND line.sale_id IN (SELECT id FROM websale WHERE channel_id = :channel)
    AND {_FREE_PRODUCT}
"""

_LINES_FROM_RULES = """
UPDATE websaleline SET product_id = (
  SELECT MIN(c.product_id) FROM m_line_cand c WHERE c.line_id = websaleline.id)
WHERE id IN (SELECT line_id FROM m_line_cand GROUP BY line_id HAVING COUNT(DISTINCT product_id) = 1)
  AND (listing_id IS NULL OR NOT EXISTS (
        SELECT 1 FROM productlink k WHERE k.listing_id = websaleline.listing_id AND k.product_id IS NULL))
"""


def match_sale_lines(conn: Connection, channel_id: int) -> int:
    """Give unmatched sale lines of a channel their product where the rules allow; returns how many."""
    params = {"channel": channel_id, "yes": True}
    linked = conn.execute(text(_LINES_FROM_LINKS), params).rowcount
    conn.execute(text("CREATE TEMPORARY TABLE m_line_cand (line_id INTEGER NOT NULL, product_id INTEGER NOT NULL)"))
    conn.execute(text(_LINE_CANDIDATES), params)
    linked += conn.execute(text(_LINES_FROM_RULES), params).rowcount
    conn.execute(text("DROP TABLE m_line_cand"))
    return linked
