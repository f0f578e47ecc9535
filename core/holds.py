"""When a supplier-shipped order may be downloaded (SPEC §5): at 02:30 Eastern time on the next
business day after it ships. Business days skip weekends and the holiday calendar (the `holidays`
library; the country is a setting). Times are computed in America/New_York, so the daylight-saving
change is handled by the time-zone database, not by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

EASTERN = ZoneInfo("America/New_York")
RELEASE_TIME = time(2, 30)


@lru_cache(maxsize=8)
def _calendar(country: str, year: int):
    return holidays.country_holidays(country, years=[year, year + 1])


def is_business_day(day: date, country: str = "US") -> bool:
    return day.weekday() < 5 and day not in _calendar(country, day.year)


def next_business_day(day: date, country: str = "US") -> date:
    candidate = day + timedelta(days=1)
    while not is_business_day(candidate, country):
        candidate += timedelta(days=1)
    return candidate


def release_time(shipped_at: datetime, country: str = "US") -> datetime:
    """The moment (UTC) a supplier-shipped order becomes downloadable."""
    shipped_day = shipped_at.astimezone(EASTERN).date()
    release_day = next_business_day(shipped_day, country)
    return datetime.combine(release_day, RELEASE_TIME, tzinfo=EASTERN).astimezone(UTC)
