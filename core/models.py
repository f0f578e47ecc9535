"""The data model. Money is Decimal (stored as integer cents), times are aware UTC.

Every mutable business row carries a `version` so that two staff terminals editing the same
thing can be told about it instead of silently overwriting each other.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from core.dbtypes import Money, Rate, UTCDateTime, utcnow

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _created() -> datetime:
    return utcnow()


def CreatedAt():  # noqa: N802
    return Field(default_factory=_created, sa_type=UTCDateTime)


class Platform(StrEnum):
    DEMO = "demo"
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"


class MatchState(StrEnum):
    UNMATCHED = "unmatched"
    AMBIGUOUS = "ambiguous"
    CONFLICT = "conflict"
    MATCHED = "matched"
    NOT_SOLD_ONLINE = "not_sold_online"


UNRESOLVED_MATCH_STATES = (MatchState.UNMATCHED, MatchState.AMBIGUOUS, MatchState.CONFLICT)


class MatchMethod(StrEnum):
    GTIN = "gtin"
    PART_NUMBER = "part_number"
    SKU = "sku"
    MANUAL = "manual"


class SaleState(StrEnum):
    HELD = "held"
    WAITING_MATCH = "waiting_match"
    READY = "ready"
    GIFT_CARD_TO_ISSUE = "gift_card_to_issue"
    CAPTURE_FAILED = "capture_failed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


CLOSED_SALE_STATES = (SaleState.COMPLETED, SaleState.CANCELLED)
OPEN_SALE_STATES = tuple(state for state in SaleState if state not in CLOSED_SALE_STATES)
# The conditions of two partial indexes (the second below LineStock), written as literals: a query
# uses such an index only when it repeats the condition (core.sync.settle does), and after years most
# sales are closed, most lines settled.
OPEN_SALE_CONDITION = "state IN ({})".format(", ".join(f"'{state.value}'" for state in OPEN_SALE_STATES))


HELD_BACK_CONDITION = "held_back_reason IS NOT NULL"


class Fulfillment(StrEnum):
    STORE = "store"
    SUPPLIER = "supplier"


class LineStock(StrEnum):
    NONE = "none"
    COMMITTED = "committed"
    SOLD = "sold"
    RELEASED = "released"


COMMITTED_LINE_CONDITION = f"stock_state = '{LineStock.COMMITTED.value}'"


class Product(SQLModel, table=True):
    __table_args__ = (
        Index("ix_product_gtin14", "gtin14"),
        Index("ix_product_part_number_key", "part_number_key"),
        # SKUs ignore capitals (core.catalog_import): the import's check joins on lower(sku).
        Index("ix_product_sku_folded", text("lower(sku)")),
        # The home screen counts inactive products and invalid barcodes by index range.
        Index("ix_product_active", "active"),
        Index("ix_product_barcode_status", "barcode_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64, unique=True)
    description: str = Field(max_length=255)
    brand: str | None = Field(default=None, max_length=100)
    barcode_raw: str | None = Field(default=None, max_length=64)
    gtin14: str | None = Field(default=None, max_length=14)
    barcode_status: str | None = Field(default=None, max_length=10)
    part_number: str | None = Field(default=None, max_length=64)
    part_number_key: str | None = Field(default=None, max_length=64)
    price: Decimal = Field(sa_type=Money())
    msrp: Decimal | None = Field(default=None, sa_type=Money())
    category: str | None = Field(default=None, max_length=100)
    # The minimum advertised price the brand sets (catalog import, or by hand): no price rule goes under it.
    map_price: Decimal | None = Field(default=None, sa_type=Money())
    non_inventory: bool = False
    gift_card_placeholder: bool = False
    active: bool = True
    # SKU, part number, brand and description in lower case, kept by core.catalog for search.
    search_text: str | None = Field(default=None, sa_type=Text)
    version: int = 1
    created_at: datetime = CreatedAt()
    updated_at: datetime = CreatedAt()


class Location(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    created_at: datetime = CreatedAt()
    active: bool = True  # a retired location keeps its history; nothing new goes to it


class Stock(SQLModel, table=True):
    """Units of one product at one location. Available = on hand - committed."""

    product_id: int = Field(foreign_key="product.id", primary_key=True)
    location_id: int = Field(foreign_key="location.id", primary_key=True)
    on_hand: int = 0
    committed: int = 0
    version: int = 1
    updated_at: datetime = CreatedAt()


class SalesChannel(SQLModel, table=True):
    """One web store. Credentials are never here: they live in the secrets file."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    platform: str = Field(max_length=20)
    base_url: str = Field(max_length=500)
    location_id: int | None = Field(default=None, foreign_key="location.id")
    safety_buffer: int = 0
    settings_json: str = Field(default="{}", sa_type=Text)
    supplier_fulfillment: bool = False
    supplier_location_id: int | None = Field(default=None, foreign_key="location.id")
    active: bool = True
    version: int = 1
    created_at: datetime = CreatedAt()


