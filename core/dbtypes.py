"""Column types that keep money exact and times in UTC on both SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator


class ScaledDecimal(TypeDecorator):
    """A Decimal stored as a scaled integer (cents for money).

    SQLite has no exact decimal type, so amounts live as integers everywhere: sums in SQL stay
    exact and sort correctly. A value with more decimals than the column holds is refused rather
    than rounded, because silently rounding money loses it.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int = 2):
        super().__init__()
        self.places = places

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("amounts are Decimal, never float")
        amount = Decimal(value)
        scaled = amount.scaleb(self.places)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{amount} has more than {self.places} decimals")
        return int(scaled)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.places)


def Money() -> ScaledDecimal:  # noqa: N802 - reads as a type in column declarations
    return ScaledDecimal(2)


def Rate() -> ScaledDecimal:  # noqa: N802
    """Tax rates in percent, to four decimals (8.8750 %)."""
    return ScaledDecimal(4)


def to_cents(amount: Decimal) -> int:
    return int(amount.scaleb(2))


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python; naive UTC in the database, which SQLite can hold."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetimes must carry a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
