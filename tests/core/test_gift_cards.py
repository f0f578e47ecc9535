"""Gift cards in refunds and cancels (SPEC §24): money out never exceeds money in for a sale,
counting what is still on a card it issued. Each test runs on SQLite and PostgreSQL."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.gift_cards import issue_gift_card, set_gift_card_balance
from core.models import AuditEntry, GiftCard, Payment, WebSaleLine
from core.pickup import cancel_sale, cancel_with_store, complete_sale
from core.returns import ReturnError, complete_return, return_view, set_quantity, start_return
from core.sales import SaleError

from tests.core.test_sales import ALL_CHECKS, ANNA, channel, order, sale, stock, store  # noqa: F401 - fixtures

GIFT = Decimal("10.00")  # the test orders' unit price


def sell_a_card(engine, channel, number=1, units=1):
    """A sale of one gift card (and a tube), the card issued; returns the sale row and the card's line."""
    store(engine, channel, order(number, ("GIFT-CARD", units), ("TUBE", 1)))
    with engine.connect() as conn:
        line = conn.execute(select(WebSaleLine.id).where(WebSaleLine.product_code == "GIFT-CARD",
                                                         WebSaleLine.external_id.like(f"{number}-%"))).scalar()
    issue_gift_card(engine, line, f"GC-{number:04}", ANNA)
    return sale(engine, number), line


def card(engine, number="GC-0001"):
    with engine.connect() as conn:
        return conn.execute(select(GiftCard.__table__).where(GiftCard.number == number)).one()


def refunded(engine, sale_id) -> Decimal:
    with engine.connect() as conn:
        return -conn.execute(select(func.coalesce(func.sum(Payment.amount), 0))
                             .where(Payment.sale_id == sale_id, Payment.amount < 0)).scalar()


def return_the_card(engine, sale_id, units=1):
    return_id = start_return(engine, sale_id, ANNA)
    view = return_view(engine, return_id)
    line = next(line for line in view.lines if line.gift_card)
    set_quantity(engine, line.id, units, ANNA)
    return return_id


def test_gift_refunding_a_card_takes_back_what_is_on_it_first(engine, channel):
    s, _line = sell_a_card(engine, channel)
    complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS)
    return_id = return_the_card(engine, s.id)
    total = complete_return(engine, return_id, ANNA, return_view(engine, return_id).version)
    assert total == -GIFT
    taken = card(engine)
    assert (taken.balance, taken.taken_back) == (Decimal("0.00"), GIFT) and taken.voided_at is not None
    assert refunded(engine, s.id) == GIFT, "the customer gets back exactly what came off the card"
    with engine.connect() as conn:
        assert conn.execute(select(AuditEntry.actor, AuditEntry.client).where(AuditEntry.action == "take_back_gift_card")).one() \
            == ("anna", "192.0.2.1")


def test_gift_a_card_spent_in_part_refunds_only_what_is_left(engine, channel):
    s, _line = sell_a_card(engine, channel)
    complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS)
    assert set_gift_card_balance(engine, "GC-0001", Decimal("3.50"), ANNA) == Decimal("6.50")
    return_id = return_the_card(engine, s.id)
    view = return_view(engine, return_id)
    assert view.totals[2] == Decimal("-3.50"), "the draft shows what can still come back"
    assert complete_return(engine, return_id, ANNA, view.version) == Decimal("-3.50")
    assert card(engine).balance == Decimal("0.00") and refunded(engine, s.id) == Decimal("3.50")


def test_gift_a_card_spent_in_full_refuses_the_refund_and_changes_nothing(engine, channel):
    s, _line = sell_a_card(engine, channel)
    complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS)
    set_gift_card_balance(engine, "GC-0001", Decimal("0.00"), ANNA)
    return_id = return_the_card(engine, s.id)
    with pytest.raises(ReturnError, match="GC-0001 has nothing left on it"):
        complete_return(engine, return_id, ANNA, return_view(engine, return_id).version)
    assert return_view(engine, return_id).state == "draft" and refunded(engine, s.id) == 0


