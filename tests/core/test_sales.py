"""The rules of web sales after import (SPEC §2, §4-5, §7-9, §12-13, §16)."""

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from core.audit import Actor
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.connectors.base import ConnectorError, OrderLine, WebOrder
from core.dbtypes import utcnow
from core.models import (
    AuditEntry, GiftCard, Location, Payment, PaymentType, Platform, PosCustomer, Product, SalesChannel, Stock,
    WebSale, WebSaleLine,
)
from core.sync import import_orders
from core.sync.settle import settle_sales
from core.customers import create_customer_from_sale, link_customer, suggest_customers
from core.gift_cards import issue_gift_card
from core.inbox import inbox
from core.pickup import PickupChecks, cancel_sale, complete_sale
from core.sales import SaleError
from core.supplier import enable_supplier_fulfillment, record_supplier_document

ANNA = Actor("anna", "192.0.2.1")
ALL_CHECKS = PickupChecks(card_matches=True, signature=True, photo_id=True)
CATALOG = b"""sku,description,upc,price,quantity,non_inventory,gift_card
TUBE,Tube 700x25,036000241457,8.99,10,no,no
CHAIN,Chain 11s,,39.50,5,no,no
GIFT-CARD,Gift card,,0.00,,yes,yes
"""


@pytest.fixture
def channel(engine):
    import_catalog(engine, CATALOG, "Main Street", ANNA)
    with engine.begin() as conn:
        return add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com",
                           conn.execute(select(Location.id)).scalar())


def order(number: int, *lines: tuple[str, int], cancelled=False, supplier=False, shipped_at=None,
          email="ana@example.com", updated=0) -> WebOrder:
    when = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    return WebOrder(
        external_id=f"o{number}", order_number=f"#{number}", status="authorized", ordered_at=when,
        updated_at=when + timedelta(minutes=updated), currency="USD", customer_name="Ana Lima", customer_email=email,
        customer_phone="555-0100", total=Decimal("50.00"), cancelled=cancelled, supplier_fulfilled=supplier,
        shipped_at=shipped_at,
        lines=[OrderLine(f"{number}-{n}", code, qty, Decimal("10.00"), product_code=code, tax_rate=Decimal("8.25"))
               for n, (code, qty) in enumerate(lines)],
    )


def stock(engine, sku="TUBE"):
    with engine.connect() as conn:
        return tuple(conn.execute(select(Stock.on_hand, Stock.committed).join(Product, Product.id == Stock.product_id)
                                  .where(Product.sku == sku)).one())


def sale(engine, number):
    with engine.connect() as conn:
        return conn.execute(select(WebSale.__table__).where(WebSale.order_number == f"#{number}")).one()


def store(engine, channel, *orders, now=None):
    with engine.begin() as conn:
        import_orders(conn, channel, list(orders), now)
        if now:
            settle_sales(conn, channel, now)


def test_an_imported_matched_line_commits_its_units_once_whatever_the_replays(engine, channel):
    orders = [order(1, ("TUBE", 2)), order(2, ("TUBE", 1), ("CHAIN", 1)), order(3, ("CHAIN", 2))]
    rng = random.Random(4)
    for _ in range(3):
        shuffled = orders[:]
        rng.shuffle(shuffled)
        for one in shuffled:
            store(engine, channel, one)
    assert stock(engine, "TUBE") == (10, 3) and stock(engine, "CHAIN") == (5, 3)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSale)).scalar() == 3
        assert conn.execute(select(func.count()).select_from(WebSaleLine)).scalar() == 4


def test_cancelled_on_the_web_before_completion_releases_the_units_once(engine, channel):
    store(engine, channel, order(1, ("TUBE", 2)))
    assert stock(engine) == (10, 2)
    for _ in range(2):
        store(engine, channel, order(1, ("TUBE", 2), cancelled=True, updated=5))
    assert stock(engine) == (10, 0)
    assert sale(engine, 1).state == "cancelled"


