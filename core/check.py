"""`tandem --check`: is this installation ready to sync? One line per point, never a credential.

It reads the settings (already checked when loaded), the secrets file's permissions, the database,
and each channel: its shop location, its credentials, and the store itself through the cheapest
call the platform allows (credentials accepted, scopes, the store location, the part-number field).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from core.i18n import N_, _
from core.shoptime import today as shop_today
from core.connectors.base import WARN, CheckContext, ConnectorError, PartNumberSample
from core.secrets import SecretsError, redact


SAMPLE_PRODUCTS = 50  # shop products with a part number handed to a connector's check


@dataclass(frozen=True)
class CheckLine:
    holds: bool
    what: str
    text: str
    warning: bool = False  # holds, but wants someone to look (an API version about to retire)

    def __str__(self) -> str:
        verdict = _("FAIL") if not self.holds else _("WARN") if self.warning else _("ok  ")
        return f"{verdict}  {_(self.what)}: {redact(self.text)}"


def _line(name: str, verdict, text: str) -> CheckLine:
    """A connector's (verdict, text): True, False or WARN."""
    return CheckLine(verdict is not False, name, text, warning=verdict == WARN)


def check_setup(settings, connectors: dict | None = None, today=None) -> list[CheckLine]:
    from core.db import DatabaseError, describe_failure, open_database, redacted_url
    from core.secrets import _check_private

    lines = [CheckLine(True, N_("settings"), f"{settings.config_file}" + (
                 "" if settings.config_file_exists else " " + _("(not created yet: defaults apply)"))),
             CheckLine(True, N_("time zone"), settings.time_zone or _("the machine's"))]
    if settings.secrets_file.exists():
        try:
            _check_private(settings.secrets_file)
            lines.append(CheckLine(True, N_("secrets file"), _("{path} is readable by its owner only").format(
                path=settings.secrets_file)))
        except SecretsError as exc:
            lines.append(CheckLine(False, N_("secrets file"), str(exc)))
    from core.permissions import loose_paths

    loose = loose_paths(settings)
    lines.append(CheckLine(True, N_("permissions"), _("{count} readable by other accounts: {paths}; fix: tandem "
                                                       "--fix-permissions").format(
        count=len(loose), paths=", ".join(f"{path} ({mode:03o})" for path, mode in loose[:3]))
        if loose else _("settings, data, backups and log readable by this account only"), warning=bool(loose)))
    try:
        engine = open_database(settings.database_url)
    except DatabaseError as exc:
        return [*lines, CheckLine(False, N_("database"), str(exc))]
    lines.append(CheckLine(True, N_("database"), redacted_url(settings.database_url)))
    if not settings.channels:
        lines.append(CheckLine(True, N_("web stores"), _("none configured: nothing to sync")))
    for name, spec in settings.channels.items():
        lines += _check_channel(engine, settings, name, spec, (connectors or {}).get(name), describe_failure,
                                today or shop_today())
    engine.dispose()
    return lines


def _check_channel(engine, settings, name: str, spec: dict, connector, describe_failure, today) -> list[CheckLine]:
    from core.config import ChannelConfig
    from core.connectors.registry import connector_for
    from core.models import Location

    lines = []
    sold = spec.get("locations") or {}
    for location in list(sold) or ([spec["location"]] if spec.get("location") else []):
        with engine.connect() as conn:
            found = conn.execute(select(Location.id).where(func.lower(Location.name) == location.casefold(),
                                                           Location.active.is_(True))).first()
        lines.append(CheckLine(found is not None, name, (
            _("the shop location “{location}” exists") if found else
            _("the shop location “{location}” does not exist (tandem --add-location, or fix the channel's settings)"))
            .format(location=location)))
    if sold and spec["platform"] != "woocommerce":
        # Each store location the channel sends stock to; the first named (or `location`) is the primary.
        spec = {**spec, "store_location_id": sold[spec.get("location") or next(iter(sold))]}
    context = CheckContext(store_locations=tuple(sold.values()), part_numbers=_part_number_samples(engine, name),
                           today=today)
    if spec["platform"] == "demo":
        return [*lines, CheckLine(True, name, _("the demo web store runs inside Tandem: nothing to reach"))]
    try:
        connector = connector or connector_for(ChannelConfig.from_settings(name, spec), settings.secrets_file)
    except (SecretsError, ConnectorError) as exc:
        return [*lines, CheckLine(False, name, str(exc))]
    try:
        lines += [_line(name, verdict, text) for verdict, text in connector.check(context)]
    except ConnectorError as exc:
        lines.append(CheckLine(False, name, str(exc)))
    except Exception as exc:  # noqa: BLE001 - a check reports, it does not crash
        lines.append(CheckLine(False, name, describe_failure(exc)))
    finally:
        connector.close()
    return lines


def _part_number_samples(engine, channel_name: str) -> tuple[PartNumberSample, ...]:
    """Shop products that have a part number, those linked to this channel's listings first."""
    from core.models import Product, ProductLink, SalesChannel, WebListing

    product, link, listing = Product.__table__, ProductLink.__table__, WebListing.__table__
    channel = SalesChannel.__table__
    linked = (select(link.c.product_id, listing.c.external_id)
              .join(listing, listing.c.id == link.c.listing_id)
              .join(channel, channel.c.id == link.c.channel_id)
              .where(channel.c.name == channel_name, link.c.product_id.is_not(None))).subquery()
    with engine.connect() as conn:
        rows = conn.execute(
            select(product.c.id, product.c.sku, product.c.part_number, product.c.barcode_raw, linked.c.external_id)
            .outerjoin(linked, linked.c.product_id == product.c.id)
            .where(product.c.part_number.is_not(None), product.c.part_number != "", product.c.active.is_(True))
            .order_by(linked.c.external_id.is_(None), product.c.id).limit(SAMPLE_PRODUCTS * 4)).all()
    samples: dict[int, PartNumberSample] = {}
    for row in rows:
        known = samples.get(row.id)
        if known is None and len(samples) < SAMPLE_PRODUCTS:
            known = samples[row.id] = PartNumberSample(row.sku, row.part_number, row.barcode_raw)
        if known is not None and row.external_id:
            samples[row.id] = PartNumberSample(known.sku, known.part_number, known.barcode,
                                               (*known.listing_ids, row.external_id))
    return tuple(samples.values())
