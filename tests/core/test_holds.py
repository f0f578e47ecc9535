from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.holds import EASTERN, release_time

ET = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("shipped", "released_local", "released_utc"), [
    # Wednesday before Thanksgiving: Thursday is the holiday, so Friday.
    (datetime(2026, 11, 25, 15, 0, tzinfo=ET), "2026-11-27 02:30 EST", "2026-11-27 07:30"),
    # Friday before the change to daylight time: Monday, at 02:30 EDT = 06:30 UTC.
    (datetime(2026, 3, 6, 11, 0, tzinfo=ET), "2026-03-09 02:30 EDT", "2026-03-09 06:30"),
    # New Year's Eve: the holiday and the weekend are skipped.
    (datetime(2026, 12, 31, 16, 45, tzinfo=ET), "2027-01-04 02:30 EST", "2027-01-04 07:30"),
    # An ordinary Tuesday: Wednesday.
    (datetime(2026, 6, 9, 9, 0, tzinfo=ET), "2026-06-10 02:30 EDT", "2026-06-10 06:30"),
    # Shipped late on Friday evening in California is already Saturday in New York: Monday.
    (datetime(2026, 10, 2, 22, 30, tzinfo=ZoneInfo("America/Los_Angeles")), "2026-10-05 02:30 EDT", "2026-10-05 06:30"),
])
def test_supplier_orders_are_released_at_0230_eastern_on_the_next_business_day(shipped, released_local, released_utc):
    released = release_time(shipped)
    assert released.astimezone(EASTERN).strftime("%Y-%m-%d %H:%M %Z") == released_local
    assert released.astimezone(UTC).strftime("%Y-%m-%d %H:%M") == released_utc


def test_the_holiday_calendar_is_a_setting():
    # Canada Day (1 July) is a holiday in Canada, not in the US.
    shipped = datetime(2026, 6, 30, 12, 0, tzinfo=ET)
    assert release_time(shipped, "US").astimezone(ET).day == 1
    assert release_time(shipped, "CA").astimezone(ET).day == 2
