"""The shop as a state machine: random sequences of everything staff and the web can do, driven
through the core services (the calls the screens and `tandem --sync` make), on SQLite and on
PostgreSQL, with the shop's invariants checked after every step.

Steps, interleaved at random:
  web orders arriving, updated, cancelled on the web and downloaded again, shuffled;
  a listing linked by hand, marked "not sold online", or the decision undone;
  a waiting line given a product by hand; a line's product picked again, or the pick undone;
  pickups (all three checks or not, the capture accepted or refused), shipments, staff cancelling;
  gift cards issued, spent in part or in full at the POS, then refunded or their sale cancelled;
  two shop locations: pickups at either, shipped orders from the web store's own;
  returns: partial and repeated, tax rates edited with a reason, shipping refunded in full or in
  part, restocked or not, posted, abandoned, or left as drafts;
  the catalog imported again with new on-hand counts.

Invariants, after every step (SPEC §17-18):
  - per sale line: units returned <= units sold; net refunded <= net charged; tax refunded <= tax
    charged, unless a rate edit with its reason is on record for that line;
  - per sale: shipping refunded <= shipping charged; total refunded <= total captured;
  - a payment is captured once, and only by a pickup with the three checks recorded or by the
    shipment of a sale the shop ships; a completed sale has exactly one capture, an open one none;
  - per sale, money out never exceeds money in, counting what is still on a gift card it issued
    and what was spent from it: refunds plus the cards' value not taken back are at most what was
    captured (a cancelled sale: nothing, so its cards are all taken back); an open sale's cards
    hold at most its total;
  - at each location, on hand equals the imports plus what returns restocked there minus what
    completed sales sold there (counted by this model, not read from the stock table); committed
    equals the units of matched lines in open sales taking their units there, never negative;
    placeholders and non-inventory products never move; a staff pick that promises a unit a
    location does not have says so (checked as the pick is made);
  - every open sale has an action that moves it forward, the inbox shows it, and a line waiting
    for a product is either in the resolver's queue or can be given one by hand;
  - the reconciliation of each day and account equals the payments minus the refunds recorded.

A failing run prints its shortest sequence of steps. The number of examples is fixed (and
derandomized) so CI runs the same sequences every time; set TANDEM_STATE_MACHINE_EXAMPLES to
explore more, with fresh random sequences.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, insert, select

from core.audit import Actor
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.connectors.base import ConnectorError, OrderLine, WebOrder
from core.db import open_database
from core.models import (
    AuditEntry, ChannelLocation, GiftCard, Location, Payment, PaymentType, Platform, Product, ReturnLine, SaleReturn,
    Stock, WebListing, WebSale, WebSaleLine,
)
from core.sync import import_orders
from core.reconciliation import reconciliation
from core.resolver import ResolveError, link_listing, mark_not_sold_online, resolver_queue, unlink_listing
from core.returns import (
    ReturnError, abandon_return, add_shipping_refund, complete_return, return_view, set_quantity, set_restock,
    set_shipping_amount, set_tax_rate, start_return,
)
from core.gift_cards import issue_gift_card, set_gift_card_balance
from core.locations import add_location
from core.inbox import FORWARD_ACTIONS, inbox, sale_detail
from core.pickup import PickupChecks, cancel_sale, complete_sale, ships
from core.sales import SaleError, change_line_product, put_line_on_product, undo_line_product

from tests.conftest import BACKENDS, drop_postgres_database, new_postgres_database

STAFF = Actor("sam", "192.0.2.7")
CENT = Decimal("0.01")
OPEN = ("held", "waiting_match", "ready", "gift_card_to_issue", "capture_failed")
# sku -> (price, tax rate, kind); the web sells each by its code, and two listings need a person.
PRODUCTS = {
    "TUBE": (Decimal("8.99"), Decimal("8.25"), "inventory"),
    "WHEEL": (Decimal("26.00"), Decimal("8.25"), "inventory"),
    "LIGHT": (Decimal("45.00"), Decimal("0"), "inventory"),
    "GIFT-CARD": (Decimal("25.00"), Decimal("0"), "placeholder"),
    "FITTING": (Decimal("60.00"), Decimal("13"), "service"),
}
LISTINGS = {"L-SADDLE": ("Saddle, web name", Decimal("39.00")), "L-BELL": ("Bell, web name", Decimal("12.50"))}
SHIPPING, SHIPPING_TAX = Decimal("9.95"), Decimal("0.50")
EXAMPLES = int(os.environ.get("TANDEM_STATE_MACHINE_EXAMPLES", "0"))
# Mutation runs (scripts/mutation.py) run fewer sequences, derandomized too, and do not shrink a
# failure: that the mutant fails is all they need to know.
MUTATION_EXAMPLES = int(os.environ.get("TANDEM_STATE_MACHINE_MUTATION_EXAMPLES", "0"))


def catalog(counts: dict[str, int]) -> bytes:
    rows = ["sku,description,price,quantity,non_inventory,gift_card"]
    for sku, (price, _, kind) in PRODUCTS.items():
        quantity = "" if kind == "service" else str(counts.get(sku, 0))
        rows.append(f"{sku},{sku.title()},{price},{quantity},{'yes' if kind == 'service' else 'no'},"
                    f"{'yes' if kind == 'placeholder' else 'no'}")
    rows.append("SHIP-REFUND,Shipping refund,0.00,,yes,no")
    return ("\n".join(rows) + "\n").encode()


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


class CaptureDesk:
    """The web store's payment side, as far as a pickup or shipment needs it: it captures the
    authorisation, or refuses with a reason."""

    def __init__(self, refuse: bool):
        self.refuse = refuse

    def capture(self, external_id: str, amount: Decimal) -> str:
        if self.refuse:
            raise ConnectorError("the card issuer declined the capture")
        return f"capture-{external_id}"


class Template:
    """An empty, migrated database per backend, copied for each example (migrating is the slow part)."""

    def __init__(self, backend: str, folder: Path):
        self.backend, self.folder = backend, folder
        if backend == "sqlite":
            self.path = folder / "template.sqlite"
            open_database(f"sqlite:///{self.path}").dispose()
        else:
            self.url = new_postgres_database()
            open_database(self.url).dispose()
        self.copies = 0

    def copy(self) -> str:
        self.copies += 1
        if self.backend == "sqlite":
            path = self.folder / f"example-{self.copies}.sqlite"
            shutil.copy(self.path, path)
            return f"sqlite:///{path}"
        return new_postgres_database(self.url)

    def drop(self, url: str) -> None:
        if self.backend == "sqlite":
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            drop_postgres_database(url)

    def close(self) -> None:
        if self.backend != "sqlite":
            drop_postgres_database(self.url)


class Shop(RuleBasedStateMachine):
    template: Template  # set by the test before the run

    def __init__(self):
        super().__init__()
        self.url = self.template.copy()
        self.engine = open_database(self.url)
        self.orders: dict[str, WebOrder] = {}
        # What this model expects on hand, per (product id, location id).
        self.on_hand: dict[tuple[int, int], int] = {}
        self.imported: dict[tuple[int, int], int] = {}
        self.how_completed: dict[int, str] = {}  # sale id -> "pickup with checks" or "shipped"
        self.gift_cards = 0

    def teardown(self):
        self.engine.dispose()
        self.template.drop(self.url)

    # --- set-up ---------------------------------------------------------------------------------------

    @initialize(counts=st.fixed_dictionaries({sku: st.integers(0, 6) for sku in PRODUCTS}),
                riverside=st.fixed_dictionaries({sku: st.integers(0, 3) for sku in PRODUCTS}))
    def open_the_shop(self, counts, riverside):
        import_catalog(self.engine, catalog(counts), "Main Street", STAFF)
        add_location(self.engine, "Riverside", STAFF)
        import_catalog(self.engine, catalog(riverside), "Riverside", STAFF)
        with self.engine.begin() as conn:
            self.locations = dict(conn.execute(select(Location.name, Location.id)).all())
            location = self.locations["Main Street"]
            self.channel = add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com", location)
            # The web store sells both shops' stock; a pickup order names the shop the customer chose.
            conn.execute(insert(ChannelLocation.__table__), [
                {"channel_id": self.channel, "location_id": location_id, "store_location": f"store-{name}"}
                for name, location_id in self.locations.items()])
            conn.execute(insert(WebListing.__table__), [
                {"channel_id": self.channel, "external_id": key, "title": title, "price": price,
                 "match_state": "unmatched"} for key, (title, price) in LISTINGS.items()])
            self.product_ids = dict(conn.execute(select(Product.sku, Product.id)).all())
            self.listing_ids = dict(conn.execute(select(WebListing.external_id, WebListing.id)).all())
        self.kinds = {self.product_ids[sku]: kind for sku, (_, _, kind) in PRODUCTS.items()}
        self.kinds[self.product_ids["SHIP-REFUND"]] = "service"
        self._imported(counts, "Main Street")
        self._imported(riverside, "Riverside")

    def _imported(self, counts, location):
        for sku, count in counts.items():
            if PRODUCTS[sku][2] != "service":
                key = (self.product_ids[sku], self.locations[location])
                self.imported[key] = count
                self.on_hand[key] = count

    # --- the web ----------------------------------------------------------------------------------------

    ORDER = st.tuples(
        st.lists(st.tuples(st.sampled_from([*PRODUCTS, *LISTINGS]), st.integers(1, 3), st.sampled_from([1, -1, 0])),
                 min_size=1, max_size=3, unique_by=lambda line: line[0]),
        st.booleans(), st.sampled_from(["Main Street", "Riverside", "Riverside"]))

    # One rule draws what happens next, with a day's proportions: Hypothesis's own choice of rules
    # switches whole rules off at random (swarm testing), which starves a day of its sales.
    MOMENTS = ["orders"] * 3 + ["counter"] * 3 + ["return"] * 3 + ["web changes", "resolver", "line by hand",
                                                                     "catalog", "pick again", "card spent"]

    @rule(data=st.data())
    def the_day_goes_on(self, data):
        moment = data.draw(st.sampled_from(self.MOMENTS), label="what happens")
        if moment == "orders":
            self.a_batch_of_web_orders_arrives(data.draw(st.lists(self.ORDER, min_size=1, max_size=4), label="orders"))
        elif moment == "counter" and self.has(OPEN):
            self.at_the_counter(data.draw(st.lists(self.COUNTER_TASK, min_size=1, max_size=4), label="tasks"))
        elif moment == "return" and self.has(("completed",)):
            which = data.draw(st.sampled_from(["shipped", "returned before", "any"]), label="which sale")
            sale = self._returnable(data.draw(st.integers(0, 10_000), label="pick"), which)
            self.a_return(sale, data)
            # Customers come back: a second return on the same sale, its shipping and tax already part-refunded.
            if data.draw(st.booleans(), label="a second return on the same sale"):
                self.a_return(sale, data)
        elif moment == "web changes" and self.orders:
            self.the_web_changes(data.draw(st.sampled_from(["downloaded again", "downloaded again", "cancelled"])),
                                 data.draw(st.lists(st.integers(0, 10_000), min_size=1, max_size=6)),
                                 data.draw(st.booleans(), label="changed meanwhile"))
        elif moment == "resolver":
            self.a_person_decides(data.draw(st.sampled_from(["link", "link", "not sold online", "undo"])),
                                  data.draw(st.integers(0, 1), label="listing"),
                                  data.draw(st.sampled_from(["TUBE", "WHEEL", "LIGHT", "GIFT-CARD"]), label="product"))
        elif moment == "line by hand" and self.has(("waiting_match",)):
            self.a_waiting_line_is_given_a_product(data.draw(st.integers(0, 10_000), label="line"),
                                                   data.draw(st.sampled_from(["TUBE", "WHEEL", "LIGHT"])))
        elif moment == "catalog":
            self.the_catalog_is_imported_again(data.draw(
                st.fixed_dictionaries({sku: st.integers(0, 6) for sku in PRODUCTS}), label="counts"),
                data.draw(st.sampled_from(sorted(self.locations)), label="location"))
        elif moment == "pick again" and self.has(OPEN):
            if data.draw(st.sampled_from(["pick", "pick", "undo"]), label="pick or undo") == "pick":
                self.a_lines_product_is_picked_again(data.draw(st.integers(0, 10_000), label="line"),
                                                     data.draw(st.sampled_from(["TUBE", "WHEEL", "LIGHT"])))
            else:
                self.a_pick_is_undone(data.draw(st.integers(0, 10_000), label="line"))
        elif moment == "card spent":
            self.a_gift_card_is_spent(data.draw(st.integers(0, 10_000), label="card"),
                                      data.draw(st.sampled_from(["some", "all"]), label="how much"))

    def a_batch_of_web_orders_arrives(self, orders):
        self._download([self._new_order(lines, shipped, shop) for lines, shipped, shop in orders])

    def _new_order(self, lines, shipped, shop="Main Street") -> WebOrder:
        number = len(self.orders) + 1001
        order_lines, net_and_tax = [], Decimal("0")
        for n, (code, quantity, wobble) in enumerate(lines):
            if code in LISTINGS:
                title, price = LISTINGS[code]
                rate, extra = Decimal("8.25"), {"listing_external_id": code}
            else:
                title, (price, rate, _) = code.title(), PRODUCTS[code]
                extra = {"product_code": code}
            net = money(price * quantity)
            # Stores round tax their own way: a cent either side of ours, as long as there is tax.
            tax = max(money(net * rate / 100) + (wobble * CENT if rate else 0), Decimal("0.00"))
            order_lines.append(OrderLine(f"{number}-{n}", title, quantity, price, tax_rate=rate, tax_amount=tax,
                                         **extra))
            net_and_tax += net + tax
        shipping, shipping_tax = (SHIPPING, SHIPPING_TAX) if shipped else (Decimal("0.00"), Decimal("0.00"))
        when = datetime(2026, 11, 27, 9, 0, tzinfo=UTC) + timedelta(minutes=number)
        order = WebOrder(f"gid-{number}", f"#{number}", "authorized", when, when, "USD", order_lines,
                         customer_name="Kim Doe", customer_email="kim@example.com", shipping=shipping,
                         shipping_tax=shipping_tax, total=net_and_tax + shipping + shipping_tax,
                         pickup_location=None if shipped else f"store-{shop}")
        self.orders[order.external_id] = order
        return order

    def _download(self, orders):
        with self.engine.begin() as conn:
            import_orders(conn, self.channel, orders, now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))

    def the_web_changes(self, change, picks, touch):
        if change == "cancelled":
            self.an_order_is_cancelled_on_the_web(picks[0])
        else:
            self.orders_are_downloaded_again_shuffled(picks, touch)

    def orders_are_downloaded_again_shuffled(self, picks, touch):
        known = list(self.orders.values())
        again = [known[pick % len(known)] for pick in picks]
        if touch:  # the web changed them meanwhile (a note, a status): only the status may follow
            again = [replace(o, updated_at=o.updated_at + timedelta(minutes=5), status="paid") for o in again]
            self.orders.update({o.external_id: o for o in again})
        self._download(again)

    def an_order_is_cancelled_on_the_web(self, pick):
        order = list(self.orders.values())[pick % len(self.orders)]
        order = replace(order, cancelled=True, status="cancelled", updated_at=order.updated_at + timedelta(hours=1))
        self.orders[order.external_id] = order
        self._download([order])

    # --- the resolver ------------------------------------------------------------------------------------

    def _listing(self, pick):
        key = sorted(LISTINGS)[pick % len(LISTINGS)]
        with self.engine.connect() as conn:
            return conn.execute(select(WebListing.id, WebListing.version)
                                .where(WebListing.id == self.listing_ids[key])).one()

    def a_person_decides(self, decision, pick, product):
        if decision == "link":
            self.a_listing_is_linked(pick, product)
        elif decision == "not sold online":
            self.a_listing_is_not_sold_online(pick)
        else:
            self.a_decision_is_undone(pick)

    def a_listing_is_linked(self, pick, product):
        listing = self._listing(pick)
        try:
            link_listing(self.engine, listing.id, self.product_ids[product], STAFF, listing.version)
        except ResolveError:
            pass  # already decided, or the product is taken: refused, nothing changed

    def a_listing_is_not_sold_online(self, pick):
        listing = self._listing(pick)
        try:
            mark_not_sold_online(self.engine, listing.id, STAFF, listing.version)
        except ResolveError:
            pass

    def a_decision_is_undone(self, pick):
        try:
            unlink_listing(self.engine, self._listing(pick).id, STAFF)
            event("a decision undone")
        except ResolveError:
            pass

    def a_waiting_line_is_given_a_product(self, pick, product):
        with self.engine.connect() as conn:
            waiting = conn.execute(select(WebSaleLine.id).join(WebSale, WebSale.id == WebSaleLine.sale_id)
                                   .where(WebSaleLine.product_id.is_(None), WebSale.state.in_(OPEN))
                                   .order_by(WebSaleLine.id)).scalars().all()
        if waiting:
            put_line_on_product(self.engine, waiting[pick % len(waiting)], self.product_ids[product], STAFF)

    def a_lines_product_is_picked_again(self, pick, product):
        """A person changes a line's product (the first pick was wrong); its unit moves with it."""
        with self.engine.connect() as conn:
            lines = conn.execute(
                select(WebSaleLine.id, WebSale.location_id).join(WebSale, WebSale.id == WebSaleLine.sale_id)
                .join(Product, Product.id == WebSaleLine.product_id)
                .where(WebSale.state.in_(("ready", "waiting_match", "gift_card_to_issue", "capture_failed")),
                       Product.gift_card_placeholder.is_(False))
                .order_by(WebSaleLine.id)).all()
        if not lines:
            return
        line = lines[pick % len(lines)]
        try:
            picked = change_line_product(self.engine, line.id, self.product_ids[product], STAFF, price_confirmed=True)
        except SaleError:
            return  # already on that product
        event("a line's product picked again")
        with self.engine.connect() as conn:
            short = conn.execute(select(Stock.committed > Stock.on_hand).where(
                Stock.product_id == self.product_ids[product], Stock.location_id == line.location_id)).scalar()
        # A unit promised where the shelf has none is said, never left for staff to find out.
        assert (picked.short_at is not None) == bool(short), "a shortage at the sale's location went unsaid"

    def a_pick_is_undone(self, pick):
        with self.engine.connect() as conn:
            lines = conn.execute(
                select(WebSaleLine.id).join(WebSale, WebSale.id == WebSaleLine.sale_id)
                .where(WebSaleLine.product_by_hand.is_(True), WebSale.state.in_(OPEN), WebSale.state != "held")
                .order_by(WebSaleLine.id)).scalars().all()
        if lines:
            undo_line_product(self.engine, lines[pick % len(lines)], STAFF)
            event("a pick undone")

    def a_gift_card_is_spent(self, pick, how_much):
        """The customer spends the card at the POS; staff record what is left on it."""
        with self.engine.connect() as conn:
            cards = conn.execute(select(GiftCard.number, GiftCard.balance).where(GiftCard.balance > 0)
                                 .order_by(GiftCard.id)).all()
        if cards:
            card = cards[pick % len(cards)]
            left = Decimal("0.00") if how_much == "all" else money(card.balance / 2)
            set_gift_card_balance(self.engine, card.number, left, STAFF)
            event(f"a gift card spent ({how_much})")

    # --- the counter -------------------------------------------------------------------------------------

    def has(self, states) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(WebSale.id).where(WebSale.state.in_(states)).limit(1)).first() is not None

    def _sale(self, pick, states, shipped: bool | None = None):
        """One of the sales in `states`; with `shipped`, only those that ship (True) or are picked up (False)."""
        query = select(WebSale.__table__).where(WebSale.state.in_(states)).order_by(WebSale.id)
        if shipped is not None:
            query = query.where((WebSale.shipping_charged > 0) if shipped else (WebSale.shipping_charged == 0))
        with self.engine.connect() as conn:
            sales = conn.execute(query).all()
        return sales[pick % len(sales)] if sales else None

    def _sold(self, sale_id):
        """What completing a sale the shop fulfils takes off the shelf, counted by this model."""
        with self.engine.connect() as conn:
            location = conn.execute(select(WebSale.location_id).where(WebSale.id == sale_id)).scalar()
            for product, quantity in conn.execute(select(WebSaleLine.product_id, WebSaleLine.quantity)
                                                  .where(WebSaleLine.sale_id == sale_id)):
                if self.kinds[product] == "inventory":
                    self.on_hand[(product, location)] = self.on_hand.get((product, location), 0) - quantity

    # Staff mostly open a sale the inbox says is ready; sometimes any open sale, to be refused.
    READY = st.sampled_from([("ready", "capture_failed")] * 3 + [OPEN])
    REFUSED = st.sampled_from([False, False, False, True])

    COUNTER_TASK = st.tuples(
        st.sampled_from(["pickup", "ship", "gift card", "pickup", "ship", "gift card", "cancel"]),
        st.integers(0, 10_000), READY, st.sampled_from(["all", "all", "all", "two"]), REFUSED,
        st.sampled_from([False, False, False, True]))

    def at_the_counter(self, tasks):
        """Staff work through a few sales of the inbox, now and then pressing the wrong key."""
        for action, pick, states, checks, refused, wrong_kind in tasks:
            if action == "pickup":
                self.a_customer_picks_up(pick, states, checks, refused, wrong_kind)
            elif action == "ship":
                self.a_sale_is_shipped(pick, states, refused, wrong_kind)
            elif action == "gift card":
                self.a_gift_card_is_issued(pick)
            else:
                self.staff_cancel_a_sale(pick)

    def a_customer_picks_up(self, pick, states, checks, refused, wrong_kind):
        sale = self._sale(pick, states, shipped=wrong_kind)
        if sale is None:
            return
        given = PickupChecks(True, True, checks == "all")
        try:
            complete_sale(self.engine, sale.id, STAFF, sale.version, connector=CaptureDesk(refused), checks=given)
        except SaleError:
            return
        assert checks == "all" and not refused, "completed without the checks, or with a refused capture"
        assert not ships(sale.shipping_charged, sale.fulfillment), "a shipped sale was completed as a pickup"
        self.how_completed[sale.id] = "pickup checks confirmed"
        event("a pickup completed")
        self._sold(sale.id)

    def a_sale_is_shipped(self, pick, states, refused, wrong_kind):
        sale = self._sale(pick, states, shipped=not wrong_kind)
        if sale is None:
            return
        try:
            complete_sale(self.engine, sale.id, STAFF, sale.version, connector=CaptureDesk(refused), pickup=False)
        except SaleError:
            return
        assert not refused and ships(sale.shipping_charged, sale.fulfillment), "shipped a pickup, or captured nothing"
        self.how_completed[sale.id] = "shipped"
        event("a shipment completed")
        self._sold(sale.id)

    def staff_cancel_a_sale(self, pick):
        sale = self._sale(pick, OPEN)
        if sale is None:
            return
        with self.engine.connect() as conn:
            used = conn.execute(select(func.count()).select_from(GiftCard)
                                .join(WebSaleLine, WebSaleLine.id == GiftCard.sale_line_id)
                                .where(WebSaleLine.sale_id == sale.id, GiftCard.balance < GiftCard.amount)).scalar()
        try:
            voided = cancel_sale(self.engine, sale.id, STAFF, sale.version)
        except SaleError:
            assert used, "a cancel was refused though no card of the sale was used"
            event("a cancel refused: a card was used")
            return
        assert not used, "a sale whose card was spent was cancelled"
        if voided:
            event("a sale with a card cancelled, the card voided")

    def a_gift_card_is_issued(self, pick):
        with self.engine.connect() as conn:
            lines = conn.execute(
                select(WebSaleLine.id).join(Product, Product.id == WebSaleLine.product_id)
                .join(WebSale, WebSale.id == WebSaleLine.sale_id)
                .where(Product.gift_card_placeholder.is_(True), WebSale.state.in_(OPEN))
                .order_by(WebSaleLine.id)).scalars().all()
        if lines:
            self.gift_cards += 1
            try:
                issue_gift_card(self.engine, lines[pick % len(lines)], f"GC-{self.gift_cards}", STAFF)
            except SaleError:
                pass  # this line already has its card

    # --- returns -----------------------------------------------------------------------------------------

    def a_return(self, sale, data):
        ret = start_return(self.engine, sale.id, STAFF)
        restocked: dict[int, int] = {}
        for line in return_view(self.engine, ret).lines:
            left = line.sold - line.returned_elsewhere
            how_many = data.draw(st.sampled_from(["all left", "all left", "one", "none", "one too many"]),
                                 label=f"units of {line.title}")
            units = {"all left": left, "one": min(1, left), "none": 0, "one too many": left + 1}[how_many]
            try:
                set_quantity(self.engine, line.id, units, STAFF)
            except ReturnError:
                assert how_many == "one too many", "a possible quantity was refused"
                continue
            if data.draw(st.sampled_from([False, False, True]), label="edit the tax rate"):
                rate = data.draw(st.sampled_from([Decimal("0"), Decimal("5"), Decimal("13")]), label="rate")
                set_tax_rate(self.engine, line.id, rate, "rate of the customer's province", STAFF)
            restock = data.draw(st.booleans(), label="restock")
            set_restock(self.engine, line.id, restock, STAFF)
            if restock and units:
                product_id = self._return_product(line.id)
                restocked[product_id] = restocked.get(product_id, 0) + units
        shipping = data.draw(st.sampled_from(["all", "all", "part", "none"]), label="shipping")
        if sale.shipping_charged and shipping != "none":
            try:
                line = add_shipping_refund(self.engine, ret, STAFF)  # what is left of it, by default
                if shipping == "part":
                    cents = data.draw(st.integers(1, int(sale.shipping_charged * 100)), label="shipping cents")
                    set_shipping_amount(self.engine, line, Decimal(cents) / 100, STAFF)
                event("shipping put on a return")
            except ReturnError:
                pass  # the shipping was already refunded, or less is left than asked
        outcome = data.draw(st.sampled_from(["post", "post", "post", "abandon", "leave as draft"]), label="then")
        if outcome == "abandon":
            abandon_return(self.engine, ret, STAFF)
        elif outcome == "post":
            try:
                complete_return(self.engine, ret, STAFF, return_view(self.engine, ret).version)
            except ReturnError as refused:
                event(f"a return refused at posting: {str(refused).split(':')[0][:40]}")
                return
            event("a return posted")
            with self.engine.connect() as conn:
                location = conn.execute(select(SaleReturn.location_id).where(SaleReturn.id == ret)).scalar()
            for product, units in restocked.items():
                if self.kinds[product] == "inventory":
                    self.on_hand[(product, location)] = self.on_hand.get((product, location), 0) + units

    def _returnable(self, pick, which):
        """A completed sale: one that shipped, or one already partly returned, when there is one."""
        query = select(WebSale.__table__).where(WebSale.state == "completed").order_by(WebSale.id)
        if which == "shipped":
            query = query.where(WebSale.shipping_charged > 0)
        elif which == "returned before":
            query = query.where(WebSale.id.in_(select(SaleReturn.sale_id).where(SaleReturn.state == "completed")))
        with self.engine.connect() as conn:
            sales = conn.execute(query).all() or conn.execute(
                select(WebSale.__table__).where(WebSale.state == "completed").order_by(WebSale.id)).all()
        return sales[pick % len(sales)]

    def _return_product(self, return_line_id):
        with self.engine.connect() as conn:
            return conn.execute(select(ReturnLine.product_id).where(ReturnLine.id == return_line_id)).scalar()

    def the_catalog_is_imported_again(self, counts, location="Main Street"):
        import_catalog(self.engine, catalog(counts), location, STAFF)
        self._imported(counts, location)

    # --- invariants ----------------------------------------------------------------------------------------

    @invariant()
    def money_never_leaks(self):
        with self.engine.connect() as conn:
            lines = conn.execute(select(WebSaleLine.__table__)).all()
            card_lines = set(conn.execute(select(GiftCard.sale_line_id)).scalars())
            # Sales the web cancelled after their card was used: the value spent is lost, and recorded.
            lost_to_the_web = {int(sale_id) for sale_id in conn.execute(
                select(AuditEntry.entity_id).where(AuditEntry.action == "gift_card_used_before_web_cancel")).scalars()}
            posted = conn.execute(
                select(ReturnLine.__table__, SaleReturn.sale_id).join(SaleReturn, SaleReturn.id == ReturnLine.return_id)
                .where(SaleReturn.state == "completed")).all()
            sales = conn.execute(select(WebSale.__table__)).all()
            returns = conn.execute(select(SaleReturn.sale_id, SaleReturn.refund_total)
                                   .where(SaleReturn.state == "completed")).all()
        for line in lines:
            mine = [r for r in posted if r.sale_line_id == line.id]
            assert -sum(r.quantity for r in mine) <= line.quantity, "more units returned than sold"
            net_charged = money(line.unit_price * line.quantity - line.discount)
            assert -sum(r.refunded_net for r in mine) <= net_charged, "more net refunded than charged"
            edited = any(r.tax_rate != r.charged_tax_rate and r.tax_rate_reason for r in mine)
            if not edited:
                assert -sum(r.refunded_tax for r in mine) <= line.tax_amount, "more tax refunded than charged"
            card_line = line.id in card_lines  # a spent card refunds only what is left on it
            if -sum(r.quantity for r in mine) == line.quantity and not card_line:  # all back: all refunded
                assert -sum(r.refunded_net for r in mine) == net_charged, "a full return's net is not what was charged"
                if not edited:
                    assert -sum(r.refunded_tax for r in mine) == line.tax_amount, "a full return's tax is not the tax charged"
        with self.engine.connect() as conn:
            cards = conn.execute(select(WebSaleLine.sale_id, GiftCard.amount, GiftCard.balance, GiftCard.taken_back)
                                 .join(WebSaleLine, WebSaleLine.id == GiftCard.sale_line_id)).all()
        for sale in sales:
            shipping = -sum(r.refunded_net for r in posted if r.is_shipping and r.sale_id == sale.id)
            assert shipping <= sale.shipping_charged, "shipping refunded more than once"
            refunded = -sum(total for sale_id, total in returns if sale_id == sale.id)
            assert refunded <= sale.captured_amount, "more refunded than captured"
            mine = [card for card in cards if card.sale_id == sale.id]
            assert all(0 <= card.balance <= card.amount - card.taken_back and card.taken_back >= 0 for card in mine), \
                "a card holds more than was put on it less what was taken back"
            # What the customer holds or has had from the cards: everything not taken back.
            on_cards = sum((card.amount - card.taken_back for card in mine), Decimal("0"))
            if sale.id in lost_to_the_web:
                assert sale.state == "cancelled" and on_cards > 0, "a loss recorded where there is none"
            elif sale.state in ("completed", "cancelled"):
                assert refunded + on_cards <= sale.captured_amount, \
                    "money out (refunds and card value) exceeds what was captured"
            else:
                assert on_cards <= sale.total, "cards hold more than the open sale's total"
            if sale.state == "cancelled":
                assert all(card.balance == 0 for card in mine), "a cancelled sale left a funded card"

    @invariant()
    def a_payment_is_captured_once_and_only_by_a_checked_pickup_or_a_shipment(self):
        with self.engine.connect() as conn:
            captures = dict(conn.execute(select(Payment.sale_id, func.count()).where(Payment.amount >= 0)
                                         .group_by(Payment.sale_id)).all())
            sales = conn.execute(select(WebSale.id, WebSale.state, WebSale.captured_amount, WebSale.total)).all()
            notes = dict(conn.execute(select(AuditEntry.entity_id, AuditEntry.note)
                                      .where(AuditEntry.action == "complete")).all())
        for sale in sales:
            if sale.state == "completed":
                assert captures.get(sale.id) == 1 and sale.captured_amount == sale.total
                assert notes[str(sale.id)] == self.how_completed[sale.id]
            else:
                assert sale.id not in captures and sale.captured_amount == 0, f"{sale.state} sale has a capture"

    @invariant()
    def stock_adds_up(self):
        with self.engine.connect() as conn:
            stock = {(p, loc): (h, c) for p, loc, h, c in conn.execute(
                select(Stock.product_id, Stock.location_id, Stock.on_hand, Stock.committed))}
            matched = conn.execute(
                select(WebSaleLine.product_id, WebSale.location_id, func.sum(WebSaleLine.quantity))
                .join(WebSale, WebSale.id == WebSaleLine.sale_id)
                .where(WebSale.state.in_(OPEN), WebSaleLine.product_id.is_not(None), WebSale.fulfillment == "store")
                .group_by(WebSaleLine.product_id, WebSale.location_id)).all()
        open_units = {(product, location): units for product, location, units in matched}
        for product, kind in self.kinds.items():
            for location in self.locations.values():
                key = (product, location)
                if kind == "service":
                    assert key not in stock, "a non-inventory product has stock"
                    continue
                on_hand, committed = stock.get(key, (0, 0))
                assert committed >= 0
                if kind == "placeholder":
                    assert (on_hand, committed) == (self.imported.get(key, 0), 0), "the placeholder moved"
                    continue
                assert on_hand == self.on_hand.get(key, 0), "on hand at a location is not imports + restocks - sales"
                assert committed == open_units.get(key, 0), \
                    "committed at a location is not the matched units of the open sales taking them there"

    @invariant()
    def every_open_sale_can_move_forward_and_is_in_the_inbox(self):
        listed = {row.sale_id for row in inbox(self.engine, limit=10_000).rows}
        with self.engine.connect() as conn:
            open_sales = conn.execute(select(WebSale.id).where(WebSale.state.in_(OPEN))).scalars().all()
        assert set(open_sales) == listed
        for sale_id in open_sales:
            detail = sale_detail(self.engine, sale_id)
            assert set(detail.actions) & set(FORWARD_ACTIONS), f"sale {detail.sale.order_number} is stuck"
            for line in detail.lines:
                if line.needs_product and line.in_resolver:
                    assert resolver_queue(self.engine, only_listing=line.listing_id).items, "not in the queue"

    @invariant()
    def reconciliation_equals_payments_minus_refunds(self):
        today = datetime.now(UTC).date()
        entries = reconciliation(self.engine, today - timedelta(days=1), today + timedelta(days=1))
        with self.engine.connect() as conn:
            by_account = dict(conn.execute(select(PaymentType.account, func.sum(Payment.amount))
                                           .join(PaymentType, PaymentType.id == Payment.payment_type_id)
                                           .group_by(PaymentType.account)).all())
            captured = conn.execute(select(func.coalesce(func.sum(WebSale.captured_amount), 0))).scalar()
            refunded = conn.execute(select(func.coalesce(func.sum(SaleReturn.refund_total), 0))
                                    .where(SaleReturn.state == "completed")).scalar()
        for account in {e.account for e in entries} | set(by_account):
            assert sum((e.net for e in entries if e.account == account), Decimal("0")) == by_account.get(account, 0)
        assert sum((e.payments_in for e in entries), Decimal("0")) == captured
        assert sum((e.refunds_out for e in entries), Decimal("0")) == refunded


@pytest.fixture(params=BACKENDS)
def template(request):
    folder = Path(tempfile.mkdtemp(prefix="tandem-state-machine-"))
    made = Template(request.param, folder)
    try:
        yield made
    finally:
        made.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_shop_keeps_its_invariants_whatever_staff_and_the_web_do(template):
    # PostgreSQL answers each step several times slower; it runs fewer sequences of the same kind.
    examples = EXAMPLES or MUTATION_EXAMPLES or (30 if template.backend == "sqlite" else 12)
    Shop.template = template
    run = Shop.TestCase
    phases = [phase for phase in Phase if not (MUTATION_EXAMPLES and phase == Phase.shrink)]
    run.settings = settings(max_examples=examples, stateful_step_count=40, deadline=None,
                            derandomize=not EXAMPLES, database=None, phases=phases,
                            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    run().runTest()