def test_completing_moves_units_from_committed_to_sold_once(engine, channel):
    store(engine, channel, order(1, ("TUBE", 2)))
    s = sale(engine, 1)
    complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS)
    assert stock(engine) == (8, 0)
    store(engine, channel, order(1, ("TUBE", 2), updated=9))
    store(engine, channel, order(1, ("TUBE", 2), cancelled=True, updated=10))
    assert stock(engine) == (8, 0) and sale(engine, 1).state == "completed"


def test_a_line_matched_too_late_to_be_committed_is_sold_straight_from_on_hand(engine, channel):
    """The sync's stages one by one: the order stored, its lines matched and the sale made ready,
    but the commit stage not run yet. Completing it takes its units off on hand all the same."""
    from core.sync.matching import match_sale_lines
    from core.sync.orders import store_orders
    from core.sync.settle import refresh_states

    with engine.begin() as conn:
        store_orders(conn, channel, [order(1, ("TUBE", 2), ("CHAIN", 1))], datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
        match_sale_lines(conn, channel)
        refresh_states(conn, channel)
    s = sale(engine, 1)
    assert s.state == "ready" and stock(engine) == (10, 0) and stock(engine, "CHAIN") == (5, 0)
    complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS)
    assert stock(engine) == (8, 0) and stock(engine, "CHAIN") == (4, 0)
    with engine.connect() as conn:
        assert set(conn.execute(select(WebSaleLine.stock_state)).scalars()) == {"sold"}


def test_staff_cancel_releases_the_units(engine, channel):
    store(engine, channel, order(1, ("TUBE", 3)))
    s = sale(engine, 1)
    cancel_sale(engine, s.id, ANNA, s.version)
    assert stock(engine) == (10, 0)
    with pytest.raises(SaleError, match="already cancelled"):
        cancel_sale(engine, s.id, ANNA, s.version + 1)


def test_supplier_fulfillment_needs_the_three_signed_documents(engine, channel):
    with pytest.raises(SaleError, match="Internet addendum.*packing-slip.*retailer contract"):
        enable_supplier_fulfillment(engine, channel, ANNA)
    record_supplier_document(engine, channel, "internet_addendum", date(2026, 1, 5), ANNA)
    record_supplier_document(engine, channel, "packing_slip_form", date(2026, 1, 5), ANNA)
    with pytest.raises(SaleError, match="a current retailer contract is not on file"):
        enable_supplier_fulfillment(engine, channel, ANNA)
    record_supplier_document(engine, channel, "retailer_contract", date(2026, 1, 6), ANNA)
    enable_supplier_fulfillment(engine, channel, ANNA)
    with engine.connect() as conn:
        assert conn.execute(select(SalesChannel.supplier_fulfillment).where(SalesChannel.id == channel)).scalar()


def enable_supplier(engine, channel, route_to=None):
    for kind in ("internet_addendum", "packing_slip_form", "retailer_contract"):
        record_supplier_document(engine, channel, kind, date(2026, 1, 5), ANNA)
    enable_supplier_fulfillment(engine, channel, ANNA, route_to)