class RuleKind(StrEnum):
    SAFETY_STOCK = "safety_stock"  # units held back for the shop floor
    IN_STORE_ONLY = "in_store_only"  # sent as 0, whatever the shop has
    PRICE = "price"  # the web price: the shop's, a percentage or an amount off or on, rounded to an ending
    PRICE_FLOOR = "price_floor"  # no price rule goes under it (a minimum advertised price)


class RuleScope(StrEnum):
    CHANNEL = "channel"
    CATEGORY = "category"
    BRAND = "brand"
    PRODUCT = "product"


class ChannelRule(SQLModel, table=True):
    """One rule of one web store (core.rules). Of each family (quantity: safety stock and in store
    only; price; floor) one rule per scope and target, so the most specific one is never in doubt."""

    __table_args__ = (UniqueConstraint("channel_id", "family", "scope", "target_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="saleschannel.id")
    kind: str = Field(max_length=20)
    family: str = Field(max_length=20)
    scope: str = Field(max_length=20)
    target: str = Field(default="", max_length=100)  # a brand, a category or a SKU, as typed
    target_key: str = Field(default="", max_length=100)  # the same in lower case, as matched
    units: int | None = None
    above_price: Decimal | None = Field(default=None, sa_type=Money())  # in store only: above this price
    percent: Decimal | None = Field(default=None, sa_type=Money())
    amount: Decimal | None = Field(default=None, sa_type=Money())
    ending: str | None = Field(default=None, max_length=10)
    changed_by: str = Field(max_length=100)
    changed_at: datetime = CreatedAt()
    version: int = 1


class ChannelLocation(SQLModel, table=True):
    """A shop location whose stock a web store sells, and how that store names it: a Shopify
    location id, or a WooCommerce pickup location's name. A channel without rows sells its one
    location (`SalesChannel.location_id`)."""

    channel_id: int = Field(foreign_key="saleschannel.id", primary_key=True)
    location_id: int = Field(foreign_key="location.id", primary_key=True)
    store_location: str = Field(max_length=500)


class WebListing(SQLModel, table=True):
    """A product (or variant) as the web store lists it."""

    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_weblisting_channel_id_gtin14", "channel_id", "gtin14"),
        Index("ix_weblisting_channel_id_part_number_key", "channel_id", "part_number_key"),
        Index("ix_weblisting_channel_id_product_code", "channel_id", "product_code"),
        Index("ix_weblisting_channel_id_match_state", "channel_id", "match_state"),
        Index("ix_weblisting_match_state", "match_state"),  # every store's unresolved, counted by range
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="saleschannel.id")
    external_id: str = Field(max_length=100)
    external_product_id: str | None = Field(default=None, max_length=100)
    inventory_item_id: str | None = Field(default=None, max_length=100)
    product_code: str | None = Field(default=None, max_length=64)
    barcode_raw: str | None = Field(default=None, max_length=64)
    gtin14: str | None = Field(default=None, max_length=14)
    part_number: str | None = Field(default=None, max_length=64)
    part_number_key: str | None = Field(default=None, max_length=64)
    title: str = Field(max_length=255)
    price: Decimal | None = Field(default=None, sa_type=Money())
    match_state: str = Field(default=MatchState.UNMATCHED, max_length=20)
    remote_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_seen_at: datetime = CreatedAt()
    last_seen_at: datetime = CreatedAt()
    # When what the listing says last changed; the matcher re-examines listings changed since its last run.
    updated_at: datetime = CreatedAt()
    version: int = 1


class ProductLink(SQLModel, table=True):
    """Which shop product a web listing is. A null product means "not sold online"."""

    __table_args__ = (UniqueConstraint("listing_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="saleschannel.id", index=True)
    listing_id: int = Field(foreign_key="weblisting.id")
    product_id: int | None = Field(default=None, foreign_key="product.id", index=True)
    method: str = Field(max_length=20)
    manual: bool = False
    linked_by: str = Field(max_length=100)
    linked_at: datetime = CreatedAt()
    last_exported_quantity: int | None = None
    last_exported_price: Decimal | None = Field(default=None, sa_type=Money())
    last_exported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A channel rule (in store only) wants the listing off the web store: "tandem" when Tandem
    # unpublished it (published again when the rule goes), "already" when the store had it
    # unpublished already (the shop's own doing: Tandem never publishes it).
    unpublished: str | None = Field(default=None, max_length=10)


class ExportedStock(SQLModel, table=True):
    """The quantity a store location other than the channel's primary one last accepted for a
    link (the primary location's mark is `ProductLink.last_exported_quantity`)."""

    # A link taken back (or replaced by the matcher) takes its marks with it: the next export resends.
    link_id: int = Field(foreign_key="productlink.id", primary_key=True, ondelete="CASCADE")
    location_id: int = Field(foreign_key="location.id", primary_key=True)
    quantity: int
    exported_at: datetime = CreatedAt()


class PosCustomer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254, index=True)
    phone: str | None = Field(default=None, max_length=40, index=True)
    address: str | None = Field(default=None, sa_type=Text)
    version: int = 1
    created_at: datetime = CreatedAt()


class WebSale(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_websale_state_ordered_at", "state", "ordered_at"),
        Index("ix_websale_state_hold_reason", "state", "hold_reason"),  # the home screen's counts
        Index("ix_websale_open", "channel_id", "state", sqlite_where=text(OPEN_SALE_CONDITION),
              postgresql_where=text(OPEN_SALE_CONDITION)),  # each round's settle
        # The home screen counts the sales a rule holds back: a handful, whatever the history.
        Index("ix_websale_held_back", "state", sqlite_where=text(HELD_BACK_CONDITION),
              postgresql_where=text(HELD_BACK_CONDITION)),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="saleschannel.id")
    external_id: str = Field(max_length=100)
    order_number: str = Field(max_length=50, index=True)
    state: str = Field(default=SaleState.READY, max_length=30)
    remote_status: str | None = Field(default=None, max_length=50)
    fulfillment: str = Field(default=Fulfillment.STORE, max_length=20)
    location_id: int | None = Field(default=None, foreign_key="location.id")
    shipped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    held_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why a person must decide before the sale moves (a supplier-shipped tag Tandem may not honour).
    hold_reason: str | None = Field(default=None, sa_type=Text)
    customer_link: str | None = Field(default=None, max_length=10)  # "person", "email" or "earlier"
    customer_name: str | None = Field(default=None, max_length=200)
    customer_email: str | None = Field(default=None, max_length=254, index=True)
    customer_phone: str | None = Field(default=None, max_length=40)
    billing_address: str | None = Field(default=None, sa_type=Text)
    shipping_address: str | None = Field(default=None, sa_type=Text)
    pos_customer_id: int | None = Field(default=None, foreign_key="poscustomer.id")
    currency: str = Field(default="USD", max_length=3)
    subtotal: Decimal = Field(default=Decimal("0.00"), sa_type=Money())
    shipping_charged: Decimal = Field(default=Decimal("0.00"), sa_type=Money())
    shipping_tax_rate: Decimal = Field(default=Decimal("0"), sa_type=Rate())
    shipping_tax: Decimal = Field(default=Decimal("0.00"), sa_type=Money())
    tax_total: Decimal = Field(default=Decimal("0.00"), sa_type=Money())
    total: Decimal = Field(default=Decimal("0.00"), sa_type=Money())
    authorized_amount: Decimal = Field(default=Decimal("0.00"), sa_type=Money())
    captured_amount: Decimal = Field(default=Decimal("0.00"), sa_type=Money())
    payment_type_id: int | None = Field(default=None, foreign_key="paymenttype.id")
    ordered_at: datetime = Field(sa_type=UTCDateTime)
    remote_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    imported_at: datetime = CreatedAt()
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_by: str | None = Field(default=None, max_length=100)
    capture_error: str | None = Field(default=None, sa_type=Text)
    # An order for units a channel rule holds back (or a product sold in store only), placed before
    # the store heard of the rule: why it waits for a person, and who let it take its units.
    held_back_reason: str | None = Field(default=None, sa_type=Text)
    held_back_accepted_by: str | None = Field(default=None, max_length=100)
    version: int = 1


class WebSaleLine(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("sale_id", "external_id"),
        Index("ix_websaleline_committed", "sale_id", sqlite_where=text(COMMITTED_LINE_CONDITION),
              postgresql_where=text(COMMITTED_LINE_CONDITION)),
    )

    id: int | None = Field(default=None, primary_key=True)
    sale_id: int = Field(foreign_key="websale.id")
    external_id: str = Field(max_length=100)
    listing_id: int | None = Field(default=None, foreign_key="weblisting.id", index=True)
    product_id: int | None = Field(default=None, foreign_key="product.id", index=True)
    product_code: str | None = Field(default=None, max_length=64)
    barcode_raw: str | None = Field(default=None, max_length=64)
    gtin14: str | None = Field(default=None, max_length=14, index=True)  # a scanned barcode finds the sale
    part_number: str | None = Field(default=None, max_length=64)
    part_number_key: str | None = Field(default=None, max_length=64)
    title: str = Field(max_length=255)
    quantity: int
    unit_price: Decimal = Field(sa_type=Money())
    discount: Decimal = Field(default=Decimal("0.00"), sa_type=Money())
    tax_rate: Decimal = Field(default=Decimal("0"), sa_type=Rate())
    tax_amount: Decimal = Field(default=Decimal("0.00"), sa_type=Money())
    stock_state: str = Field(default=LineStock.NONE, max_length=20)
    product_by_hand: bool = False  # a person chose this line's product (not a listing's link)
    # Its units are ones a channel rule keeps from the web: not committed until a manager accepts
    # (the sale's held_back_reason says why); the sale's other lines commit as usual.
    held_back: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})


