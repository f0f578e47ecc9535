"""Web sales after import: holds, stock, gift cards, customers, pickup and payment (SPEC §2, §4-5,
§7-9, §12-13, §16). Stock moves are transitions of each line's `stock_state`, made with a
conditional UPDATE ... RETURNING, so each movement happens exactly once whatever the order and
number of imports, and two terminals cannot apply it twice."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, literal, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from core.audit import Actor
from core.audit import record as audit
from core.connectors.base import ConnectorError
from core.db import insert_ignoring_duplicates
from core.dbtypes import UTCDateTime, utcnow
from core.holds import release_time
from core.shoptime import shown
from core.shoptime import today as shoptime_today
from core.models import (
    CLOSED_SALE_STATES, UNRESOLVED_MATCH_STATES, AuditEntry, ChannelLocation, ProductLink, WebListing, Fulfillment, GiftCard, LineStock, Location, Payment, PaymentType, PosCustomer,
    Product, SalesChannel, SaleState, Stock, SupplierDocument, WebSale, WebSaleLine,
)

sale_table, line_table, stock_table = WebSale.__table__, WebSaleLine.__table__, Stock.__table__
DOCUMENTS = {
    "internet_addendum": "the brand's Internet addendum",
    "packing_slip_form": "the custom packing-slip information form",
    "retailer_contract": "a current retailer contract",
}
OPEN_FOR_STOCK = (SaleState.WAITING_MATCH, SaleState.READY, SaleState.GIFT_CARD_TO_ISSUE, SaleState.CAPTURE_FAILED)


class SaleError(Exception):
    """The action was refused; the message is for staff."""


# --- after every import ---------------------------------------------------------------------------

def settle_sales(conn: Connection, channel_id: int, now: datetime | None = None,
                 sale_ids: list[int] | None = None) -> None:
    """Bring a channel's open sales up to date: holds released when due, lines matched, states,
    stock committed for store-fulfilled lines, released for cancelled sales. With `sale_ids`
    (an import page), only those sales and the holds released now are looked at."""
    from core.matching import match_sale_lines

    now = now or utcnow()
    released = [row for row, in conn.execute(
        update(sale_table).where(sale_table.c.channel_id == channel_id, sale_table.c.state == SaleState.HELD.value,
                                 sale_table.c.held_until <= now)
        .values(state=SaleState.WAITING_MATCH.value).returning(sale_table.c.id))]
    match_sale_lines(conn, channel_id)
    scope = None if sale_ids is None else [*sale_ids, *released]
    _refresh_states(conn, channel_id, scope)
    _commit_stock(conn, channel_id, scope)
    cancelled = select(sale_table.c.id).where(sale_table.c.channel_id == channel_id,
                                              sale_table.c.state == SaleState.CANCELLED.value)
    if scope is not None:
        cancelled = cancelled.where(sale_table.c.id.in_(scope))
    _release_stock(conn, cancelled)


def _refresh_states(conn: Connection, channel_id: int, scope: list[int] | None = None) -> None:
    waiting = select(line_table.c.sale_id).where(line_table.c.product_id.is_(None))
    placeholder_without_card = (
        select(line_table.c.sale_id)
        .join(Product.__table__, Product.id == line_table.c.product_id)
        .outerjoin(GiftCard.__table__, GiftCard.sale_line_id == line_table.c.id)
        .where(Product.gift_card_placeholder.is_(True), GiftCard.id.is_(None))
    )
    movable = sale_table.c.state.in_([SaleState.WAITING_MATCH.value, SaleState.READY.value,
                                      SaleState.GIFT_CARD_TO_ISSUE.value])
    mine = sale_table.c.channel_id == channel_id
    if scope is not None:
        mine = mine & sale_table.c.id.in_(scope)
        waiting = waiting.where(line_table.c.sale_id.in_(scope))
        placeholder_without_card = placeholder_without_card.where(line_table.c.sale_id.in_(scope))
    conn.execute(update(sale_table).where(mine, movable, sale_table.c.id.in_(waiting))
                 .values(state=SaleState.WAITING_MATCH.value))
    conn.execute(update(sale_table).where(mine, movable, sale_table.c.id.not_in(waiting),
                                          sale_table.c.id.in_(placeholder_without_card))
                 .values(state=SaleState.GIFT_CARD_TO_ISSUE.value))
    conn.execute(update(sale_table).where(mine, movable, sale_table.c.id.not_in(waiting),
                                          sale_table.c.id.not_in(placeholder_without_card))
                 .values(state=SaleState.READY.value))


def _first_location(conn: Connection) -> int | None:
    return conn.execute(select(Location.id).order_by(Location.id).limit(1)).scalar()


def _move(conn: Connection, lines_query, new_state: LineStock, on_hand_sign: int, committed_sign: int) -> int:
    """Move the selected lines to `new_state` and apply their quantities to stock, once."""
    moved = conn.execute(
        update(line_table).where(line_table.c.id.in_(lines_query))
        .values(stock_state=new_state.value)
        .returning(line_table.c.product_id, line_table.c.quantity, line_table.c.sale_id)
    ).all()
    if not moved:
        return 0
    # Each sale's stock is at its own location, else its channel's, else the shop's first one.
    first_location = _first_location(conn)
    locations = dict(conn.execute(
        select(sale_table.c.id, func.coalesce(sale_table.c.location_id, SalesChannel.location_id))
        .join(SalesChannel, SalesChannel.id == sale_table.c.channel_id)
        .where(sale_table.c.id.in_({sale for _, _, sale in moved}))
    ).all())
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for product, quantity, sale in moved:
        totals[(product, locations.get(sale) or first_location)] += quantity
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
    return (select(line_table.c.id)
            .join(Product.__table__, Product.id == line_table.c.product_id)
            .where(line_table.c.stock_state == state.value, Product.non_inventory.is_(False),
                   Product.gift_card_placeholder.is_(False), line_table.c.sale_id.in_(sales)))


def _commit_stock(conn: Connection, channel_id: int, scope: list[int] | None = None) -> int:
    sales = select(sale_table.c.id).where(
        sale_table.c.channel_id == channel_id, sale_table.c.fulfillment == Fulfillment.STORE.value,
        sale_table.c.state.in_([s.value for s in OPEN_FOR_STOCK]))
    if scope is not None:
        sales = sales.where(sale_table.c.id.in_(scope))
    return _move(conn, _stock_lines(LineStock.NONE, sales), LineStock.COMMITTED, 0, +1)


def _release_stock(conn: Connection, sales) -> int:
    return _move(conn, _stock_lines(LineStock.COMMITTED, sales), LineStock.RELEASED, 0, -1)


def release_lines(conn: Connection, lines) -> int:
    """Give back the committed units of the selected lines (a decision taken back): they are as
    if never committed, ready to commit again on whatever product they end up with."""
    committed = (select(line_table.c.id)
                 .where(line_table.c.id.in_(lines), line_table.c.stock_state == LineStock.COMMITTED.value))
    return _move(conn, committed, LineStock.NONE, 0, -1)


def _sell_stock(conn: Connection, sale_id: int) -> int:
    sale = select(sale_table.c.id).where(sale_table.c.id == sale_id, sale_table.c.fulfillment == Fulfillment.STORE.value)
    sold = _move(conn, _stock_lines(LineStock.COMMITTED, sale), LineStock.SOLD, -1, -1)
    # Lines matched too late to be committed leave on-hand stock directly.
    return sold + _move(conn, _stock_lines(LineStock.NONE, sale), LineStock.SOLD, -1, 0)


def supplier_problems(conn: Connection, channel_id: int, on: date, brands: set[str] | None = None) -> list[str]:
    """Why the channel may not treat an order as supplier-shipped on day `on`; empty when it may:
    supplier fulfilment switched on, and the three signed documents on file and current.

    Documents are the web store's, for every brand it sells, or one brand's when the store has
    several suppliers. With `brands` (those of an order's products; "" when unknown), each brand
    needs all three, its own or the web store's; without, one complete set is enough."""
    channel = conn.execute(select(SalesChannel.supplier_fulfillment).where(SalesChannel.id == channel_id)).one()
    problems = [] if channel.supplier_fulfillment else ["supplier fulfilment is off for this web store"]
    documents = {(row.brand.casefold(), row.kind): row for row in conn.execute(
        select(SupplierDocument.brand, SupplierDocument.kind, SupplierDocument.ends_on)
        .where(SupplierDocument.channel_id == channel_id))}

    def gaps(brand: str) -> list[str]:
        found = []
        for kind, name in DOCUMENTS.items():
            row = documents.get((brand.casefold(), kind)) or documents.get(("", kind))
            if row is None:
                found.append(f"{name} is not on file" + (f" for {brand}" if brand else ""))
            elif row.ends_on is not None and row.ends_on < on:
                found.append(f"{name}{' for ' + row.brand if row.brand else ''} ended on {row.ends_on.isoformat()}")
        return found

    if brands is None:
        sets = [""] + sorted({row.brand for row in documents.values() if row.brand})
        if not any(not gaps(brand) for brand in sets):
            problems += gaps("")
        return problems
    for brand in sorted(brands):
        problems += [gap for gap in gaps(brand) if gap not in problems]
    return problems


def _order_brands(conn: Connection, channel_id: int, lines: list) -> set[str]:
    """The brands of the shop products an order's lines are (by the listing's link, else by SKU);
    "" for a line whose product, or its brand, is not known yet."""
    by_listing = dict(conn.execute(
        select(WebListing.external_id, Product.brand)
        .join(ProductLink, ProductLink.listing_id == WebListing.id).join(Product, Product.id == ProductLink.product_id)
        .where(WebListing.channel_id == channel_id,
               WebListing.external_id.in_([line.listing_external_id for line in lines if line.listing_external_id])))
        .all())
    by_code = dict(conn.execute(select(func.lower(Product.sku), Product.brand).where(
        func.lower(Product.sku).in_([line.product_code.lower() for line in lines if line.product_code]))).all())
    return {by_listing.get(line.listing_external_id) or by_code.get((line.product_code or "").lower()) or ""
            for line in lines} or {""}


def _sale_brands(conn: Connection, sale_id: int) -> set[str]:
    return {brand or "" for brand in conn.execute(
        select(Product.brand).select_from(line_table).outerjoin(Product, Product.id == line_table.c.product_id)
        .where(line_table.c.sale_id == sale_id)).scalars()} or {""}


def pickup_shop(conn: Connection, channel_id: int, store_location: str | None) -> int | None:
    """The shop location a pickup order is collected at: the one the channel maps to the store
    location the customer chose (None: not a pickup, or a store location the channel does not sell,
    which then goes to the channel's primary location)."""
    if not store_location:
        return None
    return conn.execute(select(ChannelLocation.location_id).where(
        ChannelLocation.channel_id == channel_id, ChannelLocation.store_location == store_location)).scalar()


def hold_fields(conn: Connection, channel_id: int, supplier: bool, shipped_at: datetime | None,
                ordered_at: datetime, now: datetime, pickup_location: str | None = None,
                lines: list | None = None) -> dict:
    """How a new order is recorded: supplier-shipped orders wait for their release time (and are
    routed to the channel's supplier location when it has one); store orders go to the channel's.

    An order tagged supplier-shipped that the channel may not treat so (fulfilment off, a document
    missing or lapsed) is neither: it is held for a person, with the reason, and commits nothing —
    the shop's own units are never taken for an order the supplier may be shipping."""
    channel = conn.execute(select(SalesChannel.supplier_fulfillment, SalesChannel.supplier_location_id,
                                  SalesChannel.location_id, SalesChannel.settings_json)
                           .where(SalesChannel.id == channel_id)).one()
    if not supplier:
        return {"fulfillment": Fulfillment.STORE.value,
                "location_id": pickup_shop(conn, channel_id, pickup_location) or channel.location_id}
    problems = supplier_problems(conn, channel_id, ordered_at.date(), _order_brands(conn, channel_id, lines or []))
    if problems:
        return {"fulfillment": Fulfillment.SUPPLIER.value, "state": SaleState.HELD.value, "held_until": None,
                "location_id": channel.supplier_location_id or channel.location_id,
                "hold_reason": "tagged supplier-shipped, but " + "; ".join(problems)}
    country = json.loads(channel.settings_json or "{}").get("holiday_country", "US")
    until = release_time(shipped_at or ordered_at, country)
    fields = {"fulfillment": Fulfillment.SUPPLIER.value, "held_until": until,
              "location_id": channel.supplier_location_id or channel.location_id}
    if now < until:
        fields["state"] = SaleState.HELD.value
    return fields


def decide_supplier_hold(engine: Engine, sale_id: int, actor: Actor, seen_version: int, *, shop_ships: bool,
                         now: datetime | None = None) -> str:
    """A person decides a sale held because of its supplier-shipped tag: the shop ships it from its
    own stock (it becomes a store order and commits its units), or the supplier does (allowed only
    once the web store may use supplier fulfilment; it then waits for its release time)."""
    now = now or utcnow()
    with engine.begin() as conn:
        sale = _sale(conn, sale_id)
        if sale.state != SaleState.HELD.value or not sale.hold_reason:
            raise SaleError("this sale is not waiting for that decision")
        if shop_ships:
            values = {"fulfillment": Fulfillment.STORE.value, "state": SaleState.WAITING_MATCH.value,
                      "held_until": None, "hold_reason": None}
            message = "The shop ships this sale from its own stock; its units are now committed."
        else:
            problems = supplier_problems(conn, sale.channel_id, now.date(), _sale_brands(conn, sale_id))
            if problems:
                raise SaleError("the supplier cannot ship it yet: " + "; ".join(problems))
            country = json.loads(conn.execute(select(SalesChannel.settings_json).where(
                SalesChannel.id == sale.channel_id)).scalar() or "{}").get("holiday_country", "US")
            until = release_time(sale.shipped_at or sale.ordered_at, country)
            values = {"held_until": until, "hold_reason": None,
                      "state": SaleState.HELD.value if now < until else SaleState.WAITING_MATCH.value}
            message = f"The supplier ships this sale; it can be downloaded from {shown(until, '%a %d %b %H:%M', zone=True)}."
        _claim(conn, sale_id, seen_version, **values)
        audit(conn, actor, "supplier_hold_decided", "websale", sale_id, "fulfillment", sale.fulfillment,
              values.get("fulfillment", sale.fulfillment), sale.hold_reason)
        settle_sales(conn, sale.channel_id, now, sale_ids=[sale_id])
    return message


# --- supplier fulfillment -----------------------------------------------------------------------

def record_supplier_document(engine: Engine, channel_id: int, kind: str, signed_on: date, actor: Actor,
                             ends_on: date | None = None, reference: str | None = None,
                             brand: str | None = None) -> None:
    """Record (or replace) one signed document, for every brand the web store sells or for one."""
    if kind not in DOCUMENTS:
        raise SaleError(f"unknown document {kind!r} (one of: {', '.join(DOCUMENTS)})")
    if ends_on is not None and ends_on < signed_on:
        raise SaleError("a document cannot end before it was signed")
    brand = " ".join((brand or "").split())[:100]
    values = {"signed_on": signed_on, "ends_on": ends_on, "reference": (reference or "").strip()[:500] or None,
              "recorded_by": str(actor), "recorded_at": utcnow()}
    with engine.begin() as conn:
        table = SupplierDocument.__table__
        # A brand keeps the spelling it was first recorded with: "TREK" later is the same brand.
        brand = conn.execute(select(table.c.brand).where(
            table.c.channel_id == channel_id, func.lower(table.c.brand) == brand.lower())).scalar() or brand
        if not conn.execute(update(table).where(table.c.channel_id == channel_id, table.c.brand == brand,
                                                table.c.kind == kind).values(values)).rowcount:
            conn.execute(insert(table).values(channel_id=channel_id, brand=brand, kind=kind, **values))
        audit(conn, actor, "supplier_document", "saleschannel", channel_id, kind + (f" ({brand})" if brand else ""),
              None, signed_on.isoformat() + (f" to {ends_on.isoformat()}" if ends_on else ""))


def enable_supplier_fulfillment(engine: Engine, channel_id: int, actor: Actor, route_to: int | None = None,
                                today: date | None = None) -> None:
    """Switch supplier fulfillment on; refused until the three signed documents are on file and current."""
    with engine.begin() as conn:
        missing = [p for p in supplier_problems(conn, channel_id, today or shoptime_today())
                   if p != "supplier fulfilment is off for this web store"]
        if missing:
            raise SaleError("supplier fulfillment needs the signed documents on file and current first: "
                            + "; ".join(missing))
        conn.execute(update(SalesChannel.__table__).where(SalesChannel.id == channel_id).values(
            supplier_fulfillment=True, supplier_location_id=route_to, version=SalesChannel.version + 1))
        audit(conn, actor, "supplier_fulfillment", "saleschannel", channel_id, "supplier_fulfillment", "off", "on")


@dataclass(frozen=True)
class DocumentOnFile:
    kind: str
    name: str
    state: str  # "current", "ended" or "missing"
    signed_on: date | None = None
    ends_on: date | None = None
    reference: str | None = None
    recorded_by: str | None = None


@dataclass(frozen=True)
class DocumentSet:
    """The three documents for every brand a web store sells (brand "") or for one brand."""

    brand: str
    documents: list[DocumentOnFile]

    @property
    def ready(self) -> bool:
        return all(document.state == "current" for document in self.documents)


@dataclass(frozen=True)
class SupplierSetup:
    """One web store's supplier fulfilment as staff see it: on or off, where supplier orders go,
    and its signed documents, the web store's own set first, then each brand's."""

    channel_id: int
    channel: str
    on: bool
    receiving_location: str | None
    sets: list[DocumentSet]

    @property
    def ready(self) -> bool:
        return any(document_set.ready for document_set in self.sets)


def supplier_setup(engine: Engine, today: date | None = None) -> list[SupplierSetup]:
    today = today or shoptime_today()
    receiving = func.coalesce(SalesChannel.supplier_location_id, SalesChannel.location_id)
    with engine.connect() as conn:
        channels = conn.execute(
            select(SalesChannel.id, SalesChannel.name, SalesChannel.supplier_fulfillment, Location.name.label("place"))
            .outerjoin(Location, Location.id == receiving)
            .where(SalesChannel.active.is_(True)).order_by(SalesChannel.id)).all()
        on_file = {(row.channel_id, row.brand, row.kind): row for row in conn.execute(select(SupplierDocument))}
    setups = []
    for channel in channels:
        brands = [""] + sorted({brand for channel_id, brand, _ in on_file if channel_id == channel.id and brand},
                               key=str.casefold)
        sets = []
        for brand in brands:
            documents = []
            for kind, name in DOCUMENTS.items():
                row = on_file.get((channel.id, brand, kind))
                if row is None:
                    documents.append(DocumentOnFile(kind, name, "missing"))
                    continue
                state = "ended" if row.ends_on is not None and row.ends_on < today else "current"
                documents.append(DocumentOnFile(kind, name, state, row.signed_on, row.ends_on, row.reference,
                                                row.recorded_by))
            sets.append(DocumentSet(brand, documents))
        setups.append(SupplierSetup(channel.id, channel.name, channel.supplier_fulfillment, channel.place, sets))
    return setups


def disable_supplier_fulfillment(engine: Engine, channel_id: int, actor: Actor) -> None:
    """Switch supplier fulfillment off: from now on an order tagged supplier-shipped waits for a person."""
    with engine.begin() as conn:
        conn.execute(update(SalesChannel.__table__).where(SalesChannel.id == channel_id).values(
            supplier_fulfillment=False, version=SalesChannel.version + 1))
        audit(conn, actor, "supplier_fulfillment", "saleschannel", channel_id, "supplier_fulfillment", "on", "off")


def switch_supplier_fulfillment(engine: Engine, channel_id: int, actor: Actor, on: bool,
                                location: str | None = None) -> str:
    """The console's switch: on (with the location, by name, that receives supplier-shipped orders)
    or off. Returns what happened, in words."""
    from core.locations import UnknownLocationError, resolve_location

    if not on:
        disable_supplier_fulfillment(engine, channel_id, actor)
        return "Supplier fulfilment is off: orders tagged supplier-shipped now wait for a person."
    route_to = None
    if location:
        with engine.connect() as conn:
            try:
                route_to = resolve_location(conn, location)
            except UnknownLocationError as exc:
                raise SaleError(str(exc)) from None
    enable_supplier_fulfillment(engine, channel_id, actor, route_to)
    return "Supplier fulfilment is on" + (f": supplier-shipped orders go to {location}." if location else ".")


# --- staff actions ---------------------------------------------------------------------------------

def _sale(conn: Connection, sale_id: int):
    sale = conn.execute(select(sale_table).where(sale_table.c.id == sale_id)).first()
    if sale is None:
        raise SaleError("that sale no longer exists")
    return sale


def _claim(conn: Connection, sale_id: int, seen_version: int, **values) -> None:
    claimed = conn.execute(update(sale_table).where(sale_table.c.id == sale_id, sale_table.c.version == seen_version)
                           .values(version=sale_table.c.version + 1, **values)).rowcount
    if claimed != 1:
        raise SaleError("someone else changed this sale a moment ago; look at it again")


def ships(shipping_charged: Decimal, fulfillment: str) -> bool:
    """Whether a sale travels to the customer (shipping was charged, or the supplier ships it)
    rather than being picked up at the counter, where the card and holder are checked."""
    return shipping_charged > 0 or fulfillment == Fulfillment.SUPPLIER.value


@dataclass(frozen=True)
class PickupChecks:
    card_matches: bool = False
    signature: bool = False
    photo_id: bool = False

    @property
    def missing(self) -> list[str]:
        names = {"card_matches": "the card matches the order", "signature": "the holder signed",
                 "photo_id": "government photo ID seen"}
        return [text for name, text in names.items() if not getattr(self, name)]


def complete_sale(engine: Engine, sale_id: int, actor: Actor, seen_version: int, *, connector=None,
                  checks: PickupChecks | None = None, pickup: bool = True) -> str:
    """Capture the authorised payment and complete the sale; a refused capture leaves it open
    with the reason. Returns a sentence for staff."""
    with engine.connect() as conn:
        sale = _sale(conn, sale_id)
    if sale.version != seen_version:
        raise SaleError("someone else changed this sale a moment ago; look at it again")
    if sale.state not in (SaleState.READY.value, SaleState.CAPTURE_FAILED.value):
        reasons = {SaleState.WAITING_MATCH.value: "some lines still need a match",
                   SaleState.GIFT_CARD_TO_ISSUE.value: "a gift card is still to issue",
                   SaleState.HELD.value: "it is held for the supplier",
                   SaleState.COMPLETED.value: "it is already completed", SaleState.CANCELLED.value: "it was cancelled"}
        raise SaleError(f"this sale cannot be completed: {reasons.get(sale.state, sale.state)}")
    if pickup and ships(sale.shipping_charged, sale.fulfillment):
        raise SaleError("this sale is shipped to the customer, not picked up: mark it shipped")
    if not pickup and not ships(sale.shipping_charged, sale.fulfillment):
        raise SaleError("the customer picks this sale up: complete it with the pickup checks")
    if pickup:
        missing = (checks or PickupChecks()).missing
        if missing:
            raise SaleError("confirm the pickup checks first: " + "; ".join(missing))
    reference, elsewhere = None, connector is None
    if connector is not None:
        try:
            reference = connector.capture(sale.external_id, sale.authorized_amount)
            elsewhere = reference is None
        except ConnectorError as exc:
            with engine.begin() as conn:
                _claim(conn, sale_id, seen_version, state=SaleState.CAPTURE_FAILED.value, capture_error=str(exc))
                audit(conn, actor, "capture_failed", "websale", sale_id, "state", sale.state, "capture_failed", str(exc))
            raise SaleError(f"the payment could not be captured: {exc}") from None
    with engine.begin() as conn:
        online = conn.execute(select(PaymentType.id).where(PaymentType.online.is_(True), PaymentType.active.is_(True),
                                                          PaymentType.card_present.is_(False))
                              .order_by(PaymentType.id).limit(1)).scalar()
        if online is None:
            raise SaleError("no online payment type is set up; add one in the payment settings")
        _claim(conn, sale_id, seen_version, state=SaleState.COMPLETED.value, completed_at=utcnow(),
               completed_by=str(actor), captured_amount=sale.authorized_amount, capture_error=None,
               payment_type_id=online)
        conn.execute(insert(Payment.__table__).values(
            sale_id=sale_id, payment_type_id=online, amount=sale.authorized_amount, reference=reference,
            captured_elsewhere=elsewhere, received_at=utcnow(), received_by=str(actor)))
        _sell_stock(conn, sale_id)
        note = "pickup checks confirmed" if pickup else "shipped"
        audit(conn, actor, "complete", "websale", sale_id, "state", sale.state, "completed", note)
    how = "captured" if not elsewhere else "recorded as captured elsewhere"
    return f"Sale {sale.order_number} completed; {sale.authorized_amount:,.2f} {how}."


def cancel_sale(engine: Engine, sale_id: int, actor: Actor, seen_version: int) -> None:
    with engine.begin() as conn:
        sale = _sale(conn, sale_id)
        if sale.state in (SaleState.COMPLETED.value, SaleState.CANCELLED.value):
            raise SaleError(f"this sale is already {sale.state}")
        _claim(conn, sale_id, seen_version, state=SaleState.CANCELLED.value)
        _release_stock(conn, select(sale_table.c.id).where(sale_table.c.id == sale_id))
        audit(conn, actor, "cancel", "websale", sale_id, "state", sale.state, "cancelled")


def issue_gift_card(engine: Engine, line_id: int, number: str, actor: Actor) -> Decimal:
    """Replace a gift-card placeholder line with a real card: its number, and the line's amount."""
    number = number.strip()
    if not number or len(number) > 40:
        raise SaleError("a gift card number is 1 to 40 characters")
    with engine.begin() as conn:
        line = conn.execute(select(line_table.c.sale_id, line_table.c.unit_price, line_table.c.quantity,
                                   Product.gift_card_placeholder, WebSale.channel_id)
                            .join(Product, Product.id == line_table.c.product_id)
                            .join(WebSale, WebSale.id == line_table.c.sale_id)
                            .where(line_table.c.id == line_id)).first()
        if line is None or not line.gift_card_placeholder:
            raise SaleError("that line is not a gift card")
        amount = line.unit_price * line.quantity
        try:
            with conn.begin_nested():
                conn.execute(insert(GiftCard.__table__).values(number=number, amount=amount, balance=amount,
                                                               sale_line_id=line_id, issued_by=str(actor),
                                                               issued_at=utcnow()))
        except IntegrityError:
            raise SaleError(f"gift card {number} already exists, or this line already has a card") from None
        _refresh_states(conn, line.channel_id)
        audit(conn, actor, "issue_gift_card", "websale", line.sale_id, "gift_card", None, number, f"{amount:.2f}")
    return amount


def put_line_on_product(engine: Engine, line_id: int, product_id: int, actor: Actor) -> str:
    """Give one waiting line of an open sale its shop product by hand, whatever became of its web
    listing (marked not sold online, say): the sale is settled at once, as after a link.
    Returns the product's SKU."""
    with engine.begin() as conn:
        line = conn.execute(select(line_table.c.sale_id, line_table.c.product_id, sale_table.c.state,
                                   sale_table.c.channel_id, sale_table.c.order_number)
                            .join(sale_table, sale_table.c.id == line_table.c.sale_id)
                            .where(line_table.c.id == line_id)).first()
        if line is None:
            raise SaleError("that sale line no longer exists")
        if line.state in (SaleState.COMPLETED.value, SaleState.CANCELLED.value, SaleState.HELD.value):
            raise SaleError(f"the sale is {STATUS_LABELS[line.state]}; its lines cannot change")
        sku = conn.execute(select(Product.sku).where(Product.id == product_id, Product.active.is_(True))).scalar()
        if sku is None:
            raise SaleError("that product no longer exists or is inactive")
        if not conn.execute(update(line_table).where(line_table.c.id == line_id, line_table.c.product_id.is_(None))
                            .values(product_id=product_id, product_by_hand=True)).rowcount:
            raise SaleError("this line already has a shop product")
        settle_sales(conn, line.channel_id, sale_ids=[line.sale_id])
        audit(conn, actor, "line_product", "websale", line.sale_id, f"line {line_id} product", None, sku)
    return sku


def suggest_customers(engine: Engine, sale_id: int) -> list[tuple[int, str, str | None, str | None]]:
    """POS customers with the web customer's email or phone; only ever suggested."""
    with engine.connect() as conn:
        sale = _sale(conn, sale_id)
        conditions = []
        if sale.customer_email:
            conditions.append(func.lower(PosCustomer.email) == sale.customer_email.lower())
        if sale.customer_phone:
            conditions.append(PosCustomer.phone == sale.customer_phone)
        if not conditions:
            return []
        return [tuple(row) for row in conn.execute(
            select(PosCustomer.id, PosCustomer.name, PosCustomer.email, PosCustomer.phone)
            .where(or_(*conditions)).order_by(PosCustomer.id).limit(9))]


def link_customer(engine: Engine, sale_id: int, customer_id: int, actor: Actor, seen_version: int) -> None:
    with engine.begin() as conn:
        sale = _sale(conn, sale_id)
        if conn.execute(select(PosCustomer.id).where(PosCustomer.id == customer_id)).scalar() is None:
            raise SaleError("that customer no longer exists")
        _claim(conn, sale_id, seen_version, pos_customer_id=customer_id, customer_link="person")
        audit(conn, actor, "link_customer", "websale", sale_id, "pos_customer", sale.pos_customer_id, customer_id)


def link_known_customers(conn: Connection, sale_ids: list[int]) -> int:
    """Give new web sales their POS customer where the rules are sure, set-based: the web customer a
    person linked before (same email, the latest such link), else the one POS customer with the
    sale's email. Nothing is ever written to the POS customer; anything less sure is left to staff."""
    if not sale_ids:
        return 0
    pos = PosCustomer.__table__
    earlier = sale_table.alias("earlier")
    same_email = func.lower(earlier.c.customer_email) == func.lower(sale_table.c.customer_email)
    linked_before = (select(earlier.c.pos_customer_id)
                     .where(same_email, earlier.c.customer_link == "person", earlier.c.pos_customer_id.is_not(None),
                            earlier.c.id != sale_table.c.id)
                     .order_by(earlier.c.id.desc()).limit(1).scalar_subquery())
    unlinked = and_(sale_table.c.id.in_(sale_ids), sale_table.c.pos_customer_id.is_(None),
                    sale_table.c.customer_email.is_not(None))
    count = conn.execute(update(sale_table).where(unlinked, linked_before.is_not(None))
                         .values(pos_customer_id=linked_before, customer_link="earlier")).rowcount
    by_email = func.lower(pos.c.email) == func.lower(sale_table.c.customer_email)
    only_one = select(func.count()).select_from(pos).where(by_email).scalar_subquery() == 1
    the_one = select(func.min(pos.c.id)).where(by_email).scalar_subquery()
    return count + conn.execute(update(sale_table).where(unlinked, only_one)
                                .values(pos_customer_id=the_one, customer_link="email")).rowcount


def search_customers(engine: Engine, text: str, limit: int = 20) -> list[tuple[int, str, str | None, str | None]]:
    """POS customers whose name, email or phone holds every typed word (for the link dialog)."""
    from core.catalog import clean_search

    words = clean_search(text).lower().split()
    if not words:
        return []
    pos = PosCustomer.__table__
    haystack = func.lower(pos.c.name + " " + func.coalesce(pos.c.email, "") + " " + func.coalesce(pos.c.phone, ""))
    escaped = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words]
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            select(pos.c.id, pos.c.name, pos.c.email, pos.c.phone)
            .where(*(haystack.like(f"%{w}%", escape="\\") for w in escaped))
            .order_by(pos.c.name, pos.c.id).limit(limit))]


