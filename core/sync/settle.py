"""The settle stage (SPEC §2, §5): after orders are stored and their lines matched, each open sale
gets its state (waiting for a match, a gift card to issue, ready), holds fall due, and stock moves
exactly once per line: committed for store-fulfilled lines, released when a sale is cancelled, sold
when it is completed. Each line's stock state is the ledger, so replays move nothing twice."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from sqlalchemy import Connection, bindparam, exists, func, literal_column, select, update

from core.db import insert_ignoring_duplicates
from core.i18n import _
from core.rules import facts, rule_book
from core.dbtypes import utcnow
from core.logs import when_committed
from core.models import (
    Fulfillment,
    GiftCard,
    LineStock,
    OPEN_SALE_STATES,
    Location,
    Product,
    SalesChannel,
    SaleState,
    Stock,
    WebSale,
    WebSaleLine,
)

sale_table, line_table, stock_table = WebSale.__table__, WebSaleLine.__table__, Stock.__table__
log = logging.getLogger(__name__)
MOVED = {LineStock.COMMITTED: "committed", LineStock.RELEASED: "released (sale cancelled)",
         LineStock.NONE: "given back (decision undone)", LineStock.SOLD: "sold"}
OPEN_FOR_STOCK = (SaleState.WAITING_MATCH, SaleState.READY, SaleState.GIFT_CARD_TO_ISSUE, SaleState.CAPTURE_FAILED)


def _literal(value: str):
    return literal_column(f"'{value}'")


# The partial indexes' conditions (core.models), repeated word for word so the planner takes them:
# the open sales and the committed lines, not the whole history behind them.
IS_OPEN = sale_table.c.state.in_([_literal(state.value) for state in OPEN_SALE_STATES])
IS_COMMITTED = line_table.c.stock_state == _literal(LineStock.COMMITTED.value)


def settle_sales(conn: Connection, channel_id: int, now: datetime | None = None,
                 sale_ids: list[int] | None = None) -> None:
    """Bring a channel's open sales up to date: holds released when due, states, stock committed
    for store-fulfilled lines, released for cancelled sales. With `sale_ids` (an import page), only
    those sales and the holds released now are looked at. Lines are matched before, by the
    matching stage (core.sync.matching.match_sale_lines)."""
    now = now or utcnow()
    released = [row for row, in conn.execute(
        update(sale_table).where(sale_table.c.channel_id == channel_id, IS_OPEN,
                                 sale_table.c.state == SaleState.HELD.value, sale_table.c.held_until <= now)
        .values(state=SaleState.WAITING_MATCH.value).returning(sale_table.c.id))]
    if released and log.isEnabledFor(logging.INFO):
        for number, in conn.execute(select(sale_table.c.order_number).where(sale_table.c.id.in_(released))):
            when_committed(conn, log, "order %s released from its supplier hold: it may be downloaded now", number)
    scope = None if sale_ids is None else [*sale_ids, *released]
    refresh_states(conn, channel_id, scope)
    hold_back_orders(conn, channel_id, scope)
    _commit_stock(conn, channel_id, scope)
    # From the lines still holding units: the cancelled sales of years past hold none.
    cancelled = select(sale_table.c.id).where(sale_table.c.channel_id == channel_id,
                                              sale_table.c.state == SaleState.CANCELLED.value,
                                              sale_table.c.id.in_(select(line_table.c.sale_id).where(IS_COMMITTED)))
    if scope is not None:
        cancelled = cancelled.where(sale_table.c.id.in_(scope))
    release_stock(conn, cancelled)


def refresh_states(conn: Connection, channel_id: int, scope: list[int] | None = None) -> None:
    # Each open sale asks about its own lines (by the sale's index): never a list of every line.
    waiting = exists().where(line_table.c.sale_id == sale_table.c.id, line_table.c.product_id.is_(None))
    placeholder_without_card = exists().where(
        line_table.c.sale_id == sale_table.c.id, Product.id == line_table.c.product_id,
        Product.gift_card_placeholder.is_(True), ~exists().where(GiftCard.sale_line_id == line_table.c.id))
    movable = IS_OPEN & sale_table.c.state.in_([SaleState.WAITING_MATCH.value, SaleState.READY.value,
                                                SaleState.GIFT_CARD_TO_ISSUE.value])
    mine = sale_table.c.channel_id == channel_id
    if scope is not None:
        mine = mine & sale_table.c.id.in_(scope)
    conn.execute(update(sale_table).where(mine, movable, waiting)
                 .values(state=SaleState.WAITING_MATCH.value))
    conn.execute(update(sale_table).where(mine, movable, ~waiting, placeholder_without_card)
                 .values(state=SaleState.GIFT_CARD_TO_ISSUE.value))
    conn.execute(update(sale_table).where(mine, movable, ~waiting, ~placeholder_without_card)
                 .values(state=SaleState.READY.value))


def _first_location(conn: Connection) -> int | None:
    return conn.execute(select(Location.id).order_by(Location.id).limit(1)).scalar()


def _sale_locations(conn: Connection, sale_ids) -> dict[int, int | None]:
    """Where each sale's units are: its own location, else its channel's, else the shop's first."""
    first_location = _first_location(conn)
    return {sale: location or first_location for sale, location in conn.execute(
        select(sale_table.c.id, func.coalesce(sale_table.c.location_id, SalesChannel.location_id))
        .join(SalesChannel, SalesChannel.id == sale_table.c.channel_id)
        .where(sale_table.c.id.in_(set(sale_ids))))}


