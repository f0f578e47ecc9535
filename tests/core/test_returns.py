"""Returns, tax edits, shipping refunds, and reconciliation by account (SPEC §7, §14-15)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.audit import Actor
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.connectors.base import OrderLine, WebOrder
from core.models import (
    AuditEntry, Location, Payment, PaymentType, Platform, Product, SalesChannel, Stock, WebSale,
)
from core.sync import import_orders
from core.reconciliation import parse_iif, reconciliation, to_csv, to_iif
from core.returns import (
    ReturnError, add_shipping_refund, complete_return, find_sales, line_amounts, return_view, set_quantity,
    set_restock, set_tax_rate, start_return,
)
from core.pickup import PickupChecks, complete_sale

ANNA = Actor("anna", "192.0.2.1")
CATALOG = b"""sku,description,upc,price,quantity,non_inventory
TUBE,Tube 700x25,036000241457,8.99,10,no
LIGHT,Front light,,45.00,4,no
SHIP-REFUND,Shipping refund,,0.00,,yes
"""


@pytest.fixture
def sold(engine):
    """A completed web sale: 3 tubes taxed 8.25 %, 1 light untaxed online, 9.95 shipping taxed 5 %."""
    import_catalog(engine, CATALOG, "Main Street", ANNA)
    with engine.begin() as conn:
        channel = add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com",
                              conn.execute(select(Location.id)).scalar())
        now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
        import_orders(conn, channel, [WebOrder(
            "o1", "#1001", "authorized", now, now, "USD", customer_email="kim@example.com",
            shipping=Decimal("9.95"), shipping_tax=Decimal("0.50"), total=Decimal("84.17"),
            lines=[OrderLine("l1", "Tube 700x25", 3, Decimal("8.99"), product_code="TUBE", tax_rate=Decimal("8.25"),
                             barcode="036000241457"),
                   OrderLine("l2", "Front light", 1, Decimal("45.00"), product_code="LIGHT", tax_rate=Decimal("0"))])])
    with engine.connect() as conn:
        sale = conn.execute(select(WebSale.__table__)).one()
    complete_sale(engine, sale.id, ANNA, sale.version, pickup=False)  # shipped: it carries shipping
    return sale.id


def lines(engine, return_id):
    return {line.title: line for line in return_view(engine, return_id).lines}


def on_hand(engine, sku):
    with engine.connect() as conn:
        return conn.execute(select(Stock.on_hand).join(Product, Product.id == Stock.product_id)
                            .where(Product.sku == sku)).scalar()


def test_the_sale_is_found_by_order_number_email_or_scanned_barcode(engine, sold):
    for text in ("#1001", "1001", "KIM@example.com", "0036000241457"):
        assert [row[0] for row in find_sales(engine, text)] == [sold], text
    assert find_sales(engine, "#9999") == []


def test_each_line_defaults_to_the_rate_actually_charged(engine, sold):
    ret = start_return(engine, sold, ANNA)
    by_title = lines(engine, ret)
    assert by_title["Tube 700x25"].tax_rate == Decimal("8.25")
    assert by_title["Front light"].tax_rate == Decimal("0"), "untaxed online, refunded untaxed"
    set_quantity(engine, by_title["Front light"].id, 1, ANNA)
    assert return_view(engine, ret).totals == (Decimal("-45.00"), Decimal("0.00"), Decimal("-45.00"))


def test_a_rate_change_needs_a_reason_and_is_audited(engine, sold):
    ret = start_return(engine, sold, ANNA)
    tube = lines(engine, ret)["Tube 700x25"]
    with pytest.raises(ReturnError, match="why"):
        set_tax_rate(engine, tube.id, Decimal("0"), " ", ANNA)
    for bad in (Decimal("-1"), Decimal("100.5")):
        with pytest.raises(ReturnError, match="between 0 and 100"):
            set_tax_rate(engine, tube.id, bad, "typo", ANNA)
    set_tax_rate(engine, tube.id, Decimal("0"), "internet sales are untaxed here", ANNA)
    assert lines(engine, ret)["Tube 700x25"].tax_rate == Decimal("0")
    assert lines(engine, ret)["Tube 700x25"].charged_tax_rate == Decimal("8.25")
    with engine.connect() as conn:
        entry = conn.execute(select(AuditEntry.__table__).where(AuditEntry.action == "tax_rate")).one()
    assert (entry.actor, entry.client, entry.old_value, entry.new_value, entry.note) == (
        "anna", "192.0.2.1", "8.25", "0", "internet sales are untaxed here")


def test_the_shipping_refund_is_minus_one_times_what_was_charged(engine, sold):
    ret = start_return(engine, sold, ANNA)
    add_shipping_refund(engine, ret, ANNA)
    shipping = lines(engine, ret)["Shipping refund"]
    assert (shipping.quantity, shipping.unit_price, shipping.is_shipping) == (-1, Decimal("9.95"), True)
    assert shipping.tax_rate == Decimal("5.0251"), "the shipping tax rate charged (0.50 on 9.95)"
    with pytest.raises(ReturnError, match="already"):
        add_shipping_refund(engine, ret, ANNA)
    other = start_return(engine, sold, ANNA)
    with pytest.raises(ReturnError, match=r"at most the \$9.95 charged"):
        add_shipping_refund(engine, other, ANNA, Decimal("12.00"))


def test_partial_returns_across_two_returns_never_exceed_the_sale(engine, sold):
    first = start_return(engine, sold, ANNA)
    set_quantity(engine, lines(engine, first)["Tube 700x25"].id, 2, ANNA)
    complete_return(engine, first, ANNA, return_view(engine, first).version)
    second = start_return(engine, sold, ANNA)
    tube = lines(engine, second)["Tube 700x25"]
    assert tube.returned_elsewhere == 2
    with pytest.raises(ReturnError, match="only 1 of 3 sold can still come back"):
        set_quantity(engine, tube.id, 2, ANNA)
    set_quantity(engine, tube.id, 1, ANNA)
    with pytest.raises(ReturnError):
        set_quantity(engine, tube.id, -1, ANNA)


def test_returned_units_go_back_on_hand_unless_marked_do_not_restock(engine, sold):
    assert on_hand(engine, "TUBE") == 7 and on_hand(engine, "LIGHT") == 3
    ret = start_return(engine, sold, ANNA)
    by_title = lines(engine, ret)
    set_quantity(engine, by_title["Tube 700x25"].id, 2, ANNA)
    set_quantity(engine, by_title["Front light"].id, 1, ANNA)
    set_restock(engine, by_title["Front light"].id, False, ANNA)  # damaged
    add_shipping_refund(engine, ret, ANNA)
    complete_return(engine, ret, ANNA, return_view(engine, ret).version)
    assert on_hand(engine, "TUBE") == 9 and on_hand(engine, "LIGHT") == 3


@pytest.mark.parametrize(("quantity", "price", "rate", "net", "tax", "total"), [
    (-1, "19.99", "14.975", "-19.99", "-2.99", "-22.98"),
    (-3, "33.33", "4.7125", "-99.99", "-4.71", "-104.70"),
    (-1, "10.00", "8.875", "-10.00", "-0.89", "-10.89"),
    (-1, "2.50", "5", "-2.50", "-0.13", "-2.63"),
    (-2, "0.05", "10", "-0.10", "-0.01", "-0.11"),
    (-1, "9.95", "0", "-9.95", "0.00", "-9.95"),
])
def test_rounding_on_awkward_rates_matches_the_hand_computed_table(quantity, price, rate, net, tax, total):
    assert line_amounts(quantity, Decimal(price), Decimal(rate)) == (Decimal(net), Decimal(tax), Decimal(total))


def test_shares_of_what_was_charged_add_up_to_it_and_nothing_is_shared_from_nothing():
    from core.returns import share

    # 2.22 of tax on 3 units, refunded one unit at a time: 0.74 each, exactly 2.22 in all.
    assert [share(Decimal("2.22"), 3, before, 1) for before in range(3)] == [Decimal("0.74")] * 3
    # 1.00 on 3 units: 0.33, 0.34, 0.33, never a cent more than charged.
    assert [share(Decimal("1.00"), 3, before, 1) for before in range(3)] == [
        Decimal("0.33"), Decimal("0.34"), Decimal("0.33")]
    assert share(Decimal("1.00"), 3, 0, 3) == Decimal("1.00")
    # Nothing sold or charged (a line of quantity 0, no shipping): there is nothing to share.
    assert share(Decimal("0.00"), 0, 0, 1) == Decimal("0.00")
    assert share(Decimal("9.95"), Decimal("0.00"), Decimal("0.00"), Decimal("9.95")) == Decimal("0.00")


def test_the_refund_goes_to_the_original_payments_account_and_the_totals_are_exact(engine, sold):
    ret = start_return(engine, sold, ANNA)
    by_title = lines(engine, ret)
    set_quantity(engine, by_title["Tube 700x25"].id, 1, ANNA)
    set_tax_rate(engine, by_title["Tube 700x25"].id, Decimal("14.975"), "provincial rate", ANNA)
    add_shipping_refund(engine, ret, ANNA)
    shown = return_view(engine, ret).totals[2]
    refunded = complete_return(engine, ret, ANNA, return_view(engine, ret).version)
    assert refunded == shown == Decimal("-8.99") + Decimal("-1.35") + Decimal("-9.95") + Decimal("-0.50")
    with engine.connect() as conn:
        payments = conn.execute(select(Payment.amount, PaymentType.account)
                                .join(PaymentType, PaymentType.id == Payment.payment_type_id)
                                .order_by(Payment.id)).all()
    assert payments[-1] == (refunded, "Online merchant account")
    assert payments[0].account == payments[-1].account
    with pytest.raises(ReturnError, match="completed"):
        set_quantity(engine, by_title["Front light"].id, 1, ANNA)


def test_reconciliation_by_account_in_csv_and_iif(engine, sold):
    ret = start_return(engine, sold, ANNA)
    set_quantity(engine, lines(engine, ret)["Front light"].id, 1, ANNA)
    complete_return(engine, ret, ANNA, return_view(engine, ret).version)
    today = datetime.now().astimezone().date()
    entries = reconciliation(engine, today - timedelta(days=1), today + timedelta(days=1))
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.account, entry.payments_in, entry.refunds_out, entry.net, entry.count) == (
        "Online merchant account", Decimal("84.17"), Decimal("-45.00"), Decimal("39.17"), 2)
    with engine.connect() as conn:
        in_db = conn.execute(select(func.sum(Payment.__table__.c.amount))).scalar()
    csv_rows = to_csv(entries).splitlines()
    assert csv_rows[0] == "date,account,payments_in,refunds_out,net,count,references"
    assert Decimal(csv_rows[1].split(",")[4]) == in_db
    transactions = parse_iif(to_iif(entries))
    assert len(transactions) == 1
    for transaction in transactions:
        assert sum(amount for _, amount in transaction) == 0
        assert transaction[0] == ("Online merchant account", Decimal("39.17"))


def test_the_cli_exports_reconciliation_files(engine, sold, tmp_path, database_url, capsys):
    from cli import main

    today = datetime.now().astimezone().date().isoformat()
    out = tmp_path / "deposit.iif"
    assert main(["--export-reconciliation", today, "--format", "iif", "--out", str(out), "--db", database_url]) == 0
    assert [sum(a for _, a in t) for t in parse_iif(out.read_text())] == [0]
    csv_out = tmp_path / "day.csv"
    assert main(["--export-reconciliation", today, "--out", str(csv_out), "--db", database_url]) == 0
    assert "Online merchant account,84.17,0.00,84.17,1" in csv_out.read_text()
    assert main(["--export-reconciliation", "27/11/2026", "--out", str(csv_out), "--db", database_url]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_the_shipping_refund_amount_may_be_lowered_never_raised(engine, sold):
    from core.returns import set_shipping_amount

    ret = start_return(engine, sold, ANNA)
    line = add_shipping_refund(engine, ret, ANNA)
    with pytest.raises(ReturnError, match=r"at most the \$9.95 charged"):
        set_shipping_amount(engine, line, Decimal("10.00"), ANNA)
    set_shipping_amount(engine, line, Decimal("4.00"), ANNA)
    assert lines(engine, ret)["Shipping refund"].unit_price == Decimal("4.00")
    with pytest.raises(ReturnError, match="only the shipping"):
        set_shipping_amount(engine, lines(engine, ret)["Tube 700x25"].id, Decimal("1.00"), ANNA)


TUBES = OrderLine("l1", "Tube 700x25", 3, Decimal("8.99"), product_code="TUBE", tax_rate=Decimal("8.25"))
LIGHT = OrderLine("l2", "Front light", 1, Decimal("45.00"), product_code="LIGHT", tax_rate=Decimal("0"))


def completed_sale(engine, number: int, total: str, *order_lines: OrderLine, shipping: str = "0.00",
                   shipping_tax: str = "0.00") -> int:
    """A web sale of the first channel, completed: picked up at the counter, or shipped when it
    charged shipping; its authorised total captured."""
    with engine.begin() as conn:
        channel = conn.execute(select(SalesChannel.id)).scalar()
        now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
        import_orders(conn, channel, [WebOrder(
            f"o{number}", f"#{number}", "authorized", now, now, "USD", total=Decimal(total), lines=list(order_lines),
            shipping=Decimal(shipping), shipping_tax=Decimal(shipping_tax))])
        sale = conn.execute(select(WebSale.__table__).where(WebSale.external_id == f"o{number}")).one()
    if sale.shipping_charged:
        complete_sale(engine, sale.id, ANNA, sale.version, pickup=False)
    else:
        complete_sale(engine, sale.id, ANNA, sale.version, checks=PickupChecks(True, True, True))
    return sale.id


@pytest.fixture
def paid_in_part(engine):
    """A completed web sale of 3 tubes (8.25 %) and a light, 74.20 of goods, of which the store
    captured only 54.00 (a store credit paid the rest)."""
    import_catalog(engine, CATALOG, "Main Street", ANNA)
    with engine.begin() as conn:
        add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com", conn.execute(select(Location.id)).scalar())
    return completed_sale(engine, 1002, "54.00", TUBES, LIGHT)


def refunded(engine, sale_id) -> Decimal:
    with engine.connect() as conn:
        return -conn.execute(select(func.coalesce(func.sum(Payment.amount), 0))
                             .where(Payment.sale_id == sale_id, Payment.amount < 0)).scalar()


def test_two_returns_together_never_refund_more_than_was_captured(engine, paid_in_part):
    from tests.conftest import dump

    first = start_return(engine, paid_in_part, ANNA)
    set_quantity(engine, lines(engine, first)["Front light"].id, 1, ANNA)
    assert complete_return(engine, first, ANNA, return_view(engine, first).version) == Decimal("-45.00")
    second = start_return(engine, paid_in_part, ANNA)
    set_quantity(engine, lines(engine, second)["Tube 700x25"].id, 1, ANNA)
    assert return_view(engine, second).totals[2] == Decimal("-9.73"), "45.00 + 9.73 is more than the 54.00 captured"
    before = dump(engine)
    with pytest.raises(ReturnError, match=r"more than the \$54.00 captured on the sale \(\$45.00 already refunded\)"):
        complete_return(engine, second, ANNA, return_view(engine, second).version)
    assert dump(engine) == before, "nothing refunded, restocked or recorded"
    assert return_view(engine, second).state == "draft"
    assert refunded(engine, paid_in_part) == Decimal("45.00")


def test_one_return_never_refunds_more_than_was_captured_even_by_a_few_cents(engine, paid_in_part):
    ret = start_return(engine, paid_in_part, ANNA)
    set_quantity(engine, lines(engine, ret)["Front light"].id, 1, ANNA)
    set_quantity(engine, lines(engine, ret)["Tube 700x25"].id, 1, ANNA)
    assert return_view(engine, ret).totals[2] == Decimal("-54.73")
    with pytest.raises(ReturnError, match=r"more than the \$54.00 captured on the sale \(\$0.00 already refunded\)"):
        complete_return(engine, ret, ANNA, return_view(engine, ret).version)
    assert refunded(engine, paid_in_part) == 0


def test_what_another_sale_refunded_does_not_count_against_this_one(engine, paid_in_part):
    other = completed_sale(engine, 1004, "45.00", replace(LIGHT, external_id="l1"))
    ret = start_return(engine, other, ANNA)
    set_quantity(engine, lines(engine, ret)["Front light"].id, 1, ANNA)
    complete_return(engine, ret, ANNA, return_view(engine, ret).version)
    ret = start_return(engine, paid_in_part, ANNA)
    set_quantity(engine, lines(engine, ret)["Front light"].id, 1, ANNA)
    assert complete_return(engine, ret, ANNA, return_view(engine, ret).version) == Decimal("-45.00")
    assert refunded(engine, other) == refunded(engine, paid_in_part) == Decimal("45.00")


def test_what_a_line_was_charged_after_its_discount_and_at_its_rate_is_what_comes_back(engine):
    import_catalog(engine, CATALOG, "Main Street", ANNA)
    with engine.begin() as conn:
        add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com", conn.execute(select(Location.id)).scalar())
    # The store said no tax amounts: 3 tubes less a 3.00 discount, 23.97 at 8.25 % (1.98); the light
    # at 8.5 %, 3.825 of tax charged as 3.83 (half up, as the return rounds).
    discounted = replace(TUBES, discount=Decimal("3.00"))
    sale = completed_sale(engine, 1005, "74.78", discounted, replace(LIGHT, tax_rate=Decimal("8.5")))
    ret = start_return(engine, sale, ANNA)
    with pytest.raises(ReturnError, match="only 1 of 1 sold can still come back"):
        set_quantity(engine, lines(engine, ret)["Front light"].id, 2, ANNA)
    set_quantity(engine, lines(engine, ret)["Front light"].id, 1, ANNA)
    set_quantity(engine, lines(engine, ret)["Tube 700x25"].id, 3, ANNA)
    assert lines(engine, ret)["Tube 700x25"].amounts == (Decimal("-23.97"), Decimal("-1.98"), Decimal("-25.95"))
    assert lines(engine, ret)["Front light"].amounts == (Decimal("-45.00"), Decimal("-3.83"), Decimal("-48.83"))
    assert complete_return(engine, ret, ANNA, return_view(engine, ret).version) == Decimal("-74.78")


def test_shipping_another_sale_refunded_leaves_this_sales_shipping_whole(engine, sold):
    other = completed_sale(engine, 1006, "50.00", replace(LIGHT, external_id="l1"), shipping="5.00")
    first = start_return(engine, other, ANNA)
    add_shipping_refund(engine, first, ANNA)
    complete_return(engine, first, ANNA, return_view(engine, first).version)
    ret = start_return(engine, sold, ANNA)
    assert return_view(engine, ret).shipping_left == Decimal("9.95")
    add_shipping_refund(engine, ret, ANNA)
    assert lines(engine, ret)["Shipping refund"].amounts == (Decimal("-9.95"), Decimal("-0.50"), Decimal("-10.45"))
    assert complete_return(engine, ret, ANNA, return_view(engine, ret).version) == Decimal("-10.45")


def test_a_posted_refund_says_which_return_made_it_who_and_when(engine, sold):
    from core.models import SaleReturn

    ret = start_return(engine, sold, ANNA)
    set_quantity(engine, lines(engine, ret)["Front light"].id, 1, ANNA)
    complete_return(engine, ret, ANNA, return_view(engine, ret).version)
    with engine.connect() as conn:
        refund = conn.execute(select(Payment.__table__).where(Payment.amount < 0)).one()
        posted = conn.execute(select(SaleReturn.__table__).where(SaleReturn.id == ret)).one()
    assert (refund.sale_id, refund.amount, refund.reference, refund.received_by, refund.captured_elsewhere) == (
        sold, Decimal("-45.00"), f"return {ret}", str(ANNA), False)
    assert posted.completed_at is not None and posted.refund_total == Decimal("-45.00")
    today = refund.received_at.date()
    (day,) = reconciliation(engine, today, today, tz=UTC)
    assert f"#1001 (return {ret})" in day.references, "the refund is traced to its return in the day's deposit"


def test_a_unit_the_supplier_shipped_comes_back_on_hand_where_the_sale_was_routed(engine):
    """The brand shipped it from its warehouse, so the shop never stocked it at the location the
    sale was routed to: the returned unit is on hand there, and nowhere else."""
    from datetime import date

    from core.dbtypes import utcnow
    from core.supplier import enable_supplier_fulfillment, record_supplier_document
    from core.sync.settle import settle_sales
    from tests.core.test_sales import CATALOG as SALES_CATALOG, order

    import_catalog(engine, SALES_CATALOG, "Main Street", ANNA)  # 10 tubes at Main Street
    with engine.begin() as conn:
        main_street = conn.execute(select(Location.id)).scalar()
        channel = add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com", main_street)
        warehouse = conn.execute(Location.__table__.insert().values(name="Warehouse", created_at=utcnow())
                                 ).inserted_primary_key[0]
    for kind in ("internet_addendum", "packing_slip_form", "retailer_contract"):
        record_supplier_document(engine, channel, kind, date(2026, 1, 5), ANNA)
    enable_supplier_fulfillment(engine, channel, ANNA, warehouse, today=date(2026, 11, 26))
    with engine.begin() as conn:
        import_orders(conn, channel, [order(1, ("TUBE", 2), supplier=True,
                                            shipped_at=datetime(2026, 11, 25, 20, 0, tzinfo=UTC))],
                      datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
        settle_sales(conn, channel, datetime(2026, 11, 27, 7, 30, tzinfo=UTC))  # released by the supplier
        sale = conn.execute(select(WebSale.__table__)).one()
    assert (sale.state, sale.location_id) == ("ready", warehouse)
    complete_sale(engine, sale.id, ANNA, sale.version, pickup=False)
    ret = start_return(engine, sale.id, ANNA)
    set_quantity(engine, lines(engine, ret)["TUBE"].id, 2, ANNA)
    complete_return(engine, ret, ANNA, return_view(engine, ret).version)
    with engine.connect() as conn:
        tubes = conn.execute(select(Location.name, Stock.on_hand, Stock.committed)
                             .join(Location, Location.id == Stock.location_id)
                             .join(Product, Product.id == Stock.product_id)
                             .where(Product.sku == "TUBE").order_by(Location.name)).all()
    assert tubes == [("Main Street", 10, 0), ("Warehouse", 2, 0)]


def test_a_draft_changed_by_another_terminal_is_not_posted_as_this_one_saw_it(engine, sold):
    from core.returns import redo_draft
    from tests.conftest import dump

    mine = start_return(engine, sold, ANNA)
    set_quantity(engine, lines(engine, mine)["Tube 700x25"].id, 3, ANNA)
    theirs = start_return(engine, sold, ANNA)
    set_quantity(engine, lines(engine, theirs)["Tube 700x25"].id, 2, ANNA)
    complete_return(engine, theirs, ANNA, return_view(engine, theirs).version)
    seen = return_view(engine, mine)  # this terminal still shows 3 tubes
    redo_draft(engine, mine, ANNA)  # another terminal brings the draft down to the 1 tube left
    before = dump(engine)
    with pytest.raises(ReturnError, match="changed or was completed a moment ago"):
        complete_return(engine, mine, ANNA, seen.version)
    assert dump(engine) == before
    assert complete_return(engine, mine, ANNA, return_view(engine, mine).version) == Decimal("-9.73")


def test_an_abandoned_draft_can_never_be_posted(engine, sold):
    from core.returns import abandon_return
    from tests.conftest import dump

    ret = start_return(engine, sold, ANNA)
    set_quantity(engine, lines(engine, ret)["Front light"].id, 1, ANNA)
    assert abandon_return(engine, ret, ANNA)
    before = dump(engine)
    with pytest.raises(ReturnError, match="changed or was completed a moment ago"):
        complete_return(engine, ret, ANNA, return_view(engine, ret).version)  # the version after abandoning
    assert dump(engine) == before, "nothing refunded or restocked"
    assert return_view(engine, ret).state == "abandoned"


def test_untaxed_shipping_is_refunded_without_tax(engine):
    import_catalog(engine, CATALOG, "Main Street", ANNA)
    with engine.begin() as conn:
        channel = add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com",
                              conn.execute(select(Location.id)).scalar())
        now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
        import_orders(conn, channel, [WebOrder(
            "o3", "#1003", "authorized", now, now, "USD", shipping=Decimal("9.95"), total=Decimal("54.95"),
            lines=[OrderLine("l1", "Front light", 1, Decimal("45.00"), product_code="LIGHT", tax_rate=Decimal("0"))])])
        sale = conn.execute(select(WebSale.__table__)).one()
    complete_sale(engine, sale.id, ANNA, sale.version, pickup=False)
    ret = start_return(engine, sale.id, ANNA)
    add_shipping_refund(engine, ret, ANNA)
    assert lines(engine, ret)["Shipping refund"].amounts == (Decimal("-9.95"), Decimal("0.00"), Decimal("-9.95"))
    assert complete_return(engine, ret, ANNA, return_view(engine, ret).version) == Decimal("-9.95")


def test_nothing_to_return_is_refused(engine, sold):
    ret = start_return(engine, sold, ANNA)
    with pytest.raises(ReturnError, match="nothing is being returned"):
        complete_return(engine, ret, ANNA, return_view(engine, ret).version)
