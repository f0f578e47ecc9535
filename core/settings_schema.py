"""The settings file's one schema: every section and key, its type, its default and, in people's
words, what it must be. `core.settings` validates the file against it once and turns the first
problem into one line naming the key; a key nobody knows (a misspelling) is an error that names
the closest known key, never silently dropped."""

from __future__ import annotations

import difflib
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.config import ChannelConfig
from core.connectors import shopify_versions
from core.i18n import N_, _, valid_setting

NAME_LENGTH, URL_LENGTH = 100, 500
MAX_SAFETY_BUFFER = 1_000_000
CREDENTIAL_KEYS = ("access_token", "consumer_key", "consumer_secret", "client_id", "client_secret", "password",
                   "token", "secret", "webhook_secret")


def _text(value: str) -> str:
    if not value.strip() or "\x00" in value:
        raise ValueError(_("non-empty text"))
    return value


# Text a person wrote: not blank, no NUL, of a sensible length. The description is what a
# refusal says the value must be.
Text = Annotated[str, Field(max_length=URL_LENGTH, description=N_("non-empty text"))]
OptionalText = Annotated[str | None, Field(max_length=URL_LENGTH, description=N_("non-empty text"))]


def _zone(value: str, example: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(_("a time zone name like {example}, not {value}").format(example=example, value=repr(value)[:80]))
    return value


class Section(BaseModel):
    # strict: a number where text belongs (or `true` where a number does) is refused, not converted.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _texts_are_not_blank(cls, value, info):
        if isinstance(value, str):
            return _text(value)
        return value


class DatabaseSection(Section):
    url: OptionalText = None


class ShopSection(Section):
    default_location: OptionalText = None  # where --import-catalog puts quantities by default
    language: Annotated[str | None, Field(description=N_(
        "English or French: en, fr, or with a region (en_CA, fr_CA, fr_FR)"))] = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description=N_(
        "a three-letter code such as CAD or EUR"))] = "CAD"
    time_zone: OptionalText = None  # the shop's; None: the machine's

    @field_validator("language")
    @classmethod
    def _language(cls, value):
        if value is not None and not valid_setting(value):
            raise ValueError(_("English or French: en, fr, or with a region (en_CA, fr_CA, fr_FR)"))
        return value

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value):
        return value if value is None else _zone(value, "America/Toronto")


class ConsoleSection(Section):
    bell: Annotated[bool, Field(description=N_("true or false"))] = True
    refresh_seconds: Annotated[float, Field(ge=0.2, le=600, description=N_(
        "a number of seconds from 0.2 to 600"))] = 0.5


class StaffSection(Section):
    cashier_refund_limit: Annotated[float | None, Field(ge=0, le=1_000_000, description=N_(
        "an amount from 0 to 1,000,000, like 100.00"))] = None

    @property
    def refund_limit(self) -> Decimal | None:
        if self.cashier_refund_limit is None:
            return None
        return Decimal(str(self.cashier_refund_limit)).quantize(Decimal("0.01"))


class BackupSection(Section):
    keep_days: Annotated[int, Field(ge=1, le=3650, description=N_(
        "a whole number of days from 1 to 3650"))] = 14  # how long `tandem --backup` keeps its copies
    folder: OptionalText = None  # default: `backups` in the data directory