def test_supplier_orders_are_held_until_0230_eastern_on_the_next_business_day(engine, channel):
    with engine.begin() as conn:
        warehouse = conn.execute(insert(Location.__table__).values(name="Warehouse", created_at=utcnow())).inserted_primary_key[0]
    enable_supplier(engine, channel, route_to=warehouse)
    shipped = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # Wednesday before Thanksgiving
    store(engine, channel, order(1, ("TUBE", 1), supplier=True, shipped_at=shipped),
          now=datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    held = sale(engine, 1)
    assert held.state == "held" and held.fulfillment == "supplier" and held.location_id == warehouse
    assert held.held_until == datetime(2026, 11, 27, 7, 30, tzinfo=UTC)  # Friday 02:30 EST
    row = inbox(engine).rows[0]
    assert row.status.startswith("held until ")
    with engine.begin() as conn:
        settle_sales(conn, channel, datetime(2026, 11, 27, 7, 29, tzinfo=UTC))
    assert sale(engine, 1).state == "held"
    with engine.begin() as conn:
        settle_sales(conn, channel, datetime(2026, 11, 27, 7, 30, tzinfo=UTC))
    assert sale(engine, 1).state == "ready"
    assert stock(engine) == (10, 0), "the supplier's shipment never touches the shop's stock"
    released = sale(engine, 1)
    complete_sale(engine, released.id, ANNA, released.version, pickup=False)
    assert stock(engine) == (10, 0)


def test_a_supplier_shipped_sale_is_never_completed_as_a_pickup(engine, channel):
    for kind in ("internet_addendum", "packing_slip_form", "retailer_contract"):
        record_supplier_document(engine, channel, kind, date(2026, 1, 5), ANNA)
    enable_supplier_fulfillment(engine, channel, ANNA, today=date(2026, 11, 26))
    store(engine, channel, order(1, ("TUBE", 1), supplier=True, shipped_at=datetime(2026, 11, 25, 20, 0, tzinfo=UTC)),
          now=datetime(2026, 11, 27, 7, 30, tzinfo=UTC))
    released = sale(engine, 1)
    assert (released.state, released.fulfillment, released.shipping_charged) == ("ready", "supplier", 0)
    with pytest.raises(SaleError, match="shipped to the customer, not picked up"):
        complete_sale(engine, released.id, ANNA, released.version, checks=ALL_CHECKS)
    assert sale(engine, 1).state == "ready" and sale(engine, 1).captured_amount == 0
    complete_sale(engine, released.id, ANNA, released.version, pickup=False)
    assert sale(engine, 1).state == "completed"


def test_a_supplier_tagged_order_while_supplier_fulfilment_is_off_waits_for_a_person(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1), supplier=True, shipped_at=datetime(2026, 11, 25, tzinfo=UTC)))
    held = sale(engine, 1)
    assert (held.state, held.fulfillment, held.held_until) == ("held", "supplier", None)
    assert "supplier fulfilment is off" in held.hold_reason
    assert stock(engine) == (10, 0), "the shop's own units are not taken for an order the supplier may ship"
    with engine.begin() as conn:  # the nightly sync's settling, a year later, moves nothing
        settle_sales(conn, channel, datetime(2027, 11, 26, tzinfo=UTC))
    assert sale(engine, 1).state == "held" and stock(engine) == (10, 0)
    assert inbox(engine).rows[0].status == "held: decide who ships"
    from core.inbox import sale_detail
    from core.supplier import decide_supplier_hold

    assert "decide_supplier" in sale_detail(engine, held.id).actions
    with pytest.raises(SaleError, match="supplier fulfilment is off"):
        decide_supplier_hold(engine, held.id, ANNA, held.version, shop_ships=False)
    decide_supplier_hold(engine, held.id, ANNA, held.version, shop_ships=True)
    decided = sale(engine, 1)
    assert (decided.state, decided.fulfillment, decided.hold_reason) == ("ready", "store", None)
    assert stock(engine) == (10, 1)


