"""The shop's own clock. Times are stored in UTC; people read them in the shop's time zone (the
`shop.time_zone` setting), never in the zone of whatever server Tandem happens to run on."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

_shop_zone: tzinfo | None = None


def set_shop_zone(name: str | None) -> None:
    """Set once at start from the settings (already validated); None means the host's zone."""
    global _shop_zone
    _shop_zone = ZoneInfo(name) if name else None


def shop_zone() -> tzinfo:
    return _shop_zone or datetime.now().astimezone().tzinfo


def local(moment: datetime) -> datetime:
    return moment.astimezone(shop_zone())


def shown(moment: datetime, fmt: str = "%d %b %H:%M", *, zone: bool = False) -> str:
    """A stored moment as staff read it; `zone` names the zone where a reader could misread it
    (a release time, say)."""
    from core.i18n import moment as in_words, zone_name

    at = local(moment)
    text = in_words(at, fmt)
    return f"{text} {zone_name(at)}" if zone else text


def today() -> date:
    return datetime.now(shop_zone()).date()
