"""The shop's clock in the language's words: a release time names its zone as staff read it."""

from datetime import UTC, datetime

import pytest

from core.i18n import set_language
from core.shoptime import set_shop_zone, shown


@pytest.fixture
def toronto():
    set_shop_zone("America/Toronto")
    yield
    set_shop_zone(None)
    set_language("en")


@pytest.mark.parametrize(("language", "winter", "summer"), [("en", "EST", "EDT"), ("fr", "HNE", "HAE")])
def test_a_zone_is_named_in_the_language_staff_read(toronto, language, winter, summer):
    set_language(language)
    assert shown(datetime(2026, 1, 5, 17, 0, tzinfo=UTC), "%H:%M", zone=True) == f"12:00 {winter}"
    assert shown(datetime(2026, 7, 5, 16, 0, tzinfo=UTC), "%H:%M", zone=True) == f"12:00 {summer}"


def test_a_zone_without_a_name_in_the_language_keeps_its_own_abbreviation(toronto):
    set_language("fr")
    set_shop_zone("Europe/Paris")
    assert shown(datetime(2026, 1, 5, 11, 0, tzinfo=UTC), "%H:%M", zone=True) == "12:00 CET"
