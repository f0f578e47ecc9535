"""Web orders as web sales. Storing the same order again never doubles it: a sale is keyed by
(channel, order id) and a line by (sale, line id), inserted with ON CONFLICT DO NOTHING, so even
two concurrent syncs cannot duplicate one. Matching the new lines and settling the sales (holds,
states, stock) are the next stages; the runner calls them in the same transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from core.connectors.base import WebOrder
from core.customers import link_known_customers
from core.db import insert_ignoring_duplicates
from core.dbtypes import utcnow
from core.gift_cards import void_cards_cancelled_on_the_web
from core.identifiers import parse_barcode, part_number_key
from core.logs import when_committed
from core.models import SalesChannel, SaleState, WebListing, WebSale, WebSaleLine
from core.search import index_sales
from core.supplier import hold_fields

sale_table, line_table = WebSale.__table__, WebSaleLine.__table__
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrdersReport:
    new: int
    updated: int
    sale_ids: tuple[int, ...] = ()  # every sale of the page, new or read again


def store_orders(conn: Connection, channel_id: int, orders: list[WebOrder],
                 now: datetime | None = None) -> OrdersReport:
    """Store a page of orders in the caller's transaction. `now` decides which holds have already
    fallen due (the sync passes its own clock, tests a fixed one)."""
    if not orders:
        return OrdersReport(0, 0)
    ids = [order.external_id for order in orders]
    known = dict(conn.execute(select(sale_table.c.external_id, sale_table.c.id).where(
        sale_table.c.channel_id == channel_id, sale_table.c.external_id.in_(ids))).all())
    now = now or utcnow()
    insert_ignoring_duplicates(conn, sale_table, [{
        "channel_id": channel_id, "external_id": o.external_id, "order_number": o.order_number,
        "state": SaleState.CANCELLED.value if o.cancelled else SaleState.WAITING_MATCH.value,
        "remote_status": o.status[:50], "held_until": None, "hold_reason": None,
        **hold_fields(conn, channel_id, o.supplier_fulfilled, o.shipped_at, o.ordered_at, now, o.pickup_location, o.lines),
        "shipped_at": o.shipped_at, "customer_name": o.customer_name, "customer_email": o.customer_email,
        "customer_phone": o.customer_phone, "billing_address": o.billing_address,
        "shipping_address": o.shipping_address, "currency": o.currency[:3], "subtotal": o.subtotal,
        "shipping_charged": o.shipping, "shipping_tax": o.shipping_tax, "tax_total": o.tax_total, "total": o.total,
        "authorized_amount": o.total, "ordered_at": o.ordered_at, "remote_updated_at": o.updated_at,
        "imported_at": now, "version": 1,
    } for o in orders if o.external_id not in known], ["channel_id", "external_id"])
    updated = 0  # orders read again unchanged (pages overlap by design) are not counted
    for o in orders:
        if o.external_id in known:
            values = {"remote_status": o.status[:50], "remote_updated_at": o.updated_at, "version": sale_table.c.version + 1}
            changed = (sale_table.c.id == known[o.external_id]) & sale_table.c.remote_updated_at.is_distinct_from(o.updated_at)
            updated += conn.execute(update(sale_table).where(changed).values(values)).rowcount
            if o.cancelled:
                # Cancelled on the web before the shop completed it: settle_sales releases its stock,
                # and a gift card it issued is taken back (the payment it stood on is gone).
                cancelled = conn.execute(update(sale_table).where(
                    sale_table.c.id == known[o.external_id], sale_table.c.state.not_in(
                        [SaleState.COMPLETED.value, SaleState.CANCELLED.value])).values(state=SaleState.CANCELLED.value))
                if cancelled.rowcount:
                    void_cards_cancelled_on_the_web(conn, known[o.external_id])
    sale_ids = dict(conn.execute(select(sale_table.c.external_id, sale_table.c.id).where(
        sale_table.c.channel_id == channel_id, sale_table.c.external_id.in_(ids))).all())
    listing_ids = dict(conn.execute(select(WebListing.external_id, WebListing.id).where(
        WebListing.channel_id == channel_id,
        WebListing.external_id.in_({l.listing_external_id for o in orders for l in o.lines if l.listing_external_id}),
    )).all())
    lines = []
    for o in orders:
        for line in o.lines:
            barcode = parse_barcode(line.barcode)
            lines.append({
                "sale_id": sale_ids[o.external_id], "external_id": line.external_id,
                "listing_id": listing_ids.get(line.listing_external_id), "product_code": line.product_code,
                "barcode_raw": barcode.raw if barcode else None, "gtin14": barcode.gtin14 if barcode else None,
                "part_number": line.part_number, "part_number_key": part_number_key(line.part_number),
                "title": (line.title or "")[:255], "quantity": line.quantity, "unit_price": line.unit_price,
                "discount": line.discount, "tax_rate": line.tax_rate, "tax_amount": line.tax_amount,
                "stock_state": "none",
            })
    insert_ignoring_duplicates(conn, line_table, lines, ["sale_id", "external_id"])
    new_sales = [sale_ids[o.external_id] for o in orders if o.external_id not in known and o.external_id in sale_ids]
    if new_sales and log.isEnabledFor(logging.INFO):
        _log_new(conn, channel_id, new_sales)
    link_known_customers(conn, new_sales)
    index_sales(conn, new_sales)
    return OrdersReport(new=len([o for o in orders if o.external_id not in known]), updated=updated,
                        sale_ids=tuple(sale_ids.values()))




def _log_new(conn: Connection, channel_id: int, sale_ids: list[int]) -> None:
    channel = conn.execute(select(SalesChannel.name).where(SalesChannel.id == channel_id)).scalar()
    for number, state, held_until, reason, lines in conn.execute(
            select(sale_table.c.order_number, sale_table.c.state, sale_table.c.held_until, sale_table.c.hold_reason,
                   select(func.count()).where(line_table.c.sale_id == sale_table.c.id).scalar_subquery())
            .where(sale_table.c.id.in_(sale_ids)).order_by(sale_table.c.id)):
        when_committed(conn, log, "order %s imported from %s: %d line(s), %s", number, channel, lines, state)
        if state == SaleState.HELD.value:
            when_committed(conn, log, "order %s held %s", number,
                           f"until {held_until:%Y-%m-%d %H:%M} UTC (supplier-shipped)" if held_until
                           else f"for a person: {reason}")