class ChannelSettings(ChannelConfig):
    """A `[channels.NAME]` table: the channel's stored configuration (`ChannelConfig`, defaults
    and all) and what becomes columns of its row (its location, locations, safety buffer)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    platform: Annotated[Literal["shopify", "woocommerce", "demo"], Field(description=N_(
        "one of shopify, woocommerce, demo"))]
    url: Annotated[str, Field(max_length=URL_LENGTH, description=N_(
        "the store's address, starting with https:// (or http:// for a store on this machine)"))]
    location: OptionalText = None
    safety_buffer: Annotated[int, Field(ge=0, le=MAX_SAFETY_BUFFER, description=N_(
        "a whole number of units from 0 to 1,000,000"))] = 0
    locations: Annotated[dict[str, Text] | None, Field(description=N_(
        "a table of shop location = store location"))] = None
    export_time: Annotated[str, Field(pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$", description=N_(
        "a time of day like 06:00"))] = "06:00"
    api_version: Annotated[str, Field(description=N_(
        "a Shopify API version like 2026-10 (YYYY-01, -04, -07 or -10)"))] = shopify_versions.DEFAULT

    @model_validator(mode="before")
    @classmethod
    def _credentials_are_secrets(cls, data):
        if isinstance(data, dict):
            if any(key in data for key in CREDENTIAL_KEYS):
                raise ValueError(_("credentials belong in the secrets file (tandem --set-secret), not here"))
            if "name" in data:
                raise ValueError(_("the channel's name is its table's name; remove name"))
        return data

    @field_validator("*", mode="after")
    @classmethod
    def _texts_are_not_blank(cls, value, info):
        if isinstance(value, str) and info.field_name != "url":
            return _text(value)
        return value

    @field_validator("api_version")
    @classmethod
    def _api_version(cls, value):
        if not shopify_versions.is_version(value):
            raise ValueError(_("a Shopify API version like {example} (YYYY-01, -04, -07 or -10)").format(
                example=shopify_versions.DEFAULT))
        return value

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value):
        return value if value is None else _zone(value, "America/New_York")

    @field_validator("holiday_country")
    @classmethod
    def _country(cls, value):
        import holidays  # only when a channel names a country: it is slow to import

        if value not in holidays.list_supported_countries():
            raise ValueError(_("a country the holiday calendar knows (a two-letter code like US, CA or FR), "
                               "not {value}").format(value=repr(value)[:40]))
        return value

    @model_validator(mode="after")
    def _store_address(self):
        if self.platform != "demo" and not self.url.startswith(("https://", "http://")):
            raise ValueError(_("url must start with https:// (or http:// for a store on this machine)"))
        if not self.url.strip() or "\x00" in self.url:
            raise ValueError(_("url must be non-empty text"))
        if "@" in urlsplit(self.url).netloc:
            # The URL is stored in the database and shown on screens; a password in it would be too.
            raise ValueError(_("url must not hold a user name or password; credentials belong in the secrets "
                               "file (tandem --set-secret)"))
        return self

    @model_validator(mode="after")
    def _locations(self):
        """`locations = { "Main street" = "gid://shopify/Location/1", ... }`: each shop location the
        store sells, and how the store names it (Shopify: its location id; WooCommerce: the name of
        its pickup location, since WooCommerce keeps one stock per product and gets their sum)."""
        if self.locations is None:
            return self
        if not self.locations:
            raise ValueError(_("locations names at least one shop location"))
        for name in self.locations:
            if not name.strip() or len(name) > NAME_LENGTH or "\x00" in name:
                raise ValueError(_("a location name in locations is 1 to {NAME_LENGTH} characters of text").format(
                    NAME_LENGTH=NAME_LENGTH))
        stores = list(self.locations.values())
        if len(set(stores)) != len(stores):
            raise ValueError(_("two shop locations in locations name the same store location"))
        if self.location is not None and self.location not in self.locations:
            raise ValueError(_("location {primary} (where shipped orders go) must be one of locations").format(
                primary=repr(self.location)))
        if self.location is not None and "store_location_id" in self.model_fields_set \
                and self.store_location_id != self.locations[self.location]:
            raise ValueError(_("store_location_id differs from locations.{primary}; set it in locations only").format(
                primary=self.location))
        return self


KeyNames = Annotated[str, Field(max_length=50, description=N_('key names like "S" or "ctrl+s"'))]


class SettingsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    database: DatabaseSection = DatabaseSection()
    shop: ShopSection = ShopSection()
    channels: dict[str, ChannelSettings] = {}
    # The console's own keys a shop rebinds, by action id ("home.inbox" = "S"); the console checks the ids.
    keys: dict[str, KeyNames] = {}
    console: ConsoleSection = ConsoleSection()
    staff: StaffSection = StaffSection()
    backup: BackupSection = BackupSection()

    @field_validator("channels", mode="before")
    @classmethod
    def _channel_names(cls, channels):
        if isinstance(channels, dict):
            for name in channels:
                if not name.strip() or len(name) > NAME_LENGTH or "\x00" in name:
                    raise ValueError(_("a channel name is 1 to {NAME_LENGTH} characters of text").format(
                        NAME_LENGTH=NAME_LENGTH))
        return channels

    @field_validator("keys")
    @classmethod
    def _key_names(cls, keys):
        for action_id, names in keys.items():
            _text(names)
        return keys


def _known_keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _model_at(location: tuple) -> type[BaseModel] | None:
    """The model whose keys are known at `location` (a path into the file)."""
    model: type[BaseModel] = SettingsFile
    steps = list(location)
    while steps:
        step = steps.pop(0)
        if model is SettingsFile and step == "channels":
            if not steps:
                return None
            steps.pop(0)  # the channel's name
            model = ChannelSettings
            continue
        field = model.model_fields.get(str(step))
        annotation = getattr(field, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return None
    return model


def _description(location: tuple) -> str | None:
    """What the key at `location` must be, in the schema's words (a value inside a table: the
    table's own words)."""
    while location:
        model = _model_at(location[:-1])
        field = model.model_fields.get(str(location[-1])) if model is not None else None
        if field is not None and field.description:
            return _(field.description)
        location = location[:-1]
    return None


def explain(error: ValidationError, path) -> str:
    """The first problem of the file, in one line: where (the file, the channel), which key, what
    it must be — or, for a key nobody knows, the closest one that is known."""
    problem = error.errors()[0]
    location = tuple(problem["loc"])
    where = str(path)
    if location[:1] == ("channels",) and len(location) >= 2:
        where = f"{path}: [channels.{str(location[1])[:NAME_LENGTH]}]"
        inside = location[2:]
    else:
        inside = location
    dotted = ".".join(str(step) for step in inside)
    kind = problem["type"]
    if kind == "extra_forbidden":
        model = _model_at(location[:-1])
        known = _known_keys(model) if model else []
        key = str(location[-1])
        if model is SettingsFile:
            closest = difflib.get_close_matches(key, known, n=1)
            hint = _(" (did you mean [{closest}]?)").format(closest=closest[0]) if closest else ""
            return _("{where}: unknown section [{section}]{hint}; known: {known}").format(
                where=where, section=key, hint=hint, known=", ".join(known))
        closest = difflib.get_close_matches(key, known, n=1)
        hint = _(" (did you mean {closest}?)").format(closest=closest[0]) if closest else ""
        return _("{where}: unknown setting {key}{hint}; known: {known}").format(
            where=where, key=dotted, hint=hint, known=", ".join(known))
    if kind == "missing":
        return _("{where}: {key} is required").format(where=where, key=dotted)
    if kind == "value_error" and problem.get("ctx", {}).get("error") is not None:
        reason = str(problem["ctx"]["error"])
        if not inside:  # a check of the whole channel or file, whose words name the key
            return f"{where}: {reason}"
        return _("{where}: {key} must be {what}").format(where=where, key=dotted, what=reason)
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        if not inside:
            return _("{where} must be a table of settings").format(where=where)
        if len(inside) == 1 and _model_at(inside) is not None:
            return _("{where}: [{section}] must be a table of settings").format(where=where, section=dotted)
    what = _description(location) or _("a value of another kind")
    return _("{where}: {key} must be {what}").format(where=where, key=dotted, what=what)