def _move(conn: Connection, lines_query, new_state: LineStock, on_hand_sign: int, committed_sign: int) -> int:
    """Move the selected lines to `new_state` and apply their quantities to stock, once."""
    moved = conn.execute(
        update(line_table).where(line_table.c.id.in_(lines_query))
        .values(stock_state=new_state.value)
        .returning(line_table.c.product_id, line_table.c.quantity, line_table.c.sale_id)
    ).all()
    if not moved:
        return 0
    locations = _sale_locations(conn, (sale for _, _, sale in moved))
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for product, quantity, sale in moved:
        totals[(product, locations[sale])] += quantity
    if log.isEnabledFor(logging.INFO):
        _log_moves(conn, moved, new_state, locations)
    insert_ignoring_duplicates(conn, stock_table, [
        {"product_id": p, "location_id": loc, "on_hand": 0, "committed": 0, "version": 1, "updated_at": utcnow()}
        for p, loc in totals
    ], ["product_id", "location_id"])
    conn.execute(
        update(stock_table).where(stock_table.c.product_id == bindparam("p"), stock_table.c.location_id == bindparam("l"))
        .values(on_hand=stock_table.c.on_hand + bindparam("dh"), committed=stock_table.c.committed + bindparam("dc"),
                version=stock_table.c.version + 1),
        [{"p": p, "l": loc, "dh": on_hand_sign * q, "dc": committed_sign * q} for (p, loc), q in totals.items()],
    )
    return len(moved)


def _stock_lines(state: LineStock, sales):
    # Gift-card placeholders and non-inventory products (services, shipping) hold no units.
    holds_units = exists().where(Product.id == line_table.c.product_id, Product.non_inventory.is_(False),
                                 Product.gift_card_placeholder.is_(False))
    return select(line_table.c.id).where(line_table.c.stock_state == state.value, line_table.c.sale_id.in_(sales),
                                         holds_units)


def _to_commit(channel_id: int):
    """The sales whose lines take their units now: open and shipped from the shop."""
    return select(sale_table.c.id).where(
        sale_table.c.channel_id == channel_id, sale_table.c.fulfillment == Fulfillment.STORE.value, IS_OPEN,
        sale_table.c.state.in_([s.value for s in OPEN_FOR_STOCK]))


def _web_locations(conn: Connection, channel_id: int) -> list[tuple[int, ...]]:
    """The groups of shop locations whose availability the store was sent as one figure (a
    WooCommerce store selling several: their sum), as the export makes them."""
    from core.sync.export import stock_targets

    return [target.locations for target in stock_targets(conn, channel_id)]