def test_a_supplier_tagged_order_after_the_contract_lapsed_waits_for_a_person(engine, channel):
    for kind in ("internet_addendum", "packing_slip_form"):
        record_supplier_document(engine, channel, kind, date(2026, 1, 5), ANNA)
    record_supplier_document(engine, channel, "retailer_contract", date(2026, 1, 5), ANNA, ends_on=date(2026, 10, 31))
    enable_supplier_fulfillment(engine, channel, ANNA, today=date(2026, 10, 1))
    with pytest.raises(SaleError, match="ended on 2026-10-31"):
        enable_supplier_fulfillment(engine, channel, ANNA, today=date(2026, 11, 1))
    shipped = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # Wednesday before Thanksgiving
    store(engine, channel, order(1, ("TUBE", 1), supplier=True, shipped_at=shipped),
          now=datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    held = sale(engine, 1)
    assert held.state == "held" and held.held_until is None
    assert "a current retailer contract ended on 2026-10-31" in held.hold_reason
    assert stock(engine) == (10, 0)
    from core.supplier import decide_supplier_hold

    with pytest.raises(SaleError, match="ended on 2026-10-31"):
        decide_supplier_hold(engine, held.id, ANNA, held.version, shop_ships=False,
                             now=datetime(2026, 11, 26, 13, 0, tzinfo=UTC))
    # The renewed contract comes in; the supplier ships it, and it waits for its release time.
    record_supplier_document(engine, channel, "retailer_contract", date(2026, 11, 20), ANNA, ends_on=date(2027, 12, 31))
    # The new document changed the reason the sale gives (and so its version): look at it again.
    decide_supplier_hold(engine, held.id, ANNA, sale(engine, 1).version, shop_ships=False,
                         now=datetime(2026, 11, 26, 13, 0, tzinfo=UTC))
    decided = sale(engine, 1)
    assert decided.state == "held" and decided.held_until == datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    assert decided.hold_reason is None and stock(engine) == (10, 0)


def test_a_gift_card_placeholder_waits_for_a_real_card(engine, channel):
    store(engine, channel, order(1, ("GIFT-CARD", 1), ("TUBE", 1)))
    s = sale(engine, 1)
    assert s.state == "gift_card_to_issue"
    with pytest.raises(SaleError, match="gift card is still to issue"):
        complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS)
    with engine.connect() as conn:
        line = conn.execute(select(WebSaleLine.id).where(WebSaleLine.product_code == "GIFT-CARD")).scalar()
    assert issue_gift_card(engine, line, "GC-0001", ANNA) == Decimal("10.00")
    with engine.connect() as conn:
        card = conn.execute(select(GiftCard.amount, GiftCard.balance, GiftCard.issued_by)).one()
    assert card == (Decimal("10.00"), Decimal("10.00"), "anna@192.0.2.1")
    assert sale(engine, 1).state == "ready"
    assert stock(engine, "TUBE") == (10, 1)
    with pytest.raises(SaleError, match="already"):
        issue_gift_card(engine, line, "GC-0002", ANNA)


def new_customer(engine, **values) -> int:
    from core.customers import add_customer

    with engine.begin() as conn:
        return add_customer(conn, **values)


def customer_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(
            select(PosCustomer.id, PosCustomer.name, PosCustomer.email, PosCustomer.phone, PosCustomer.address)))


def test_a_web_sale_gets_the_one_pos_customer_with_its_email_and_changes_nothing_of_theirs(engine, channel):
    existing = new_customer(engine, name="Ana L.", email="ANA@example.com", phone="555-9999")
    before = customer_rows(engine)
    store(engine, channel, order(1, ("TUBE", 1)))  # the web customer is "Ana Lima", ana@example.com, 555-0100
    s = sale(engine, 1)
    assert (s.pos_customer_id, s.customer_link) == (existing, "email")
    assert s.customer_name == "Ana Lima" and customer_rows(engine) == before, "the POS customer's data is theirs"


def test_two_pos_customers_with_one_email_are_left_to_a_person(engine, channel):
    first = new_customer(engine, name="Ana L.", email="ana@example.com")
    new_customer(engine, name="Ana's shop", email="Ana@Example.com")
    store(engine, channel, order(1, ("TUBE", 1)))
    s = sale(engine, 1)
    assert s.pos_customer_id is None
    assert {c[0] for c in suggest_customers(engine, s.id)} >= {first}
    link_customer(engine, s.id, first, ANNA, s.version)
    assert sale(engine, 1).customer_link == "person"
    # The same web customer again: the person's choice is remembered, whatever the emails' count.
    store(engine, channel, order(2, ("TUBE", 1)))
    assert (sale(engine, 2).pos_customer_id, sale(engine, 2).customer_link) == (first, "earlier")


