"""A draft return that another terminal's posted return overtook says what changed and can be
redone from what is left; nothing is refunded twice. SQLite and PostgreSQL."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.models import Payment
from core.returns import (
    DraftOvertaken, add_shipping_refund, complete_return, redo_draft, return_view, set_quantity, start_return,
)

from tests.core.test_returns import ANNA, lines, sold  # noqa: F401 - the fixture


def refunded(engine) -> Decimal:
    with engine.connect() as conn:
        return -conn.execute(select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.amount < 0)).scalar()


def test_an_overtaken_draft_says_what_changed_and_is_redone_from_what_is_left(engine, sold):
    mine = start_return(engine, sold, ANNA)  # this terminal's draft: 3 tubes and the shipping
    set_quantity(engine, lines(engine, mine)["Tube 700x25"].id, 3, ANNA)
    add_shipping_refund(engine, mine, ANNA)
    theirs = start_return(engine, sold, ANNA)  # another terminal posts 2 tubes and the shipping first
    set_quantity(engine, lines(engine, theirs)["Tube 700x25"].id, 2, ANNA)
    add_shipping_refund(engine, theirs, ANNA)
    complete_return(engine, theirs, ANNA, return_view(engine, theirs).version)
    before = refunded(engine)

    with pytest.raises(DraftOvertaken) as overtaken:
        complete_return(engine, mine, ANNA, return_view(engine, mine).version)
    assert overtaken.value.changes == ["Tube 700x25: 3 asked, 1 left", "shipping: $9.95 asked, $0.00 left"]
    assert refunded(engine) == before and return_view(engine, mine).state == "draft"

    assert redo_draft(engine, mine, ANNA) == overtaken.value.changes
    view = return_view(engine, mine)
    assert [(line.title, line.quantity) for line in view.lines] == [("Tube 700x25", -1), ("Front light", 0)]
    complete_return(engine, mine, ANNA, view.version)
    assert return_view(engine, mine).state == "completed"
    assert refunded(engine) - before == Decimal("9.73"), "the one tube left, at its share of what was charged"


def test_an_overtaken_line_can_always_be_lowered_by_hand(engine, sold):
    mine = start_return(engine, sold, ANNA)
    tube = lines(engine, mine)["Tube 700x25"].id
    set_quantity(engine, tube, 3, ANNA)
    theirs = start_return(engine, sold, ANNA)
    set_quantity(engine, lines(engine, theirs)["Tube 700x25"].id, 3, ANNA)
    complete_return(engine, theirs, ANNA, return_view(engine, theirs).version)
    set_quantity(engine, tube, 2, ANNA)  # still too many, but on its way back into line
    set_quantity(engine, tube, 0, ANNA)
    assert lines(engine, mine)["Tube 700x25"].quantity == 0
