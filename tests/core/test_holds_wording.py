"""What staff read about held sales tells the truth about custody: a sale held for the supplier
(waiting for its release time) is not one waiting for a person's decision, and a hold's reason
follows the documents and the switch as they change. SQLite and PostgreSQL."""

from datetime import UTC, date, datetime

import pytest

from core.overview import shop_overview
from core.pickup import complete_sale
from core.sales import SaleError
from core.supplier import enable_supplier_fulfillment, record_supplier_document

from tests.core.test_sales import ALL_CHECKS, ANNA, channel, order, sale, store  # noqa: F401 - fixtures

DOCUMENTS = ("internet_addendum", "packing_slip_form", "retailer_contract")


def test_a_held_reason_is_worked_out_again_as_the_documents_come_in(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1), supplier=True, shipped_at=datetime(2026, 11, 25, tzinfo=UTC)))
    assert "addendum" in sale(engine, 1).hold_reason, "the missing documents are named"
    for kind in DOCUMENTS:
        record_supplier_document(engine, channel, kind, date(2026, 1, 1), ANNA)
    reason = sale(engine, 1).hold_reason
    assert "addendum" not in reason and "contract" not in reason, "a document recorded is no longer said missing"
    assert "supplier fulfilment is off" in reason
    enable_supplier_fulfillment(engine, channel, ANNA, today=date(2026, 11, 1))
    assert sale(engine, 1).hold_reason == ("tagged supplier-shipped; supplier fulfilment may be used now: "
                                           "decide who ships it")
    assert sale(engine, 1).state == "held", "the decision stays a person's"


def test_a_sale_waiting_for_a_person_is_not_counted_or_named_as_held_for_the_supplier(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1), supplier=True, shipped_at=datetime(2026, 11, 25, tzinfo=UTC)))
    overview = shop_overview(engine)
    assert (overview.held_sales, overview.held_for_a_person) == (0, 1)
    held = sale(engine, 1)
    with pytest.raises(SaleError, match="waits for a person to decide who ships it"):
        complete_sale(engine, held.id, ANNA, held.version, checks=ALL_CHECKS)