def test_a_person_linking_a_web_email_to_a_customer_is_followed_for_that_email(engine, channel):
    shop_account = new_customer(engine, name="Lima Cycles", email="accounts@lima.example")
    store(engine, channel, order(1, ("TUBE", 1), email="new@example.com"))
    s = sale(engine, 1)
    assert s.pos_customer_id is None, "no POS customer has that email"
    link_customer(engine, s.id, shop_account, ANNA, s.version)
    store(engine, channel, order(2, ("TUBE", 1), email="NEW@example.com"))
    assert sale(engine, 2).pos_customer_id == shop_account
    store(engine, channel, order(3, ("TUBE", 1), email="other@example.com"))
    s3 = sale(engine, 3)
    assert s3.pos_customer_id is None
    created = create_customer_from_sale(engine, s3.id, ANNA, s3.version)
    with engine.connect() as conn:
        assert conn.execute(select(PosCustomer.name, PosCustomer.email).where(PosCustomer.id == created)).one() == (
            "Ana Lima", "other@example.com")
        actions = set(conn.execute(select(AuditEntry.action)).scalars())
    assert {"link_customer", "create_customer"} <= actions


def test_staff_find_pos_customers_by_name_email_or_phone(engine):
    from core.customers import search_customers

    ana = new_customer(engine, name="Ana Lima", email="ana@example.com", phone="555-0100")
    new_customer(engine, name="Sam Okafor", email="sam@example.com", phone="555-0199")
    assert [row[0] for row in search_customers(engine, "lima")] == [ana]
    assert [row[0] for row in search_customers(engine, "ANA@EXAMPLE")] == [ana]
    assert [row[0] for row in search_customers(engine, "0100")] == [ana]
    assert len(search_customers(engine, "555")) == 2 and search_customers(engine, "100%") == []
    assert search_customers(engine, "  ") == []


class FakeConnector:
    def __init__(self, fail: str | None = None, platform_captures=True):
        self.fail, self.captured, self.platform_captures = fail, [], platform_captures

    def capture(self, external_id, amount):
        if self.fail:
            raise ConnectorError(self.fail)
        self.captured.append((external_id, amount))
        return "gid://shopify/OrderTransaction/9" if self.platform_captures else None


def test_pickup_needs_the_checks_captures_and_records_a_card_not_present_payment(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1)))
    s = sale(engine, 1)
    with pytest.raises(SaleError, match="government photo ID"):
        complete_sale(engine, s.id, ANNA, s.version, checks=PickupChecks(card_matches=True, signature=True))
    connector = FakeConnector()
    message = complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS, connector=connector)
    assert "completed; $50.00 captured" in message and connector.captured == [("o1", Decimal("50.00"))]
    with engine.connect() as conn:
        payment = conn.execute(select(Payment.amount, Payment.reference, PaymentType.account, PaymentType.card_present)
                               .join(PaymentType, PaymentType.id == Payment.payment_type_id)).one()
    assert payment == (Decimal("50.00"), "gid://shopify/OrderTransaction/9", "Online merchant account", False)
    assert inbox(engine).total == 0, "completed sales leave the inbox"
    assert [r.order_number for r in inbox(engine, history=True).rows] == ["#1"]


def test_completed_without_the_store_the_payment_is_recorded_as_captured_elsewhere(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1)))
    s = sale(engine, 1)
    message = complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS)  # no connector: nothing captured here
    assert message == "Sale #1 completed; $50.00 recorded as captured elsewhere."
    with engine.connect() as conn:
        assert conn.execute(select(Payment.amount, Payment.reference, Payment.captured_elsewhere,
                                   Payment.received_by)).one() == (Decimal("50.00"), None, True, str(ANNA))