def create_customer_from_sale(engine: Engine, sale_id: int, actor: Actor, seen_version: int) -> int:
    with engine.begin() as conn:
        sale = _sale(conn, sale_id)
        if not sale.customer_name:
            raise SaleError("the web sale has no customer name to start from")
        customer = conn.execute(insert(PosCustomer.__table__).values(
            name=sale.customer_name, email=sale.customer_email, phone=sale.customer_phone,
            address=sale.billing_address, created_at=utcnow(), version=1)).inserted_primary_key[0]
        _claim(conn, sale_id, seen_version, pos_customer_id=customer, customer_link="person")
        audit(conn, actor, "create_customer", "poscustomer", customer, None, None, sale.customer_name,
               f"from web sale {sale.order_number}")
    return customer


# --- what the inbox shows ----------------------------------------------------------------------------

STATUS_LABELS = {
    SaleState.HELD.value: "held", SaleState.WAITING_MATCH.value: "needs match",
    SaleState.GIFT_CARD_TO_ISSUE.value: "gift card", SaleState.CAPTURE_FAILED.value: "capture failed",
    SaleState.COMPLETED.value: "completed", SaleState.CANCELLED.value: "cancelled",
}
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

    @property
    def status(self) -> str:
        if self.state == SaleState.READY.value:
            return "ready to ship" if self.shipping > 0 else "ready for pickup"
        if self.state == SaleState.HELD.value and self.held_until:
            return "held until " + shown(self.held_until, zone=True)
        if self.state == SaleState.HELD.value:
            return "held: decide who ships"
        return STATUS_LABELS.get(self.state, self.state)

    @property
    def key(self) -> tuple:
        return (self.ordered_at, self.sale_id)


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    has_more: bool


