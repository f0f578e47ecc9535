"""Supplier fulfilment (SPEC §4-5): the three signed documents a web store needs (the brand's
Internet addendum, the custom packing-slip form, a current retailer contract), per web store or per
brand; the switch; how a new order is routed (a pickup to the shop the customer chose, a
supplier-shipped order held until 02:30 Eastern on the next business day, or held for a person
when the documents do not allow it) and a person's decision on such a hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, func, insert, select, update

from core.roles import require
from core.i18n import N_, _
from core.audit import Actor
from core.audit import record as audit
from core.config import ChannelConfig
from core.dbtypes import utcnow
from core.holds import release_time
from core.models import (
    ChannelLocation,
    Fulfillment,
    Location,
    Product,
    ProductLink,
    SalesChannel,
    SaleState,
    Stock,
    SupplierDocument,
    WebListing,
    WebSale,
    WebSaleLine,
)
from core.sales import SaleError, _claim, _sale
from core.shoptime import shown
from core.shoptime import today as shoptime_today
from core.sync.matching import match_sale_lines
from core.sync.settle import settle_sales

sale_table, line_table, stock_table = WebSale.__table__, WebSaleLine.__table__, Stock.__table__


DOCUMENTS = {
    "internet_addendum": N_("the brand's Internet addendum"),
    "packing_slip_form": N_("the custom packing-slip information form"),
    "retailer_contract": N_("a current retailer contract"),
}


SWITCHED_OFF = N_("supplier fulfilment is off for this web store")


def supplier_problems(conn: Connection, channel_id: int, on: date, brands: set[str] | None = None) -> list[str]:
    """Why the channel may not treat an order as supplier-shipped on day `on`; empty when it may:
    supplier fulfilment switched on, and the three signed documents on file and current.

    Documents are the web store's, for every brand it sells, or one brand's when the store has
    several suppliers. With `brands` (those of an order's products; "" when unknown), each brand
    needs all three, its own or the web store's; without, one complete set is enough."""
    channel = conn.execute(select(SalesChannel.supplier_fulfillment).where(SalesChannel.id == channel_id)).one()
    problems = [] if channel.supplier_fulfillment else [_(SWITCHED_OFF)]
    documents = {(row.brand.casefold(), row.kind): row for row in conn.execute(
        select(SupplierDocument.brand, SupplierDocument.kind, SupplierDocument.ends_on)
        .where(SupplierDocument.channel_id == channel_id))}

    def gaps(brand: str) -> list[str]:
        found = []
        for kind, name in DOCUMENTS.items():
            row = documents.get((brand.casefold(), kind)) or documents.get(("", kind))
            if row is None:
                found.append((_("{document} is not on file for {brand}") if brand else _("{document} is not on file"))
                             .format(document=_(name), brand=brand))
            elif row.ends_on is not None and row.ends_on < on:
                found.append((_("{document} for {brand} ended on {day}") if row.brand else _("{document} ended on {day}"))
                             .format(document=_(name), brand=row.brand, day=row.ends_on.isoformat()))
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
                "hold_reason": _("tagged supplier-shipped, but {problems}").format(problems="; ".join(problems))}
    until = release_time(shipped_at or ordered_at, ChannelConfig.from_stored(channel.settings_json).holiday_country)
    fields = {"fulfillment": Fulfillment.SUPPLIER.value, "held_until": until,
              "location_id": channel.supplier_location_id or channel.location_id}
    if now < until:
        fields["state"] = SaleState.HELD.value
    return fields


def refresh_hold_reasons(conn: Connection, channel_id: int, today: date | None = None) -> int:
    """After the supplier documents or the switch change: the reason each sale held for a person
    gives is worked out again, so staff never read a problem that is already solved. Returns how
    many reasons changed."""
    today = today or shoptime_today()
    changed = 0
    held = conn.execute(select(sale_table.c.id, sale_table.c.hold_reason).where(
        sale_table.c.channel_id == channel_id, sale_table.c.state == SaleState.HELD.value,
        sale_table.c.hold_reason.is_not(None))).all()
    for sale_id, reason in held:
        problems = supplier_problems(conn, channel_id, today, _sale_brands(conn, sale_id))
        now = (_("tagged supplier-shipped, but {problems}").format(problems="; ".join(problems)) if problems
               else _("tagged supplier-shipped; supplier fulfilment may be used now: decide who ships it"))
        if now != reason:
            conn.execute(update(sale_table).where(sale_table.c.id == sale_id)
                         .values(hold_reason=now, version=sale_table.c.version + 1))
            changed += 1
    return changed