def test_a_failed_capture_leaves_the_sale_open_with_the_reason(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1)))
    s = sale(engine, 1)
    with pytest.raises(SaleError, match="could not be captured: authorization expired"):
        complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS, connector=FakeConnector("authorization expired"))
    failed = sale(engine, 1)
    assert failed.state == "capture_failed" and failed.capture_error == "authorization expired"
    assert stock(engine) == (10, 1)
    assert inbox(engine).rows[0].status == "capture failed"
    complete_sale(engine, failed.id, ANNA, failed.version, checks=ALL_CHECKS, connector=FakeConnector(platform_captures=False))
    assert sale(engine, 1).state == "completed" and stock(engine) == (9, 0)
    with engine.connect() as conn:
        assert conn.execute(select(Payment.captured_elsewhere)).scalar() is True


def test_a_sale_captured_after_a_refused_capture_records_who_completed_it_and_no_error(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1)))
    s = sale(engine, 1)
    with pytest.raises(SaleError, match="could not be captured"):
        complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS, connector=FakeConnector("card declined"))
    failed = sale(engine, 1)
    assert (failed.completed_at, failed.completed_by, failed.capture_error) == (None, None, "card declined")
    complete_sale(engine, failed.id, ANNA, failed.version, checks=ALL_CHECKS, connector=FakeConnector())
    done = sale(engine, 1)
    assert (done.state, done.completed_by, done.capture_error, done.captured_amount) == (
        "completed", str(ANNA), None, Decimal("50.00"))
    assert done.completed_at is not None


def test_two_people_completing_the_same_sale(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1)))
    s = sale(engine, 1)
    complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS)
    with pytest.raises(SaleError):
        complete_sale(engine, s.id, Actor("bruno"), s.version, checks=ALL_CHECKS)
    assert stock(engine) == (9, 0)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Payment)).scalar() == 1


def test_the_inbox_pages_newest_first_and_filters(engine, channel):
    for n in range(1, 8):
        store(engine, channel, replace(order(n, ("TUBE", 1)), ordered_at=datetime(2026, 11, 20 + n, tzinfo=UTC)))
    store(engine, channel, replace(order(9, ("NOPE", 1)), ordered_at=datetime(2026, 11, 29, tzinfo=UTC)))
    first = inbox(engine, limit=3)
    assert [r.order_number for r in first.rows] == ["#9", "#7", "#6"] and first.total == 8 and first.has_more
    second = inbox(engine, limit=3, after=first.rows[-1].key)
    assert [r.order_number for r in second.rows] == ["#5", "#4", "#3"]
    assert [r.order_number for r in inbox(engine, status="waiting_match").rows] == ["#9"]
    assert inbox(engine).rows[0].status == "needs match" and inbox(engine).rows[1].status == "ready for pickup"


BRANDS = b"""sku,description,brand,price,quantity
TREK-1,Trek bottle cage,Trek,12.00,4
GIANT-1,Giant pump,Giant,30.00,2
"""


