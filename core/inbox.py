"""What staff see (SPEC §16): the inbox's rows and status labels, paged from SQL, and one sale's
detail with the actions it allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, func, literal, select, tuple_

from core.i18n import _
from core.dbtypes import UTCDateTime
from core.models import (
    CLOSED_SALE_STATES,
    UNRESOLVED_MATCH_STATES,
    AuditEntry,
    GiftCard,
    LineStock,
    Location,
    Payment,
    PaymentType,
    PosCustomer,
    Product,
    ProductLink,
    SalesChannel,
    SaleState,
    Stock,
    WebListing,
    WebSale,
    WebSaleLine,
)
from core.pickup import ships
from core.sales import STATUS_LABELS, _sale
from core.shoptime import shown

sale_table, line_table, stock_table = WebSale.__table__, WebSaleLine.__table__, Stock.__table__




FILTERS = (None, SaleState.READY.value, SaleState.WAITING_MATCH.value, SaleState.GIFT_CARD_TO_ISSUE.value,
           SaleState.HELD.value, SaleState.CAPTURE_FAILED.value)


@dataclass(frozen=True)
class InboxRow:
    sale_id: int
    version: int
    order_number: str
    channel: str
    customer: str | None
    total: Decimal
    state: str
    shipping: Decimal
    held_until: datetime | None
    ordered_at: datetime
    held_back: bool = False  # a web-store rule keeps its units from the web: a manager decides

    @property
    def status(self) -> str:
        if self.held_back and self.state not in CLOSED_SALE_STATES:
            return _("held back: a manager decides")
        if self.state == SaleState.READY.value:
            return _("ready to ship") if self.shipping > 0 else _("ready for pickup")
        if self.state == SaleState.HELD.value and self.held_until:
            return _("held until {moment}").format(moment=shown(self.held_until, zone=True))
        if self.state == SaleState.HELD.value:
            return _("held: decide who ships")
        return _(STATUS_LABELS.get(self.state, self.state))

    @property
    def key(self) -> tuple:
        return (self.ordered_at, self.sale_id)


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    has_more: bool


def inbox(engine: Engine, *, status: str | None = None, channel_id: int | None = None, history: bool = False,
          after: tuple | None = None, limit: int = 50, search: str = "") -> InboxPage:
    """Open web sales, newest first (or, with `history`, completed and cancelled ones), a page at a
    time; with `search`, those found by it (core.search: order number, name, email, phone, barcode)."""
    from core.search import sale_condition

    conditions = [sale_table.c.state.in_(CLOSED_SALE_STATES) if history else sale_table.c.state.not_in(CLOSED_SALE_STATES)]
    found = sale_condition(search)
    if found is not None:
        conditions.append(found)
    if status:
        conditions.append(sale_table.c.state == status)
    if channel_id:
        conditions.append(sale_table.c.channel_id == channel_id)
    query = (select(sale_table.c.id, sale_table.c.version, sale_table.c.order_number, SalesChannel.name,
                    sale_table.c.customer_name, sale_table.c.total, sale_table.c.state, sale_table.c.shipping_charged,
                    sale_table.c.held_until, sale_table.c.ordered_at, sale_table.c.held_back_reason.is_not(None))
             .join(SalesChannel, SalesChannel.id == sale_table.c.channel_id)
             .where(*conditions)
             .order_by(sale_table.c.ordered_at.desc(), sale_table.c.id.desc()).limit(limit + 1))
    if after is not None:
        query = query.where(tuple_(sale_table.c.ordered_at, sale_table.c.id)
                            < tuple_(literal(after[0], UTCDateTime()), literal(after[1])))
    with engine.connect() as conn:
        rows = [InboxRow(*row) for row in conn.execute(query)]
        total = conn.execute(select(func.count()).select_from(sale_table).where(*conditions)).scalar_one()
    return InboxPage(rows[:limit], total, len(rows) > limit)


@dataclass(frozen=True)
class SaleLineView:
    id: int
    title: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal
    sku: str | None
    listing_id: int | None
    gift_card_placeholder: bool
    gift_card: str | None
    stock_state: str = LineStock.NONE.value
    listing_state: str | None = None  # the listing's match state, None when the line has no listing
    manual_link: bool = False  # a person linked this line's listing (so `u` can take it back)
    product_by_hand: bool = False  # a person chose this line's product on the sale (`u` takes it back)
    card_voided: bool = False  # its gift card was voided (all of it taken back by a refund or a cancel)

    @property
    def needs_product(self) -> bool:
        return self.sku is None

    @property
    def in_resolver(self) -> bool:
        """The line's listing waits in the match resolver; otherwise a product is chosen for the line itself."""
        return self.listing_state in {s.value for s in UNRESOLVED_MATCH_STATES}