def test_gift_two_returns_of_a_two_unit_card_line_never_take_back_more_than_was_on_it(engine, channel):
    s, _line = sell_a_card(engine, channel, units=2)
    complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS)
    assert card(engine).amount == 2 * GIFT
    set_gift_card_balance(engine, "GC-0001", Decimal("15.00"), ANNA)
    first = return_the_card(engine, s.id, units=1)
    # One unit as charged: 10.00 and its 8.25 % tax.
    assert complete_return(engine, first, ANNA, return_view(engine, first).version) == Decimal("-10.83")
    assert card(engine).balance == Decimal("4.17")
    second = return_the_card(engine, s.id, units=1)
    assert complete_return(engine, second, ANNA, return_view(engine, second).version) == Decimal("-4.17")
    assert card(engine).balance == 0 and refunded(engine, s.id) == Decimal("15.00"), \
        "refunded in all: what was on the card, never more"


def test_gift_cancelling_a_sale_voids_its_untouched_card_with_its_units(engine, channel):
    s, _line = sell_a_card(engine, channel)
    assert stock(engine, "TUBE") == (10, 1)
    voided = cancel_sale(engine, s.id, ANNA, s.version)
    assert [c.number for c in voided] == ["GC-0001"]
    assert card(engine).balance == 0 and card(engine).taken_back == GIFT
    assert sale(engine, 1).state == "cancelled" and stock(engine, "TUBE") == (10, 0)


def test_gift_cancelling_after_the_card_was_used_is_refused_and_changes_nothing(engine, channel):
    s, _line = sell_a_card(engine, channel)
    set_gift_card_balance(engine, "GC-0001", Decimal("4.00"), ANNA)
    with pytest.raises(SaleError, match="GC-0001 was already used"):
        cancel_sale(engine, s.id, ANNA, s.version)
    assert sale(engine, 1).state == "ready" and card(engine).balance == Decimal("4.00")
    assert stock(engine, "TUBE") == (10, 1), "the sale's units stay committed"


def test_gift_the_cancel_message_says_what_was_taken_back(engine, channel):
    s, _line = sell_a_card(engine, channel)
    message = cancel_with_store(engine, s.id, ANNA, s.version)
    assert message.startswith("Gift card GC-0001 voided: $10.00 taken back.")


def test_gift_a_card_balance_only_goes_down(engine, channel):
    sell_a_card(engine, channel)
    with pytest.raises(SaleError, match="can only go down"):
        set_gift_card_balance(engine, "GC-0001", Decimal("12.00"), ANNA)
    with pytest.raises(SaleError, match="no gift card"):
        set_gift_card_balance(engine, "GC-9999", Decimal("1.00"), ANNA)


def test_gift_the_command_line_records_what_the_pos_shows_is_left(engine, channel, database_url, capsys):
    from cli import main

    sell_a_card(engine, channel)
    assert main(["--gift-card-balance", "GC-0001", "2.50", "--db", database_url]) == 0
    assert "GC-0001: $2.50 left ($7.50 spent)" in capsys.readouterr().out
    assert card(engine).balance == Decimal("2.50")
    assert main(["--gift-card-balance", "GC-0001", "9.00", "--db", database_url]) == 1
    assert "can only go down" in capsys.readouterr().err and card(engine).balance == Decimal("2.50")


def test_gift_an_order_cancelled_on_the_web_takes_back_its_card(engine, channel):
    sell_a_card(engine, channel)
    store(engine, channel, order(1, ("GIFT-CARD", 1), ("TUBE", 1), cancelled=True, updated=5))
    taken = card(engine)
    assert sale(engine, 1).state == "cancelled" and (taken.balance, taken.taken_back) == (0, GIFT)
    assert stock(engine, "TUBE") == (10, 0)


def test_gift_an_order_cancelled_on_the_web_after_its_card_was_used_is_recorded_for_a_person(engine, channel):
    sell_a_card(engine, channel)
    set_gift_card_balance(engine, "GC-0001", Decimal("4.00"), ANNA)
    store(engine, channel, order(1, ("GIFT-CARD", 1), ("TUBE", 1), cancelled=True, updated=5))
    assert card(engine).balance == 0, "what was left is taken back"
    with engine.connect() as conn:
        lost = conn.execute(select(AuditEntry.new_value, AuditEntry.note)
                            .where(AuditEntry.action == "gift_card_used_before_web_cancel")).one()
    assert lost.new_value == "6.00" and "collect what was spent" in lost.note