def test_a_store_with_several_suppliers_needs_each_brands_documents(engine, channel):
    import_catalog(engine, BRANDS, "Main Street", ANNA)
    for kind in ("internet_addendum", "packing_slip_form", "retailer_contract"):
        record_supplier_document(engine, channel, kind, date(2026, 1, 5), ANNA, brand="Trek")
    # One brand's complete set is enough to switch supplier fulfilment on ...
    enable_supplier_fulfillment(engine, channel, ANNA, today=date(2026, 11, 1))
    shipped = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    store(engine, channel, order(1, ("TREK-1", 1), supplier=True, shipped_at=shipped), now=now)
    trek = sale(engine, 1)
    assert trek.state == "held" and trek.held_until == datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    assert trek.hold_reason is None
    # ... but an order for another brand's products waits for a person, saying which brand lacks what.
    store(engine, channel, order(2, ("GIANT-1", 1), ("TREK-1", 1), supplier=True, shipped_at=shipped), now=now)
    giant = sale(engine, 2)
    assert giant.held_until is None and giant.hold_reason == (
        "tagged supplier-shipped, but the brand's Internet addendum is not on file for Giant; the custom packing-slip "
        "information form is not on file for Giant; a current retailer contract is not on file for Giant")
    assert stock(engine, "GIANT-1") == (2, 0) and stock(engine, "TREK-1") == (4, 0)
    # The web store's own set (every brand) covers Giant once recorded; a brand is one whatever its capitals.
    for kind in ("internet_addendum", "packing_slip_form", "retailer_contract"):
        record_supplier_document(engine, channel, kind, date(2026, 11, 20), ANNA)
    record_supplier_document(engine, channel, "retailer_contract", date(2026, 11, 20), ANNA, brand="TREK",
                             ends_on=date(2026, 11, 22))
    from core.supplier import decide_supplier_hold, supplier_setup

    with pytest.raises(SaleError, match="a current retailer contract for Trek ended on 2026-11-22"):
        decide_supplier_hold(engine, giant.id, ANNA, sale(engine, 2).version, shop_ships=False, now=now)
    record_supplier_document(engine, channel, "retailer_contract", date(2026, 11, 23), ANNA, brand="trek")
    decide_supplier_hold(engine, giant.id, ANNA, sale(engine, 2).version, shop_ships=False, now=now)
    assert sale(engine, 2).held_until == datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    (setup,) = supplier_setup(engine, today=date(2026, 11, 26))
    assert [(s.brand, s.ready) for s in setup.sets] == [("", True), ("Trek", True)]


def test_a_sale_cancelled_at_the_shop_stays_cancelled_when_the_website_cannot_be_told(engine, channel, tmp_path):
    from core.pickup import cancel_with_store

    store(engine, channel, order(1, ("TUBE", 2)))
    assert stock(engine) == (10, 2)
    s = sale(engine, 1)
    # No secrets for this web store: it cannot be reached, and the cancel here must not depend on it.
    said = cancel_with_store(engine, s.id, ANNA, s.version, secrets_path=tmp_path / "secrets.toml")
    assert said.startswith("Cancelled here.") and "cancel the order there" in said
    assert sale(engine, 1).state == "cancelled" and stock(engine) == (10, 0)
    with engine.connect() as conn:
        assert conn.execute(select(AuditEntry.note).where(AuditEntry.action == "cancel_on_website")).scalar() == said
    with pytest.raises(SaleError, match="already cancelled"):
        cancel_with_store(engine, s.id, ANNA, sale(engine, 1).version, secrets_path=tmp_path / "secrets.toml")


def test_every_change_to_a_sale_gives_it_a_version_it_never_had(engine, channel):
    """A terminal that looked at a sale before any later change is turned away, however many
    changes came between: a version number is never used twice."""
    from core.sales import change_line_product

    store(engine, channel, order(1, ("TUBE", 1)))
    first_look = sale(engine, 1)
    store(engine, channel, order(1, ("TUBE", 1), updated=5))  # the order changed on the website
    second_look = sale(engine, 1)
    assert second_look.version != first_look.version
    with engine.connect() as conn:
        line = conn.execute(select(WebSaleLine.id).where(WebSaleLine.sale_id == second_look.id)).scalar()
        chain = conn.execute(select(Product.id).where(Product.sku == "CHAIN")).scalar()
    change_line_product(engine, line, chain, ANNA, price_confirmed=True)  # a third terminal changes the line
    for seen in (first_look, second_look):
        with pytest.raises(SaleError, match="someone else changed this sale"):
            complete_sale(engine, seen.id, ANNA, seen.version, checks=ALL_CHECKS)
    assert sale(engine, 1).state == "ready" and sale(engine, 1).captured_amount == 0
    assert stock(engine, "CHAIN") == (5, 1) and stock(engine, "TUBE") == (10, 0)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Payment)).scalar() == 0
