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
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

APP_NAME = "tandem"
KNOWN_SECTIONS = {"database": {"url"}, "shop": {"default_location", "language", "time_zone"}, "channels": None,
                  "keys": None, "console": {"bell", "refresh_seconds"}}
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
    time_zone: str | None = None  # the shop's; None: the machine's
    channels: dict[str, dict] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # the console's keys a shop rebinds, by action id
    bell: bool = True  # the console rings when a web sale that needs someone arrives
    refresh_seconds: float = 2.0  # how often the console looks for changes made elsewhere

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
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: is not valid TOML ({exc})") from None
    for section, value in data.items():
        if section not in KNOWN_SECTIONS:
            known = ", ".join(sorted(KNOWN_SECTIONS))
            raise ConfigError(f"{path}: unknown section [{section}] (known: {known})")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: [{section}] must be a table of settings")
        if section == "channels":
            _check_channels(path, value)
            continue
        if section == "keys":
            # The console's own keys, by action id ("home.inbox" = "S"); the console checks the ids.
            for action_id, keys in value.items():
                if not isinstance(keys, str) or not keys.strip() or "\x00" in keys or len(keys) > 50:
                    raise ConfigError(f"{path}: keys.{action_id} must be key names like \"S\" or \"ctrl+s\"")
            continue
        if section == "console":
            _check_console(path, value)
            continue
        for key, item in value.items():
            if key not in KNOWN_SECTIONS[section]:
                known = ", ".join(sorted(KNOWN_SECTIONS[section]))
                raise ConfigError(f"{path}: unknown setting {section}.{key} (known: {known})")
            if not isinstance(item, str) or not item.strip() or "\x00" in item:
                raise ConfigError(f"{path}: {section}.{key} must be a non-empty text value")
    zone = data.get("shop", {}).get("time_zone")
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ConfigError(f"{path}: unknown shop.time_zone {zone!r} (a name like America/Toronto)") from None
    language = data.get("shop", {}).get("language")
    if language is not None and language not in LANGUAGES:
        raise ConfigError(f"{path}: shop.language must be one of {', '.join(LANGUAGES)}")
    return data


def _check_console(path: Path, console: dict) -> None:
    for key, item in console.items():
        if key not in KNOWN_SECTIONS["console"]:
            known = ", ".join(sorted(KNOWN_SECTIONS["console"]))
            raise ConfigError(f"{path}: unknown setting console.{key} (known: {known})")
    if not isinstance(console.get("bell", True), bool):
        raise ConfigError(f"{path}: console.bell is true or false")
    seconds = console.get("refresh_seconds", 2)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0.2 <= seconds <= 600:
        raise ConfigError(f"{path}: console.refresh_seconds is a number of seconds from 0.2 to 600")


MAX_SAFETY_BUFFER = 1_000_000
NAME_LENGTH, URL_LENGTH = 100, 500