def inbox(engine: Engine, *, status: str | None = None, channel_id: int | None = None, history: bool = False,
          after: tuple | None = None, limit: int = 50) -> InboxPage:
    """Open web sales, newest first (or, with `history`, completed and cancelled ones), a page at a time."""
    conditions = [sale_table.c.state.in_(CLOSED_SALE_STATES) if history else sale_table.c.state.not_in(CLOSED_SALE_STATES)]
    if status:
        conditions.append(sale_table.c.state == status)
    if channel_id:
        conditions.append(sale_table.c.channel_id == channel_id)
    query = (select(sale_table.c.id, sale_table.c.version, sale_table.c.order_number, SalesChannel.name,
                    sale_table.c.customer_name, sale_table.c.total, sale_table.c.state, sale_table.c.shipping_charged,
                    sale_table.c.held_until, sale_table.c.ordered_at)
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

    @property
    def actions(self) -> tuple[str, ...]:
        """What staff can do with this sale now, by its state; the screen offers exactly these."""
        return sale_actions(self.sale.state, self.sale.shipping_charged, self.sale.fulfillment, self.lines,
                            self.sale.hold_reason)

    @property
    def row(self) -> InboxRow:
        s = self.sale
        return InboxRow(s.id, s.version, s.order_number, self.channel, s.customer_name, s.total, s.state,
                        s.shipping_charged, s.held_until, s.ordered_at)


FORWARD_ACTIONS = ("pickup", "ship", "gift_card", "match", "decide_supplier")


def sale_actions(state: str, shipping_charged: Decimal, fulfillment: str, lines: list[SaleLineView],
                 hold_reason: str | None = None) -> tuple[str, ...]:
    """The actions that apply to a sale in `state`. Every open sale has one that moves it forward
    (`FORWARD_ACTIONS`), except one held for the supplier, which its release time moves forward by
    itself; one held for a person's decision offers that decision."""
    if state in (SaleState.COMPLETED.value, SaleState.CANCELLED.value):
        return ()
    actions = []
    if state == SaleState.HELD.value and hold_reason:
        actions.append("decide_supplier")
    if state in (SaleState.READY.value, SaleState.CAPTURE_FAILED.value):
        actions.append("ship" if ships(shipping_charged, fulfillment) else "pickup")
    if state == SaleState.GIFT_CARD_TO_ISSUE.value:
        actions.append("gift_card")
    if any(line.needs_product for line in lines):
        actions.append("match")
    if any(line.manual_link and line.stock_state != LineStock.SOLD.value and line.listing_id for line in lines):
        actions.append("undo_match")
    actions += ["customer", "cancel"]
    return tuple(actions)


def sale_detail(engine: Engine, sale_id: int) -> SaleDetail:
    with engine.connect() as conn:
        sale = _sale(conn, sale_id)
        channel = conn.execute(select(SalesChannel.name).where(SalesChannel.id == sale.channel_id)).scalar()
        lines = [SaleLineView(*row[:-1], manual_link=bool(row[-1])) for row in conn.execute(
            select(line_table.c.id, line_table.c.title, line_table.c.quantity, line_table.c.unit_price,
                   line_table.c.tax_rate, Product.sku, line_table.c.listing_id,
                   func.coalesce(Product.gift_card_placeholder, False), GiftCard.number, line_table.c.stock_state,
                   WebListing.match_state, ProductLink.manual)
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
            select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.new_value)
            .where(AuditEntry.entity == "websale", AuditEntry.entity_id == str(sale_id)).order_by(AuditEntry.id))]
    return SaleDetail(sale, channel, lines, payments, pos_customer, history)




