"""Where Tandem keeps its things, and the settings file that may move them.

Precedence for the database: `--db` flag, then `TANDEM_DATABASE_URL`, then the settings file,
then a SQLite file in the user data directory. The settings file itself comes from `--config`,
then `TANDEM_CONFIG`, then the user config directory.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from core.connectors import shopify_versions
from core.i18n import _, valid_setting

APP_NAME = "tandem"
KNOWN_SECTIONS = {"database": {"url"}, "shop": {"currency", "default_location", "language", "time_zone"}, "channels": None,
                  "keys": None, "console": {"bell", "refresh_seconds"}, "staff": {"cashier_refund_limit"}}
# name -> (type, required) for each [channels.NAME] table
CHANNEL_KEYS = {
    "platform": (str, True), "url": (str, True), "location": (str, False), "store_location_id": (str, False),
    "api_version": (str, False), "part_number_field": (str, False), "supplier_tag": (str, False),
    "supplier_service": (str, False), "export_time": (str, False), "time_zone": (str, False),
    "safety_buffer": (int, False), "push_status": (bool, False), "holiday_country": (str, False),
    "refund_on_website": (bool, False), "barcode_field": (str, False), "supplier_shipped_field": (str, False),
    "locations": (dict, False),
}
EXPORT_TIME = re.compile(r"([01]?[0-9]|2[0-3]):[0-5][0-9]")
PLATFORMS = ("shopify", "woocommerce", "demo")
LANGUAGES = ("en", "fr")


class ConfigError(Exception):
    """The settings file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Settings:
    config_file: Path
    config_file_exists: bool
    data_dir: Path
    database_url: str
    database_source: str
    default_location: str | None = None
    language: str | None = None  # None: from the locale
    currency: str = "CAD"
    time_zone: str | None = None  # the shop's; None: the machine's
    channels: dict[str, dict] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # the console's keys a shop rebinds, by action id
    bell: bool = True  # the console rings when a web sale that needs someone arrives
    refresh_seconds: float = 2.0  # how often the console looks for changes made elsewhere
    cashier_refund_limit: Decimal | None = None  # a cashier's largest refund alone (None: core.roles' default)
    # Where staff's SSH keys go: the shared account's own authorized_keys (TANDEM_AUTHORIZED_KEYS to move it).
    authorized_keys: Path = field(default_factory=lambda: Path.home() / ".ssh" / "authorized_keys")

    @property
    def secrets_file(self) -> Path:
        return self.config_file.parent / "secrets.toml"

    @property
    def demo_database_url(self) -> str:
        return sqlite_url(self.data_dir / "demo.sqlite")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def default_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def _read_config(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(_('{path}: cannot be read ({strerror})').format(path=path, strerror=exc.strerror)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(_('{path}: is not UTF-8 text').format(path=path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_('{path}: is not valid TOML ({exc})').format(path=path, exc=exc)) from None
    for section, value in data.items():
        if section not in KNOWN_SECTIONS:
            known = ", ".join(sorted(KNOWN_SECTIONS))
            raise ConfigError(_('{path}: unknown section [{section}] (known: {known})').format(path=path, section=section, known=known))
        if not isinstance(value, dict):
            raise ConfigError(_('{path}: [{section}] must be a table of settings').format(path=path, section=section))
        if section == "channels":
            _check_channels(path, value)
            continue
        if section == "keys":
            # The console's own keys, by action id ("home.inbox" = "S"); the console checks the ids.
            for action_id, keys in value.items():
                if not isinstance(keys, str) or not keys.strip() or "\x00" in keys or len(keys) > 50:
                    raise ConfigError(_('{path}: keys.{action_id} must be key names like "S" or "ctrl+s"').format(path=path, action_id=action_id))
            continue
        if section == "console":
            _check_console(path, value)
            continue
        if section == "staff":
            _check_staff(path, value)
            continue
        for key, item in value.items():
            if key not in KNOWN_SECTIONS[section]:
                known = ", ".join(sorted(KNOWN_SECTIONS[section]))
                raise ConfigError(_('{path}: unknown setting {section}.{key} (known: {known})').format(path=path, section=section, key=key, known=known))
            if not isinstance(item, str) or not item.strip() or "\x00" in item:
                raise ConfigError(_('{path}: {section}.{key} must be a non-empty text value').format(path=path, section=section, key=key))
    zone = data.get("shop", {}).get("time_zone")
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ConfigError(_('{path}: unknown shop.time_zone {zone} (a name like America/Toronto)').format(path=path, zone=repr(zone))) from None
    language = data.get("shop", {}).get("language")
    if language is not None and not valid_setting(language):
        raise ConfigError(_("{path}: shop.language must be English or French: en, fr, or with a region "
                            "(en_CA, fr_CA, fr_FR)").format(path=path))
    currency = data.get("shop", {}).get("currency")
    if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
        raise ConfigError(_("{path}: shop.currency must be a three-letter code such as CAD or EUR").format(path=path))
    return data


def _check_console(path: Path, console: dict) -> None:
    for key, item in console.items():
        if key not in KNOWN_SECTIONS["console"]:
            known = ", ".join(sorted(KNOWN_SECTIONS["console"]))
            raise ConfigError(_('{path}: unknown setting console.{key} (known: {known})').format(path=path, key=key, known=known))
    if not isinstance(console.get("bell", True), bool):
        raise ConfigError(_('{path}: console.bell is true or false').format(path=path))
    seconds = console.get("refresh_seconds", 2)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0.2 <= seconds <= 600:
        raise ConfigError(_('{path}: console.refresh_seconds is a number of seconds from 0.2 to 600').format(path=path))


MAX_SAFETY_BUFFER = 1_000_000
NAME_LENGTH, URL_LENGTH = 100, 500


def _check_channels(path: Path, channels: dict) -> None:
    for name, channel in channels.items():
        where = f"{path}: [channels.{name[:NAME_LENGTH]!s}]"
        if not name.strip() or len(name) > NAME_LENGTH or "\x00" in name:
            raise ConfigError(_('{where}: a channel name is 1 to {NAME_LENGTH} characters of text').format(where=where, NAME_LENGTH=NAME_LENGTH))
        if not isinstance(channel, dict):
            raise ConfigError(_('{where} must be a table of settings').format(where=where))
        for key, item in channel.items():
            if key in ("access_token", "consumer_key", "consumer_secret", "client_secret", "password", "token", "secret"):
                raise ConfigError(_('{where}: credentials belong in the secrets file (tandem --set-secret), not here').format(where=where))
            if key not in CHANNEL_KEYS:
                raise ConfigError(_('{where}: unknown setting {key} (known: {value})').format(where=where, key=repr(key), value=', '.join(CHANNEL_KEYS)))
            kind, _required = CHANNEL_KEYS[key]
            wrong_bool = isinstance(item, bool) != (kind is bool)
            if not isinstance(item, kind) or wrong_bool or (kind is str and (not item.strip() or "\x00" in item)):
                expected = {int: "a whole number", bool: "true or false", str: "non-empty text",
                        dict: "a table of shop location = store location"}[kind]
                raise ConfigError(_('{where}: {key} must be {expected}').format(where=where, key=key, expected=expected))
            if kind is str and len(item) > URL_LENGTH:
                raise ConfigError(_('{where}: {key} is longer than {URL_LENGTH} characters').format(where=where, key=key, URL_LENGTH=URL_LENGTH))
        for key, (_kind, required) in CHANNEL_KEYS.items():
            if required and key not in channel:
                raise ConfigError(_('{where}: {key} is required').format(where=where, key=key))
        if channel["platform"] not in PLATFORMS:
            raise ConfigError(_('{where}: platform must be one of {value}').format(where=where, value=', '.join(PLATFORMS)))
        if not 0 <= channel.get("safety_buffer", 0) <= MAX_SAFETY_BUFFER:
            raise ConfigError(_('{where}: safety_buffer is a number of units from 0 to {MAX_SAFETY_BUFFER:,}').format(where=where, MAX_SAFETY_BUFFER=MAX_SAFETY_BUFFER))
        if channel["platform"] != "demo" and not channel["url"].startswith(("https://", "http://")):
            raise ConfigError(_('{where}: url must start with https:// (or http:// for a store on this machine)').format(where=where))
        if "@" in urlsplit(channel["url"]).netloc:
            # The URL is stored in the database and shown on screens; a password in it would be too.
            raise ConfigError(_('{where}: url must not hold a user name or password; credentials belong in the secrets file (tandem --set-secret)').format(where=where))
        if "api_version" in channel and not shopify_versions.is_version(channel["api_version"]):
            raise ConfigError(_('{where}: api_version is a Shopify API version like {example} (YYYY-01, -04, -07 or -10)').format(where=where, example=shopify_versions.DEFAULT))
        if "locations" in channel:
            _check_locations(where, channel)
        if "holiday_country" in channel:
            _check_country(where, channel["holiday_country"])
        if "export_time" in channel and not EXPORT_TIME.fullmatch(channel["export_time"]):
            raise ConfigError(_('{where}: export_time is a time of day like 06:00').format(where=where))
        if "time_zone" in channel:
            try:
                ZoneInfo(channel["time_zone"])
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise ConfigError(_('{where}: unknown time_zone {value} (a name like America/New_York)').format(where=where, value=repr(channel['time_zone']))) from None


def _check_locations(where: str, channel: dict) -> None:
    """`locations = { "Main street" = "gid://shopify/Location/1", ... }`: each shop location the
    store sells, and how the store names it (Shopify: its location id; WooCommerce: the name of its
    pickup location, since WooCommerce keeps one stock per product and gets their sum)."""
    locations = channel["locations"]
    if not locations:
        raise ConfigError(_('{where}: locations names at least one shop location').format(where=where))
    for name, store_location in locations.items():
        if not name.strip() or len(name) > NAME_LENGTH or "\x00" in name:
            raise ConfigError(_('{where}: a location name in locations is 1 to {NAME_LENGTH} characters of text').format(where=where, NAME_LENGTH=NAME_LENGTH))
        if not isinstance(store_location, str) or not store_location.strip() or "\x00" in store_location \
                or len(store_location) > URL_LENGTH:
            raise ConfigError(_("{where}: locations.{name} must be the store's name for it, as non-empty text").format(where=where, name=name))
    stores = list(locations.values())
    if len(set(stores)) != len(stores):
        raise ConfigError(_('{where}: two shop locations in locations name the same store location').format(where=where))
    primary = channel.get("location")
    if primary is not None and primary not in locations:
        raise ConfigError(_('{where}: location {primary} (where shipped orders go) must be one of locations').format(where=where, primary=repr(primary)))
    if primary is not None and "store_location_id" in channel and channel["store_location_id"] != locations[primary]:
        raise ConfigError(_('{where}: store_location_id differs from locations.{primary}; set it in locations only').format(where=where, primary=primary))


def _check_country(where: str, country: str) -> None:
    import holidays  # only when a channel names a country: it is slow to import

    if country not in holidays.list_supported_countries():
        raise ConfigError(_('{where}: holiday_country {country} is not a country the holiday calendar knows (a two-letter code like US, CA or FR)').format(where=where, country=repr(country)))


def _check_staff(path: Path, staff: dict) -> None:
    for key, item in staff.items():
        if key not in KNOWN_SECTIONS["staff"]:
            raise ConfigError(_('{path}: unknown setting staff.{key} (known: cashier_refund_limit)').format(
                path=path, key=key))
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not 0 <= item <= 1_000_000:
            raise ConfigError(_('{path}: staff.cashier_refund_limit is an amount from 0 to 1,000,000, like 100.00').format(
                path=path))


def load_settings(
    db_url: str | None = None,
    config_path: str | os.PathLike | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    if config_path is None and env.get("TANDEM_CONFIG"):
        config_path = env["TANDEM_CONFIG"]
    config_file = Path(config_path).expanduser() if config_path else default_config_file()
    data = _read_config(config_file)
    data_dir = default_data_dir()

    if db_url:
        url, source = db_url, "--db"
    elif env.get("TANDEM_DATABASE_URL"):
        url, source = env["TANDEM_DATABASE_URL"], "TANDEM_DATABASE_URL"
    elif data.get("database", {}).get("url"):
        url, source = data["database"]["url"], str(config_file)
    else:
        url, source = sqlite_url(data_dir / "tandem.sqlite"), "default"
    shop = data.get("shop", {})
    return Settings(
        config_file=config_file,
        config_file_exists=config_file.exists(),
        data_dir=data_dir,
        database_url=url,
        database_source=source,
        default_location=shop.get("default_location"),
        language=shop.get("language"),
        currency=shop.get("currency", "CAD"),
        time_zone=shop.get("time_zone"),
        channels=data.get("channels", {}),
        keys=data.get("keys", {}),
        bell=data.get("console", {}).get("bell", True),
        refresh_seconds=float(data.get("console", {}).get("refresh_seconds", 2)),
        cashier_refund_limit=(Decimal(str(data["staff"]["cashier_refund_limit"])).quantize(Decimal("0.01"))
                              if "cashier_refund_limit" in data.get("staff", {}) else None),
        authorized_keys=Path(env["TANDEM_AUTHORIZED_KEYS"]) if env.get("TANDEM_AUTHORIZED_KEYS")
        else Path.home() / ".ssh" / "authorized_keys",
    )


def remember_language(config_file: Path, language: str) -> None:
    """Write `shop.language` into the settings file, changing that one line (or adding it) so the
    rest of the file, comments included, stays as the shop wrote it."""
    text = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
    line = f'language = "{language}"'
    lines = text.splitlines()
    section, shop_at, done = None, None, False
    for index, current in enumerate(lines):
        stripped = current.strip()
        if stripped.startswith("["):
            section = stripped.strip("[] ")
            if section == "shop":
                shop_at = index
        elif section == "shop" and re.match(r"language\s*=", stripped):
            lines[index], done = line, True
            break
    if not done:
        if shop_at is None:
            lines = [*lines, *([""] if lines else []), "[shop]", line]
        else:
            lines.insert(shop_at + 1, line)
    updated = "\n".join(lines) + "\n"
    try:
        tomllib.loads(updated)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_("{path} could not be read to add the language: {reason}").format(
            path=config_file, reason=exc)) from None
    config_file.parent.mkdir(parents=True, exist_ok=True)
    # Written beside it and renamed over it: a crash mid-write leaves the old file whole, never half.
    partial = config_file.with_name(config_file.name + ".tandem-new")
    partial.write_text(updated, encoding="utf-8")
    if config_file.exists():
        os.chmod(partial, config_file.stat().st_mode & 0o777)
    os.replace(partial, config_file)
