"""The daily export: available quantity and selling price of every matched product, sent to the
web store in batches of the platform's documented maximum.

Only what changed since the last successful export is sent (unless `full`). Each link remembers
what was last accepted by the store, and that mark moves batch by batch, right after the store
accepted the batch, so a run cut short resends only what the store had not yet accepted.

A web store selling several shop locations gets each one's availability at its own store location
(Shopify); WooCommerce keeps one stock per product and gets the sum of the locations it sells.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterator, Sequence

from sqlalchemy import Connection, Engine, bindparam, case, false, func, literal, or_, select, update

from core.changes import ChangePosition, StoreChanges, current_position, read_store_changes, save_position, saved_position
from core.connectors.base import Connector, ConnectorError, PriceUpdate, StockUpdate, VisibilityUpdate
from core.i18n import _, ngettext, number
from core.db import insert_ignoring_duplicates
from core.dbtypes import Money, utcnow
from core.rules import RuleBook, facts, products_reached, rule_book
from core.models import RuleKind
from core.models import ChannelLocation, ExportedStock, Location, Product, ProductLink, SalesChannel, Stock, WebListing

log = logging.getLogger(__name__)

link_table = ProductLink.__table__
STREAM_CHUNK = 2_000  # plan rows read from the database at a time
PRODUCTS_PER_QUERY = 500  # products named in one plan query, when only some are planned


@dataclass(frozen=True)
class Why:
    """For a dry run: where a planned value comes from (shop → rule → store)."""

    sku: str
    pos_available: int
    quantity_rule: str
    shop_price: Decimal
    price_rule: str


@dataclass
class ExportPlan:
    stock: list[tuple[int, StockUpdate]] = field(default_factory=list)
    prices: list[tuple[int, PriceUpdate]] = field(default_factory=list)
    why: dict[int, Why] = field(default_factory=dict)  # by link, filled by plan_export
    visibility: list[VisibilityUpdate] = field(default_factory=list)  # a dry run's


@dataclass(frozen=True)
class ExportReport:
    quantities_sent: int
    prices_sent: int
    requests: int
    dry_run: bool = False
    visibility_sent: int = 0  # listings (Shopify: products) unpublished or published again


@dataclass(frozen=True)
class StockTarget:
    """One quantity per listing, for one store location (None: the connector's own, the primary),
    made of the availability of one or more shop locations. The primary's marks are on the links;
    another store location's are in ExportedStock under its shop location."""

    store_location: str | None
    locations: tuple[int, ...]
    marks_at: int | None = None


def stock_targets(conn: Connection, channel_id: int) -> list[StockTarget]:
    channel = conn.execute(select(SalesChannel.location_id, SalesChannel.platform)
                           .where(SalesChannel.id == channel_id)).one()
    primary = channel.location_id or conn.execute(select(Location.id).order_by(Location.id).limit(1)).scalar()
    sold = conn.execute(select(ChannelLocation.location_id, ChannelLocation.store_location)
                        .where(ChannelLocation.channel_id == channel_id).order_by(ChannelLocation.location_id)).all()
    if not sold:
        return [StockTarget(None, (primary,))]
    if channel.platform == "woocommerce":
        return [StockTarget(None, tuple(location for location, _ in sold))]
    return [StockTarget(None, (primary,))] + [StockTarget(store, (location,), location)
                                              for location, store in sold if location != primary]


def _planned(conn: Connection, channel_id: int, full: bool, target: StockTarget | None = None,
             products: Sequence[int] | None = None,
             why: dict[int, Why] | None = None) -> Iterator[tuple[int, StockUpdate | PriceUpdate]]:
    """What is to be sent, one update at a time, computed in one query streamed in chunks (so a
    million-product export never holds its whole plan): available = on hand - committed - buffer,
    not below 0, and the shop's price, unless a channel rule says otherwise (core.rules). In the order of the store's products, so one product's prices come together.
    Prices go with the primary target only (one price per listing, whatever the location).
    With `products`, only theirs: the watcher's round after a few changes reads a few rows."""
    target = target or stock_targets(conn, channel_id)[0]
    with_prices = target.marks_at is None
    book = rule_book(conn, channel_id)
    buffer = book.channel_buffer
    if len(target.locations) == 1:
        stock = Stock.__table__
        stock_on = (stock.c.product_id == Product.id) & (stock.c.location_id == target.locations[0])
    else:
        stock = (select(Stock.product_id, func.sum(Stock.on_hand).label("on_hand"),
                        func.sum(Stock.committed).label("committed"))
                 .where(Stock.location_id.in_(target.locations)).group_by(Stock.product_id).subquery())
        stock_on = stock.c.product_id == Product.id
    pos_available = func.coalesce(stock.c.on_hand, 0) - func.coalesce(stock.c.committed, 0)
    raw = pos_available - literal(buffer)
    available = case((raw < 0, 0), else_=raw)
    mark = ProductLink.last_exported_quantity if with_prices else ExportedStock.quantity
    # Until Tandem has sent a price, the one the store listed is what the store has.
    store_price = func.coalesce(ProductLink.last_exported_price, WebListing.price)
    price_changed = store_price.is_distinct_from(Product.price) if with_prices else false()
    # Products under a rule are worked out here, one by one (core.rules); the rest in SQL as before.
    ruled = _ruled(book)
    query = (
        select(ProductLink.id, WebListing.external_id, WebListing.external_product_id, WebListing.inventory_item_id,
               available.label("available"), Product.price, mark.label("mark"), store_price.label("store_price"),
               pos_available.label("pos_available"), Product.sku, Product.brand, Product.category, Product.msrp,
               Product.map_price, ruled.label("ruled"))
        .join(WebListing, WebListing.id == ProductLink.listing_id)
        .join(Product, Product.id == ProductLink.product_id)
        .outerjoin(stock, stock_on)
        .where(ProductLink.channel_id == channel_id, ProductLink.product_id.is_not(None),
               Product.non_inventory.is_(False))
        .where(literal(full) | or_(mark.is_distinct_from(available), price_changed, ruled))
        .order_by(WebListing.external_product_id, ProductLink.id)
    )
    if products is not None:
        query = query.where(Product.id.in_(products))
    if not with_prices:
        query = query.outerjoin(ExportedStock, (ExportedStock.link_id == ProductLink.id)
                                & (ExportedStock.location_id == target.marks_at))
    for row in conn.execution_options(yield_per=STREAM_CHUNK).execute(query):
        quantity, price = row.available, row.price
        if row.ruled or why is not None:
            product = facts(row)
            quantity_decision, price_decision = book.quantity(product, int(row.pos_available)), book.price(product)
            quantity, price = quantity_decision.value, price_decision.value
            if why is not None:
                why[row.id] = Why(row.sku, int(row.pos_available), quantity_decision.rule, row.price,
                                  price_decision.rule)
        if full or row.mark != quantity:
            yield row.id, StockUpdate(row.external_id, row.inventory_item_id, int(quantity), target.store_location)
        if with_prices and (full or row.store_price != price):
            yield row.id, PriceUpdate(row.external_id, row.external_product_id, price)


def _ruled(book: RuleBook):
    """Whether a product's quantity or price may come from a rule, as SQL (floors only bound what
    a price rule makes)."""
    return products_reached(rule for rule in book.rules.values() if rule.family != "floor")


def plan_visibility(conn: Connection, channel_id: int, whole_products: bool,
                    products: Sequence[int] | None = None) -> list[tuple[list[int], VisibilityUpdate]]:
    """What to unpublish (a product sold in store only) or publish again (its rule gone), with the
    links whose marks move when it is done. A platform hiding whole products (Shopify) hides one
    only when every linked listing of it on the store is in store only (a listing linked to no
    shop product does not count either way). Only what Tandem itself unpublished is ever published
    again; a mark without a rule behind it any more is simply cleared."""
    book = rule_book(conn, channel_id)
    in_store_only = products_reached(rule for rule in book.rules.values() if rule.kind == RuleKind.IN_STORE_ONLY)
    candidates = (select(ProductLink.id, WebListing.external_id, WebListing.external_product_id)
                  .join(WebListing, WebListing.id == ProductLink.listing_id)
                  .join(Product, Product.id == ProductLink.product_id)
                  .where(ProductLink.channel_id == channel_id,
                         or_(ProductLink.unpublished.is_not(None), in_store_only)))
    if products is not None:
        candidates = candidates.where(Product.id.in_(products))
    found = conn.execute(candidates).all()
    if not found:
        return []
    listings = (select(WebListing.external_id, WebListing.external_product_id, ProductLink.id.label("link"),
                       ProductLink.unpublished, Product.sku, Product.brand, Product.category, Product.price,
                       Product.msrp, Product.map_price)
                .join(ProductLink, ProductLink.listing_id == WebListing.id)
                .join(Product, Product.id == ProductLink.product_id)
                .where(WebListing.channel_id == channel_id))
    if whole_products:
        listings = listings.where(WebListing.external_product_id.in_({row.external_product_id for row in found}))
    else:
        listings = listings.where(WebListing.external_id.in_({row.external_id for row in found}))
    groups: dict[str, list] = {}
    for row in conn.execute(listings):
        groups.setdefault(row.external_product_id if whole_products else row.external_id, []).append(row)
    planned = []
    for rows in groups.values():
        hide = all(book.held_back(facts(row))[0] for row in rows)
        marks = {row.unpublished for row in rows}
        links = [row.link for row in rows]
        if hide and None in marks or not hide and marks != {None}:
            planned.append((links, VisibilityUpdate(rows[0].external_id, rows[0].external_product_id, not hide,
                                                    was_ours="tandem" in marks)))
    return planned


def _send_visibility(engine: Engine, channel_id: int, connector: Connector,
                     products: Sequence[int] | None = None) -> int:
    """Unpublish (only what the store still shows: what the shop took off itself is marked
    "already" and left alone) and publish again (only what Tandem took off); each batch's marks
    move once the store took it. Returns the listings (or products) changed on the store."""
    if getattr(connector, "set_visibility", None) is None:
        return 0
    with engine.connect() as conn:
        planned = plan_visibility(conn, channel_id, connector.hides_whole_products, products)
    size, changed = connector.price_batch_size, 0
    for start in range(0, len(planned), size):
        batch = planned[start:start + size]
        try:
            hiding = [update_ for _links, update_ in batch if not update_.visible]
            shown = connector.published(hiding) if hiding else set()
            sent = [update_ for _links, update_ in batch
                    if (update_.visible and update_.was_ours) or (not update_.visible and _key(connector, update_) in shown)]
            if sent:
                connector.set_visibility(sent)
        except ConnectorError as exc:
            # The quantities matter more: those listings are sent 0 anyway, and the next round
            # tries again (their marks did not move).
            log.warning("the store did not take %d publish/unpublish change(s): %s", len(batch), exc)
            continue
        with engine.begin() as conn:
            for links, update_ in batch:
                # A product Tandem had already taken off (a variant linked since) stays Tandem's.
                ours = _key(connector, update_) in shown or update_.was_ours
                mark = None if update_.visible else ("tandem" if ours else "already")
                conn.execute(update(link_table).where(link_table.c.id.in_(links)).values(unpublished=mark))
                if update_.visible and update_.was_ours or mark == "tandem":
                    log.info("listing %s %s (channel rule: in store only)", _key(connector, update_),
                             "published again" if update_.visible else "unpublished")
        changed += len(sent)
    return changed


def _key(connector: Connector, update_: VisibilityUpdate) -> str:
    """What the platform publishes: a product (Shopify), or each listing (WooCommerce)."""
    return update_.external_product_id if connector.hides_whole_products else update_.listing_external_id


def plan_export(conn: Connection, channel_id: int, full: bool = False) -> ExportPlan:
    """The whole plan at once: for a dry run's listing and for tests."""
    plan = ExportPlan()
    for target in stock_targets(conn, channel_id):
        for link, update_ in _planned(conn, channel_id, full, target, why=plan.why):
            (plan.stock if isinstance(update_, StockUpdate) else plan.prices).append((link, update_))
    return plan


Also = Callable[[Connection], None] | None  # more to write in the same transaction as the marks


def _mark(engine: Engine, column: str, sent: list[tuple[int, object]], also: Also = None) -> None:
    value_type = Money() if column == "last_exported_price" else None
    with engine.begin() as conn:
        conn.execute(
            update(link_table).where(link_table.c.id == bindparam("link"))
            .values({column: bindparam("value", type_=value_type), "last_exported_at": bindparam("at")}),
            [{"link": link, "value": value, "at": utcnow()} for link, value in sent],
        )
        if also is not None:
            also(conn)


def _mark_elsewhere(engine: Engine, location: int, sent: list[tuple[int, int]], also: Also = None) -> None:
    table = ExportedStock.__table__
    with engine.begin() as conn:
        if also is not None:
            also(conn)
        insert_ignoring_duplicates(conn, table, [{"link_id": link, "location_id": location, "quantity": quantity,
                                                  "exported_at": utcnow()} for link, quantity in sent],
                                   ["link_id", "location_id"])
        conn.execute(update(table).where(table.c.link_id == bindparam("link"), table.c.location_id == location)
                     .values(quantity=bindparam("value"), exported_at=bindparam("at")),
                     [{"link": link, "value": quantity, "at": utcnow()} for link, quantity in sent])


def _adopt_listed_prices(engine: Engine, channel_id: int, products: Sequence[int] | None = None) -> None:
    """A link never exported whose listing already shows the shop's price is marked as having it.

    Without this, a run killed after the store took a price but before the mark was written would
    leave that link unmarked for good (the rerun reads the new price and has nothing to send), while
    an uninterrupted run marks it: the marks must not depend on where a run was cut.
    """
    listed = (select(WebListing.price).where(WebListing.id == link_table.c.listing_id)
              .scalar_subquery())
    price = select(Product.price).where(Product.id == link_table.c.product_id).scalar_subquery()
    with engine.begin() as conn:
        for chunk in [None] if products is None else _chunks(products):
            adopting = update(link_table).where(
                link_table.c.channel_id == channel_id, link_table.c.product_id.is_not(None),
                link_table.c.last_exported_price.is_(None), listed == price)
            if chunk is not None:
                adopting = adopting.where(link_table.c.product_id.in_(chunk))
            conn.execute(adopting.values(last_exported_price=price))


def _chunks(products: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(products), PRODUCTS_PER_QUERY):
        yield products[start:start + PRODUCTS_PER_QUERY]


class PriceSpool:
    """Prices waiting for a bulk update, on disk rather than in memory (a first export can hold a
    whole catalog's), read back once to send and once to mark what the store took."""

    def __init__(self):
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.count = 0

    def add(self, link: int, update_: PriceUpdate) -> None:
        self._file.write(json.dumps([link, update_.listing_external_id, update_.external_product_id,
                                     str(update_.price)]) + "\n")
        self.count += 1

    def entries(self) -> Iterator[tuple[int, PriceUpdate]]:
        self._file.seek(0)
        for line in self._file:
            link, listing, product, price = json.loads(line)
            yield link, PriceUpdate(listing, product, Decimal(price))

    def close(self) -> None:
        self._file.close()


def _send_in_bulk(engine: Engine, connector: Connector, spool: PriceSpool, also: Also = None) -> int:
    """One bulk price update; the prices the store took are marked in chunks, and what it refused
    or never ran is said (and sent again by the next export)."""
    result = connector.set_prices_in_bulk(update_ for _link, update_ in spool.entries())
    marked, chunk = 0, []
    for (link, update_), taken in zip(spool.entries(), result.accepted):
        if taken:
            chunk.append((link, update_.price))
        if len(chunk) == STREAM_CHUNK:
            _mark(engine, "last_exported_price", chunk)
            marked += len(chunk)
            chunk = []
    whole = result.complete and not result.refused
    if chunk:
        _mark(engine, "last_exported_price", chunk, also if whole else None)
        marked += len(chunk)
    elif whole and also is not None:
        with engine.begin() as conn:
            also(conn)
    if result.refused:
        log.warning("the store refused %d price(s); first: %s", len(result.refused), result.refused[0])
        raise ConnectorError(ngettext("the store refused the prices of {count} product: {reason}",
                                      "the store refused the prices of {count} products: {reason}",
                                      len(result.refused)).format(count=len(result.refused), reason=result.refused[0]))
    if not result.complete:
        raise ConnectorError(_("the store's bulk price update stopped part-way ({code}): {marked} of {count} prices "
                               "were taken; the rest go with the next export").format(
            code=result.error_code or "?", marked=number(marked), count=number(spool.count)))
    return marked


def _log_sent(engine: Engine, channel_id: int, column: str, batch: list) -> None:
    """One line per item the store took, with the shop's SKU: what was sent is findable later."""
    if not log.isEnabledFor(logging.INFO):
        return
    with engine.connect() as conn:
        channel = conn.execute(select(SalesChannel.name).where(SalesChannel.id == channel_id)).scalar()
        skus = dict(conn.execute(select(ProductLink.id, Product.sku).join(Product, Product.id == ProductLink.product_id)
                                 .where(ProductLink.id.in_([link for link, _ in batch]))).all())
    for link, update_ in batch:
        if column == "last_exported_quantity":
            where = f" at store location {update_.store_location}" if update_.store_location else ""
            log.info("%s: quantity %d sent for %s (listing %s)%s", channel, update_.quantity, skus.get(link),
                     update_.listing_external_id, where)
        else:
            log.info("%s: price %s sent for %s (listing %s)", channel, update_.price, skus.get(link),
                     update_.listing_external_id)


def run_export(engine: Engine, channel_id: int, connector: Connector, *, full: bool = False,
               dry_run: bool = False, products: Sequence[int] | None = None,
               position: ChangePosition | None = None) -> tuple[ExportReport, ExportPlan]:
    """Send the plan batch by batch as it is read, each batch's mark written once the store took it.
    With `products`, only those products are planned; with `position`, the store's place in the
    change sequence is saved in the transaction of the last marks (alone when nothing was sent)."""
    if dry_run:
        with engine.connect() as conn:
            plan = plan_export(conn, channel_id, full)
            if getattr(connector, "set_visibility", None) is not None:
                plan.visibility = [update_ for _links, update_ in
                                   plan_visibility(conn, channel_id, connector.hides_whole_products)]
        return ExportReport(len(plan.stock), len(plan.prices), 0, dry_run=True), plan
    before = connector.counter.requests
    _adopt_listed_prices(engine, channel_id, products)
    # First, so the store's place in the change sequence never moves past it: a run cut short
    # unpublishes in the next one.
    shown = _send_visibility(engine, channel_id, connector, products)
    skips_unstocked, per_product = connector.needs_inventory_item, connector.prices_per_product
    stock: list[tuple[int, StockUpdate]] = []
    prices: list[tuple[int, PriceUpdate]] = []
    sent = {"last_exported_quantity": 0, "last_exported_price": 0}
    saved = []

    def save(conn: Connection) -> None:
        save_position(conn, channel_id, position)
        saved.append(position)

    def send(batch: list, to_store, column: str, marks_at: int | None = None, also: Also = None) -> None:
        to_store([update_ for _, update_ in batch])
        marks = [(link, update_.quantity if column == "last_exported_quantity" else update_.price)
                 for link, update_ in batch]
        if marks_at is None:
            _mark(engine, column, marks, also)
        else:
            _mark_elsewhere(engine, marks_at, marks, also)
        _log_sent(engine, channel_id, column, batch)
        sent[column] += len(batch)
        batch.clear()

    def send_prices(also: Also = None) -> None:
        for start in range(0, len(prices), connector.price_batch_size):
            batch = prices[start:start + connector.price_batch_size]
            last = start + connector.price_batch_size >= len(prices)
            send(batch, connector.set_prices, "last_exported_price", also=also if last else None)
        prices.clear()

    # Above this many prices the store takes them all in one bulk operation (Shopify).
    bulk_from = getattr(connector, "bulk_prices_from", None)
    spool: PriceSpool | None = None

    with engine.connect() as conn:
        targets = stock_targets(conn, channel_id)
    for index, target in enumerate(targets):
        def send_stock(also: Also = None) -> None:
            send(stock, connector.set_stock, "last_exported_quantity", target.marks_at, also)

        with engine.connect() as conn:
            for chunk in [None] if products is None else _chunks(products):
                for link, update_ in _planned(conn, channel_id, full, target, chunk):
                    if isinstance(update_, StockUpdate):
                        if skips_unstocked and not update_.inventory_item_id:
                            continue  # a listing the store keeps no stock for
                        stock.append((link, update_))
                        if len(stock) == connector.stock_batch_size:
                            send_stock()
                    elif spool is not None:
                        spool.add(link, update_)
                    else:
                        if per_product and prices and prices[-1][1].external_product_id != update_.external_product_id:
                            send_prices()  # one product's variants per call
                        prices.append((link, update_))
                        if bulk_from and len(prices) >= bulk_from:
                            spool = PriceSpool()
                            for held in prices:
                                spool.add(*held)
                            prices.clear()
                        elif not bulk_from and len(prices) == connector.price_batch_size:
                            send_prices()
        # What is left of this target; after the last target, the position goes with the last marks.
        ends = [end for end, waiting in ((send_stock, stock), (send_prices, prices), ("bulk", spool)) if waiting]
        for number_, end in enumerate(ends):
            also = save if position is not None and index == len(targets) - 1 and number_ == len(ends) - 1 else None
            if end != "bulk":
                end(also)
                continue
            try:
                sent["last_exported_price"] += _send_in_bulk(engine, connector, spool, also)
            finally:
                spool.close()
            spool = None
    if position is not None and not saved:
        with engine.begin() as conn:
            save(conn)
    return (ExportReport(sent["last_exported_quantity"], sent["last_exported_price"],
                         connector.counter.requests - before, visibility_sent=shown), ExportPlan())


def export_changes(engine: Engine, channel_id: int, connector: Connector,
                   whole_from: int = 20_000) -> tuple[ExportReport, StoreChanges]:
    """The watcher's round for one store: what changed since its position, planned for just those
    products (the whole catalog when the store's settings or locations changed, or more than
    `whole_from` products did, where one pass over the catalog is the cheaper plan). A store never
    exported by change yet starts with the whole catalog."""
    with engine.connect() as conn:
        position = saved_position(conn, channel_id)
    if position is None:
        with engine.connect() as conn:
            changes = StoreChanges(whole_catalog=True, position=current_position(conn))
    else:
        changes = read_store_changes(engine, channel_id, position)
    if not changes.anything:
        if changes.position != position:  # past audit lines, runs, sales that moved no stock
            with engine.begin() as conn:
                save_position(conn, channel_id, changes.position)
        return ExportReport(0, 0, 0), changes
    products = None if changes.whole_catalog or len(changes.products) > whole_from else sorted(changes.products)
    report, _plan = run_export(engine, channel_id, connector, products=products, position=changes.position)
    return report, changes