@dataclass(frozen=True)
class SaleDetail:
    sale: object
    channel: str
    lines: list[SaleLineView]
    payments: list[tuple]
    pos_customer: str | None
    history: list[tuple]
    platform: str = ""
    wire_platform: str = ""  # the platform the store speaks (a demo store speaks Shopify's or WooCommerce's)
    location: str | None = None  # the shop location the sale takes its units from (a pickup: where it is collected)

    @property
    def captured_by_store(self) -> bool:
        """The store captures the payment when asked (Shopify); WooCommerce leaves it to its gateway."""
        return self.wire_platform != "woocommerce"

    @property
    def actions(self) -> tuple[str, ...]:
        """What staff can do with this sale now, by its state; the screen offers exactly these."""
        return sale_actions(self.sale.state, self.sale.shipping_charged, self.sale.fulfillment, self.lines,
                            self.sale.hold_reason, self.sale.held_back_reason)

    @property
    def row(self) -> InboxRow:
        s = self.sale
        return InboxRow(s.id, s.version, s.order_number, self.channel, s.customer_name, s.total, s.state,
                        s.shipping_charged, s.held_until, s.ordered_at, bool(s.held_back_reason))


FORWARD_ACTIONS = ("pickup", "ship", "gift_card", "match", "decide_supplier", "accept_held_back")


def sale_actions(state: str, shipping_charged: Decimal, fulfillment: str, lines: list[SaleLineView],
                 hold_reason: str | None = None, held_back: str | None = None) -> tuple[str, ...]:
    """The actions that apply to a sale in `state`. Every open sale has one that moves it forward
    (`FORWARD_ACTIONS`), except one held for the supplier, which its release time moves forward by
    itself; one held for a person's decision offers that decision."""
    if state in (SaleState.COMPLETED.value, SaleState.CANCELLED.value):
        return ()
    actions = []
    if state == SaleState.HELD.value and hold_reason:
        actions.append("decide_supplier")
    if held_back:  # units a web-store rule keeps from the web: a manager lets them go first
        actions.append("accept_held_back")
    elif state in (SaleState.READY.value, SaleState.CAPTURE_FAILED.value):
        actions.append("ship" if ships(shipping_charged, fulfillment) else "pickup")
    if state == SaleState.GIFT_CARD_TO_ISSUE.value:
        actions.append("gift_card")
    if any(line.needs_product for line in lines):
        actions.append("match")
    if state != SaleState.HELD.value and any(line.sku and not line.gift_card for line in lines):
        actions.append("repick")  # a line's product, chosen wrong, chosen again
    if any((line.manual_link and line.listing_id or line.product_by_hand) and line.stock_state != LineStock.SOLD.value
           for line in lines):
        actions.append("undo_match")
    actions += ["customer", "cancel"]
    return tuple(actions)


def sale_detail(engine: Engine, sale_id: int) -> SaleDetail:
    with engine.connect() as conn:
        sale = _sale(conn, sale_id)
        channel, platform, settings_json = conn.execute(
            select(SalesChannel.name, SalesChannel.platform, SalesChannel.settings_json)
            .where(SalesChannel.id == sale.channel_id)).one()
        lines = [SaleLineView(*row[:-3], manual_link=bool(row[-3]), product_by_hand=bool(row[-2]),
                              card_voided=row[-1] is not None) for row in conn.execute(
            select(line_table.c.id, line_table.c.title, line_table.c.quantity, line_table.c.unit_price,
                   line_table.c.tax_rate, Product.sku, line_table.c.listing_id,
                   func.coalesce(Product.gift_card_placeholder, False), GiftCard.number, line_table.c.stock_state,
                   WebListing.match_state, ProductLink.manual, line_table.c.product_by_hand, GiftCard.voided_at)
            .outerjoin(Product, Product.id == line_table.c.product_id)
            .outerjoin(GiftCard, GiftCard.sale_line_id == line_table.c.id)
            .outerjoin(WebListing, WebListing.id == line_table.c.listing_id)
            .outerjoin(ProductLink, ProductLink.listing_id == line_table.c.listing_id)
            .where(line_table.c.sale_id == sale_id).order_by(line_table.c.id))]
        payments = [tuple(row) for row in conn.execute(
            select(PaymentType.name, PaymentType.account, Payment.amount, Payment.reference, Payment.captured_elsewhere)
            .join(PaymentType, PaymentType.id == Payment.payment_type_id).where(Payment.sale_id == sale_id))]
        pos_customer = conn.execute(select(PosCustomer.name).where(PosCustomer.id == sale.pos_customer_id)).scalar() \
            if sale.pos_customer_id else None
        history = [tuple(row) for row in conn.execute(
            select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.new_value, AuditEntry.approved_by)
            .where(AuditEntry.entity == "websale", AuditEntry.entity_id == str(sale_id)).order_by(AuditEntry.id))]
        location = conn.execute(select(Location.name).where(Location.id == sale.location_id)).scalar() \
            if sale.location_id else None
    from core.config import ChannelConfig

    return SaleDetail(sale, channel, lines, payments, pos_customer, history, platform,
                      ChannelConfig.from_stored(settings_json).wire_platform, location)