def complete_with_store(engine: Engine, sale_id: int, actor: Actor, seen_version: int, *, secrets_path=None,
                        checks: PickupChecks | None = None, pickup: bool = True) -> str:
    """Complete a sale through its web store: capture there where the platform can, and, when
    the channel asks for it (`push_status`), mark the order fulfilled on the website too."""
    from core.sync import open_connector

    with engine.connect() as conn:
        channel = conn.execute(select(SalesChannel.__table__, WebSale.external_id.label("order_external_id"))
                               .join(WebSale, WebSale.channel_id == SalesChannel.id)
                               .where(WebSale.id == sale_id)).first()
    if channel is None:
        raise SaleError("that sale no longer exists")
    settings = json.loads(channel.settings_json or "{}")
    try:
        connector = open_connector(channel, settings, secrets_path)
    except Exception as exc:  # missing credentials and the like: the sale stays as it is
        raise SaleError(f"cannot reach the web store: {exc}") from None
    try:
        message = complete_sale(engine, sale_id, actor, seen_version, connector=connector, checks=checks, pickup=pickup)
        if settings.get("push_status"):
            try:
                connector.complete(channel.order_external_id)
                message += " The website shows it fulfilled."
            except ConnectorError as exc:
                message += f" The website could not be updated ({exc}); the sale is complete here."
        return message
    finally:
        connector.close()

