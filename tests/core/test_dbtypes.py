from decimal import Decimal

import pytest
from sqlalchemy import select

from core.dbtypes import ScaledDecimal, utcnow
from core.models import Product


def test_money_round_trips_exactly(engine):
    with engine.begin() as conn:
        conn.execute(Product.__table__.insert().values(
            sku="X", description="x", price=Decimal("1234567.89"), msrp=Decimal("0.10"),
            created_at=utcnow(), updated_at=utcnow()))
        price, msrp = conn.execute(select(Product.__table__.c.price, Product.__table__.c.msrp)).one()
    assert (price, msrp) == (Decimal("1234567.89"), Decimal("0.10"))
    assert isinstance(price, Decimal)


def test_more_decimals_than_the_column_holds_are_refused_not_rounded():
    with pytest.raises(ValueError, match="more than 2 decimals"):
        ScaledDecimal(2).process_bind_param(Decimal("1.005"), None)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        ScaledDecimal(2).process_bind_param(1.1, None)