def hold_back_orders(conn: Connection, channel_id: int, scope: list[int] | None = None) -> list[int]:
    """Hold back the lines that would take units a channel rule keeps from the web (held back for
    the shop floor, or a product sold in store only), ordered before the store heard of the rule.
    Those lines commit nothing until a manager accepts the sale (core.sales.accept_held_back); its
    other lines commit as usual. Availability is counted as the export counted it (the same
    locations), older orders first, each taking its share before the next is looked at.
    Returns the sales flagged now."""
    book = rule_book(conn, channel_id)
    if book.empty and not book.channel_buffer:
        return []
    sales = _to_commit(channel_id).where(sale_table.c.held_back_accepted_by.is_(None))
    if scope is not None:
        sales = sales.where(sale_table.c.id.in_(scope))
    lines = conn.execute(
        select(line_table.c.id, line_table.c.sale_id, line_table.c.product_id, line_table.c.quantity)
        .where(line_table.c.id.in_(_stock_lines(LineStock.NONE, sales)), line_table.c.held_back.is_(False))
        .order_by(line_table.c.sale_id, line_table.c.id)).all()
    if not lines:
        return []
    products = {row.id: row for row in conn.execute(select(Product.id, Product.sku, Product.brand, Product.category,
                                                           Product.price, Product.msrp, Product.map_price)
                                                    .where(Product.id.in_({line.product_id for line in lines})))}
    locations = _sale_locations(conn, (line.sale_id for line in lines))
    groups = _web_locations(conn, channel_id)
    wanted: dict[tuple[int, int], list] = defaultdict(list)  # one sale's lines of one product
    for line in lines:
        wanted[(line.sale_id, line.product_id)].append(line)
    taken: dict[tuple[int, tuple[int, ...]], int] = defaultdict(int)  # by earlier orders of this pass
    reasons: dict[int, list[str]] = defaultdict(list)
    held_lines: list[int] = []
    for (sale_id, product_id), its_lines in wanted.items():
        product, quantity = products[product_id], sum(line.quantity for line in its_lines)
        in_store_only, held, rule = book.held_back(facts(product))
        if in_store_only:
            reasons[sale_id].append(_("{sku} is sold in store only ({rule})").format(sku=product.sku, rule=rule))
            held_lines += [line.id for line in its_lines]
            continue
        if not held:
            continue
        location = locations[sale_id]
        group = next((group for group in groups if location in group), (location,))
        on_hand, committed = conn.execute(select(func.coalesce(func.sum(stock_table.c.on_hand), 0),
                                                 func.coalesce(func.sum(stock_table.c.committed), 0)).where(
            stock_table.c.product_id == product_id, stock_table.c.location_id.in_(group))).one()
        free = on_hand - committed - taken[(product_id, group)] - held
        if free < quantity:
            reasons[sale_id].append(
                _("{sku}: {quantity} ordered, {free} free for the web after {held} held back ({rule})").format(
                    sku=product.sku, quantity=quantity, free=max(free, 0), held=held, rule=rule))
            held_lines += [line.id for line in its_lines]
        else:
            taken[(product_id, group)] += quantity
    if held_lines:
        conn.execute(update(line_table).where(line_table.c.id.in_(held_lines)).values(held_back=True))
    for sale_id, why in reasons.items():
        before = conn.execute(select(sale_table.c.held_back_reason).where(sale_table.c.id == sale_id)).scalar()
        conn.execute(update(sale_table).where(sale_table.c.id == sale_id)
                     .values(held_back_reason="; ".join(([before] if before else []) + why),
                             version=sale_table.c.version + 1))
    if reasons and log.isEnabledFor(logging.INFO):
        for number, why in conn.execute(select(sale_table.c.order_number, sale_table.c.held_back_reason)
                                        .where(sale_table.c.id.in_(list(reasons)))):
            when_committed(conn, log, "order %s waits for a person: %s", number, why)
    return list(reasons)


def _commit_stock(conn: Connection, channel_id: int, scope: list[int] | None = None) -> int:
    sales = _to_commit(channel_id)
    if scope is not None:
        sales = sales.where(sale_table.c.id.in_(scope))
    return _move(conn, _stock_lines(LineStock.NONE, sales).where(line_table.c.held_back.is_(False)),
                 LineStock.COMMITTED, 0, +1)


def release_stock(conn: Connection, sales) -> int:
    return _move(conn, _stock_lines(LineStock.COMMITTED, sales), LineStock.RELEASED, 0, -1)


def release_lines(conn: Connection, lines) -> int:
    """Give back the committed units of the selected lines (a decision taken back): they are as
    if never committed, ready to commit again on whatever product they end up with."""
    committed = (select(line_table.c.id)
                 .where(line_table.c.id.in_(lines), line_table.c.stock_state == LineStock.COMMITTED.value))
    return _move(conn, committed, LineStock.NONE, 0, -1)


def sell_stock(conn: Connection, sale_id: int) -> int:
    sale = select(sale_table.c.id).where(sale_table.c.id == sale_id, sale_table.c.fulfillment == Fulfillment.STORE.value)
    sold = _move(conn, _stock_lines(LineStock.COMMITTED, sale), LineStock.SOLD, -1, -1)
    # Lines matched too late to be committed leave on-hand stock directly.
    return sold + _move(conn, _stock_lines(LineStock.NONE, sale), LineStock.SOLD, -1, 0)


def _log_moves(conn: Connection, moved, new_state: LineStock, locations: dict) -> None:
    skus = dict(conn.execute(select(Product.id, Product.sku).where(Product.id.in_({p for p, _, _ in moved}))).all())
    numbers = dict(conn.execute(select(sale_table.c.id, sale_table.c.order_number)
                                .where(sale_table.c.id.in_({s for _, _, s in moved}))).all())
    names = dict(conn.execute(select(Location.id, Location.name)).all())
    for product, quantity, sale in moved:
        when_committed(conn, log, "order %s: %d x %s %s at %s", numbers.get(sale), quantity, skus.get(product),
                       MOVED[new_state], names.get(locations[sale]))