class PaymentType(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    account: str = Field(max_length=200)
    card_present: bool = False
    online: bool = False
    active: bool = True
    version: int = 1


class Payment(SQLModel, table=True):
    """Money received for a web sale, under a payment type (and so an accounting account)."""

    id: int | None = Field(default=None, primary_key=True)
    sale_id: int = Field(foreign_key="websale.id", index=True)
    payment_type_id: int = Field(foreign_key="paymenttype.id")
    amount: Decimal = Field(sa_type=Money())
    reference: str | None = Field(default=None, max_length=200)
    captured_elsewhere: bool = False
    received_at: datetime = CreatedAt()
    received_by: str = Field(max_length=100)


class SupplierDocument(SQLModel, table=True):
    """One of the three signed documents a channel needs before supplier fulfillment (SPEC §4),
    for every brand the web store sells (brand "") or for one brand when the store has several
    suppliers."""

    __table_args__ = (UniqueConstraint("channel_id", "brand", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="saleschannel.id")
    brand: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    kind: str = Field(max_length=40)
    signed_on: date
    ends_on: date | None = None  # a retailer contract is current until this day, included
    reference: str | None = Field(default=None, max_length=500)  # where the scanned copy is kept
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = CreatedAt()


class SaleReturn(SQLModel, table=True):
    __tablename__ = "salereturn"

    id: int | None = Field(default=None, primary_key=True)
    sale_id: int | None = Field(default=None, foreign_key="websale.id", index=True)
    state: str = Field(default="draft", max_length=20)
    payment_type_id: int | None = Field(default=None, foreign_key="paymenttype.id")
    location_id: int | None = Field(default=None, foreign_key="location.id")
    refund_total: Decimal = Field(default=Decimal("0.00"), sa_type=Money())
    idempotency_key: str | None = Field(default=None, max_length=64, unique=True)
    created_by: str = Field(max_length=100)
    created_at: datetime = CreatedAt()
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1


class ReturnLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    return_id: int = Field(foreign_key="salereturn.id", index=True)
    sale_line_id: int | None = Field(default=None, foreign_key="websaleline.id")
    product_id: int = Field(foreign_key="product.id")
    quantity: int
    unit_price: Decimal = Field(sa_type=Money())
    tax_rate: Decimal = Field(sa_type=Rate())
    charged_tax_rate: Decimal = Field(sa_type=Rate())
    tax_rate_reason: str | None = Field(default=None, max_length=200)
    restock: bool = True
    is_shipping: bool = False
    # What the line refunded, written when its return is posted (negative, like the quantity).
    refunded_net: Decimal | None = Field(default=None, sa_type=Money())
    refunded_tax: Decimal | None = Field(default=None, sa_type=Money())


class GiftCard(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    amount: Decimal = Field(sa_type=Money())
    balance: Decimal = Field(sa_type=Money())
    sale_line_id: int | None = Field(default=None, foreign_key="websaleline.id", unique=True)
    issued_by: str = Field(max_length=100)
    issued_at: datetime = CreatedAt()
    # What refunds and a cancel took back from the card (SPEC §24); voided once nothing is left.
    taken_back: Decimal = Field(default=Decimal("0.00"), sa_type=Money(), sa_column_kwargs={"server_default": "0"})
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voided_by: str | None = Field(default=None, max_length=100)


class SyncRun(SQLModel, table=True):
    __table_args__ = (Index("ix_syncrun_started_at", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int | None = Field(default=None, foreign_key="saleschannel.id")
    kind: str = Field(max_length=30)
    status: str = Field(default="running", max_length=20)
    started_at: datetime = CreatedAt()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message: str | None = Field(default=None, sa_type=Text)
    counts_json: str = Field(default="{}", sa_type=Text)
    started_by: str = Field(max_length=100)


class SyncCursor(SQLModel, table=True):
    """Where the next sync of a channel resumes; moved only in the transaction that stores data."""

    channel_id: int = Field(foreign_key="saleschannel.id", primary_key=True)
    name: str = Field(max_length=50, primary_key=True)
    value: str = Field(max_length=500)
    updated_at: datetime = CreatedAt()


class Change(SQLModel, table=True):
    """One write that changed what a screen or a web store shows, numbered. Written by the
    database's own triggers (migration 0012) in the transaction of the change, and by core.rules for
    the products a rule change moves (each product, not the whole catalog)."""

    __table_args__ = (Index("ix_change_xid", "xid"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # core.changes.KINDS
    product_id: int | None = None  # no foreign key: a deleted product's change still tells the stores
    channel_id: int | None = None
    xid: int | None = Field(default=None, sa_type=BigInteger)  # PostgreSQL: the writing transaction


class Tally(SQLModel, table=True):
    """A count kept by triggers, so a screen never counts a whole table to show it."""

    name: str = Field(max_length=30, primary_key=True)
    value: int = Field(sa_type=BigInteger)


class SearchTerm(SQLModel, table=True):
    """The words a web sale or a POS customer is found by (core.search): one row per word, so a
    typed word's prefix is an index range, on SQLite and PostgreSQL alike."""

    __table_args__ = (Index("ix_searchterm_entity_entity_id", "entity", "entity_id"),)

    # Byte order ("C") on PostgreSQL, as SQLite's default, so a prefix is one contiguous range.
    entity: str = Field(max_length=20, primary_key=True)  # "websale" or "poscustomer"
    term: str = Field(primary_key=True, sa_type=String(100).with_variant(String(100, collation="C"), "postgresql"))
    entity_id: int = Field(primary_key=True)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "auditlog"
    __table_args__ = (Index("ix_auditlog_entity_entity_id", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = CreatedAt()
    actor: str = Field(max_length=100)
    client: str | None = Field(default=None, max_length=100)
    action: str = Field(max_length=50)
    entity: str = Field(max_length=50)
    entity_id: str | None = Field(default=None, max_length=100)
    field: str | None = Field(default=None, max_length=50)
    old_value: str | None = Field(default=None, sa_type=Text)
    new_value: str | None = Field(default=None, sa_type=Text)
    note: str | None = Field(default=None, sa_type=Text)
    approved_by: str | None = Field(default=None, max_length=100)  # the manager who approved it


class Staff(SQLModel, table=True):
    """A person who works at the counter: their role, their PIN (an argon2id hash), and when and by
    whom they were added or last changed. A person retired keeps their row: the audit names them."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=32, unique=True)
    role: str = Field(max_length=10)
    active: bool = True
    pin_hash: str | None = Field(default=None, max_length=200)
    failed_pins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    added_at: datetime = CreatedAt()
    added_by: str = Field(max_length=100)
    changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    changed_by: str | None = Field(default=None, max_length=100)


class WatcherState(SQLModel, table=True):
    """The one `tandem --watch` of this database (id 1), as the console and `tandem --status` read it."""

    id: int = Field(default=1, primary_key=True)
    host: str = Field(max_length=255)
    pid: int
    started_at: datetime = CreatedAt()
    heartbeat_at: datetime = CreatedAt()  # written every round: a stale one means the watcher is gone
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # a clean stop
    listening: str | None = Field(default=None, max_length=100)  # the webhook address, when it takes them
    rounds: int = 0
    orders: int = 0


class WatchedChannel(SQLModel, table=True):
    """What the watcher last saw of one web store."""

    channel_id: int = Field(foreign_key="saleschannel.id", primary_key=True)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the last read that succeeded
    order_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the last new or changed order stored
    lag_seconds: float | None = None  # that order: changed on the store -> stored here
    webhook_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the last signed webhook taken
    exported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the last availability sent
    error: str | None = Field(default=None, sa_type=Text)  # None once the store answers again
    error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