def decide_supplier_hold(engine: Engine, sale_id: int, actor: Actor, seen_version: int, *, shop_ships: bool,
                         now: datetime | None = None) -> str:
    """A person decides a sale held because of its supplier-shipped tag: the shop ships it from its
    own stock (it becomes a store order and commits its units), or the supplier does (allowed only
    once the web store may use supplier fulfilment; it then waits for its release time)."""
    require(actor, "sale.supplier_hold")
    now = now or utcnow()
    with engine.begin() as conn:
        sale = _sale(conn, sale_id)
        if sale.state != SaleState.HELD.value or not sale.hold_reason:
            raise SaleError(_("this sale is not waiting for that decision"))
        if shop_ships:
            values = {"fulfillment": Fulfillment.STORE.value, "state": SaleState.WAITING_MATCH.value,
                      "held_until": None, "hold_reason": None}
            message = _("The shop ships this sale from its own stock; its units are now committed.")
        else:
            problems = supplier_problems(conn, sale.channel_id, now.date(), _sale_brands(conn, sale_id))
            if problems:
                raise SaleError(_("the supplier cannot ship it yet: {problems}").format(problems="; ".join(problems)))
            country = ChannelConfig.from_stored(conn.execute(select(SalesChannel.settings_json).where(
                SalesChannel.id == sale.channel_id)).scalar()).holiday_country
            until = release_time(sale.shipped_at or sale.ordered_at, country)
            values = {"held_until": until, "hold_reason": None,
                      "state": SaleState.HELD.value if now < until else SaleState.WAITING_MATCH.value}
            message = f"The supplier ships this sale; it can be downloaded from {shown(until, '%a %d %b %H:%M', zone=True)}."
        _claim(conn, sale_id, seen_version, **values)
        audit(conn, actor, "supplier_hold_decided", "websale", sale_id, "fulfillment", sale.fulfillment,
              values.get("fulfillment", sale.fulfillment), sale.hold_reason)
        match_sale_lines(conn, sale.channel_id)
        settle_sales(conn, sale.channel_id, now, sale_ids=[sale_id])
    return message


def record_supplier_document(engine: Engine, channel_id: int, kind: str, signed_on: date, actor: Actor,
                             ends_on: date | None = None, reference: str | None = None,
                             brand: str | None = None) -> None:
    """Record (or replace) one signed document, for every brand the web store sells or for one."""
    require(actor, "supplier.change")
    if kind not in DOCUMENTS:
        raise SaleError(_('unknown document {kind} (one of: {value})').format(kind=repr(kind), value=', '.join(DOCUMENTS)))
    if ends_on is not None and ends_on < signed_on:
        raise SaleError(_("a document cannot end before it was signed"))
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
        refresh_hold_reasons(conn, channel_id)


def _switch_on_refusal(conn, channel_id: int, today: date | None = None) -> str | None:
    missing = [p for p in supplier_problems(conn, channel_id, today or shoptime_today()) if p != _(SWITCHED_OFF)]
    if missing:
        return _("supplier fulfilment needs the signed documents on file and current first: {missing}").format(
            missing="; ".join(missing))
    return None


def switch_on_refusal(engine: Engine, channel_id: int, today: date | None = None) -> str | None:
    """Why switching supplier fulfilment on would be refused now, or None: asked before anything
    else is asked of staff (the console asks for a location only when the switch can go on)."""
    with engine.connect() as conn:
        return _switch_on_refusal(conn, channel_id, today)


def enable_supplier_fulfillment(engine: Engine, channel_id: int, actor: Actor, route_to: int | None = None,
                                today: date | None = None) -> None:
    """Switch supplier fulfillment on; refused until the three signed documents are on file and current."""
    require(actor, "supplier.change")
    with engine.begin() as conn:
        refusal = _switch_on_refusal(conn, channel_id, today)
        if refusal:
            raise SaleError(refusal)
        conn.execute(update(SalesChannel.__table__).where(SalesChannel.id == channel_id).values(
            supplier_fulfillment=True, supplier_location_id=route_to, version=SalesChannel.version + 1))
        audit(conn, actor, "supplier_fulfillment", "saleschannel", channel_id, "supplier_fulfillment", "off", "on")
        refresh_hold_reasons(conn, channel_id, today)


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
        brands = [""] + sorted({brand for channel_id, brand, _kind in on_file if channel_id == channel.id and brand},
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
    require(actor, "supplier.change")
    with engine.begin() as conn:
        conn.execute(update(SalesChannel.__table__).where(SalesChannel.id == channel_id).values(
            supplier_fulfillment=False, version=SalesChannel.version + 1))
        audit(conn, actor, "supplier_fulfillment", "saleschannel", channel_id, "supplier_fulfillment", "on", "off")
        refresh_hold_reasons(conn, channel_id)


def switch_supplier_fulfillment(engine: Engine, channel_id: int, actor: Actor, on: bool,
                                location: str | None = None) -> str:
    """The console's switch: on (with the location, by name, that receives supplier-shipped orders)
    or off. Returns what happened, in words."""
    from core.locations import UnknownLocationError, resolve_location

    if not on:
        disable_supplier_fulfillment(engine, channel_id, actor)
        return _("Supplier fulfilment is off: orders tagged supplier-shipped now wait for a person.")
    route_to = None
    if location:
        with engine.connect() as conn:
            try:
                route_to = resolve_location(conn, location)
            except UnknownLocationError as exc:
                raise SaleError(str(exc)) from None
    enable_supplier_fulfillment(engine, channel_id, actor, route_to)
    if location:
        return _("Supplier fulfilment is on: supplier-shipped orders go to {location}.").format(location=location)
    return _("Supplier fulfilment is on.")
