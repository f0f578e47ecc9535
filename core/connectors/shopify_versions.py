"""Shopify Admin API versions: the ones Tandem is tested against, the default, and when each retires.

Shopify releases a version each quarter (January, April, July, October) and serves it for at least
twelve months; a request naming a version it no longer serves is answered, silently, by the oldest
one it still serves, and says so only in the `X-Shopify-API-Version` response header. Tandem counts
a version as retired twelve months after its release, which is Shopify's published schedule.

Every GraphQL document Tandem sends is validated in the tests against each version in TESTED.
"""

from __future__ import annotations

import re
from datetime import date

TESTED = ("2026-01", "2026-04", "2026-07", "2026-10")
DEFAULT = "2026-10"  # the newest stable version tested; Shopify serves it until 2027-10-01
WARN_DAYS_BEFORE_RETIREMENT = 92  # about three months: time to test and move to a newer one
ANSWERED_HEADER = "X-Shopify-API-Version"
VERSION = re.compile(r"^(\d{4})-(01|04|07|10)$")


def is_version(text: str) -> bool:
    return bool(VERSION.match(text or ""))


def retires_on(version: str) -> date:
    """The first day Shopify no longer serves `version`: twelve months after its release."""
    match = VERSION.match(version)
    if match is None:
        raise ValueError(f"not a Shopify API version: {version!r}")
    return date(int(match.group(1)) + 1, int(match.group(2)), 1)


def newest_tested() -> str:
    return TESTED[-1]