def _check_channels(path: Path, channels: dict) -> None:
    for name, channel in channels.items():
        where = f"{path}: [channels.{name[:NAME_LENGTH]!s}]"
        if not name.strip() or len(name) > NAME_LENGTH or "\x00" in name:
            raise ConfigError(f"{where}: a channel name is 1 to {NAME_LENGTH} characters of text")
        if not isinstance(channel, dict):
            raise ConfigError(f"{where} must be a table of settings")
        for key, item in channel.items():
            if key in ("access_token", "consumer_key", "consumer_secret", "password", "token", "secret"):
                raise ConfigError(f"{where}: credentials belong in the secrets file (tandem --set-secret), not here")
            if key not in CHANNEL_KEYS:
                raise ConfigError(f"{where}: unknown setting {key!r} (known: {', '.join(CHANNEL_KEYS)})")
            kind, _ = CHANNEL_KEYS[key]
            wrong_bool = isinstance(item, bool) != (kind is bool)
            if not isinstance(item, kind) or wrong_bool or (kind is str and (not item.strip() or "\x00" in item)):
                expected = {int: "a whole number", bool: "true or false", str: "non-empty text",
                        dict: "a table of shop location = store location"}[kind]
                raise ConfigError(f"{where}: {key} must be {expected}")
            if kind is str and len(item) > URL_LENGTH:
                raise ConfigError(f"{where}: {key} is longer than {URL_LENGTH} characters")
        for key, (_, required) in CHANNEL_KEYS.items():
            if required and key not in channel:
                raise ConfigError(f"{where}: {key} is required")
        if channel["platform"] not in PLATFORMS:
            raise ConfigError(f"{where}: platform must be one of {', '.join(PLATFORMS)}")
        if not 0 <= channel.get("safety_buffer", 0) <= MAX_SAFETY_BUFFER:
            raise ConfigError(f"{where}: safety_buffer is a number of units from 0 to {MAX_SAFETY_BUFFER:,}")
        if channel["platform"] != "demo" and not channel["url"].startswith(("https://", "http://")):
            raise ConfigError(f"{where}: url must start with https:// (or http:// for a store on this machine)")
        if "@" in urlsplit(channel["url"]).netloc:
            # The URL is stored in the database and shown on screens; a password in it would be too.
            raise ConfigError(f"{where}: url must not hold a user name or password; credentials belong in the "
                              "secrets file (tandem --set-secret)")
        if "locations" in channel:
            _check_locations(where, channel)
        if "holiday_country" in channel:
            _check_country(where, channel["holiday_country"])
        if "export_time" in channel and not EXPORT_TIME.fullmatch(channel["export_time"]):
            raise ConfigError(f"{where}: export_time is a time of day like 06:00")
        if "time_zone" in channel:
            try:
                ZoneInfo(channel["time_zone"])
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise ConfigError(f"{where}: unknown time_zone {channel['time_zone']!r} "
                                  "(a name like America/New_York)") from None


def _check_locations(where: str, channel: dict) -> None:
    """`locations = { "Main street" = "gid://shopify/Location/1", ... }`: each shop location the
    store sells, and how the store names it (Shopify: its location id; WooCommerce: the name of its
    pickup location, since WooCommerce keeps one stock per product and gets their sum)."""
    locations = channel["locations"]
    if not locations:
        raise ConfigError(f"{where}: locations names at least one shop location")
    for name, store_location in locations.items():
        if not name.strip() or len(name) > NAME_LENGTH or "\x00" in name:
            raise ConfigError(f"{where}: a location name in locations is 1 to {NAME_LENGTH} characters of text")
        if not isinstance(store_location, str) or not store_location.strip() or "\x00" in store_location \
                or len(store_location) > URL_LENGTH:
            raise ConfigError(f"{where}: locations.{name} must be the store's name for it, as non-empty text")
    stores = list(locations.values())
    if len(set(stores)) != len(stores):
        raise ConfigError(f"{where}: two shop locations in locations name the same store location")
    primary = channel.get("location")
    if primary is not None and primary not in locations:
        raise ConfigError(f"{where}: location {primary!r} (where shipped orders go) must be one of locations")
    if primary is not None and "store_location_id" in channel and channel["store_location_id"] != locations[primary]:
        raise ConfigError(f"{where}: store_location_id differs from locations.{primary}; set it in locations only")


def _check_country(where: str, country: str) -> None:
    import holidays  # only when a channel names a country: it is slow to import

    if country not in holidays.list_supported_countries():
        raise ConfigError(f"{where}: holiday_country {country!r} is not a country the holiday calendar knows "
                          "(a two-letter code like US, CA or FR)")


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
        time_zone=shop.get("time_zone"),
        channels=data.get("channels", {}),
        keys=data.get("keys", {}),
        bell=data.get("console", {}).get("bell", True),
        refresh_seconds=float(data.get("console", {}).get("refresh_seconds", 2)),
    )
