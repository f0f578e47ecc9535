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

import platformdirs

from core.i18n import _

APP_NAME = "tandem"


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
    refresh_seconds: float = 0.5  # SQLite: how often the console looks for a commit elsewhere (PostgreSQL tells it)
    cashier_refund_limit: Decimal | None = None  # a cashier's largest refund alone (None: core.roles' default)
    backup_keep_days: int = 14  # how many days of `tandem --backup` copies are kept
    backup_folder: Path | None = None  # where they go (None: `backups` in the data directory)
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


def _read_config(path: Path):
    """The settings file, parsed and checked against `core.settings_schema` (empty when absent)."""
    from core.settings_schema import SettingsFile

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return SettingsFile()
    except OSError as exc:
        raise ConfigError(_('{path}: cannot be read ({strerror})').format(path=path, strerror=exc.strerror)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(_('{path}: is not UTF-8 text').format(path=path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_('{path}: is not valid TOML ({exc})').format(path=path, exc=exc)) from None
    from pydantic import ValidationError

    from core.settings_schema import explain

    try:
        return SettingsFile.model_validate(data)
    except ValidationError as error:
        raise ConfigError(explain(error, path)) from None


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
    elif data.database.url:
        url, source = data.database.url, str(config_file)
    else:
        url, source = sqlite_url(data_dir / "tandem.sqlite"), "default"
    return Settings(
        config_file=config_file,
        config_file_exists=config_file.exists(),
        data_dir=data_dir,
        database_url=url,
        database_source=source,
        default_location=data.shop.default_location,
        language=data.shop.language,
        currency=data.shop.currency,
        time_zone=data.shop.time_zone,
        # As the file gives them: the channel rows are made from these (core.channels).
        channels={name: channel.model_dump(exclude_unset=True) for name, channel in data.channels.items()},
        keys=dict(data.keys),
        bell=data.console.bell,
        refresh_seconds=float(data.console.refresh_seconds),
        cashier_refund_limit=data.staff.refund_limit,
        backup_keep_days=data.backup.keep_days,
        backup_folder=Path(data.backup.folder).expanduser() if data.backup.folder else data_dir / "backups",
        authorized_keys=Path(env["TANDEM_AUTHORIZED_KEYS"]) if env.get("TANDEM_AUTHORIZED_KEYS")
        else Path.home() / ".ssh" / "authorized_keys",
    )


def settings_stamp(config_file: Path) -> tuple[int, int] | None:
    """What tells a changed settings file (its time and size), or None while there is none."""
    try:
        status = config_file.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def reload_settings(settings: Settings) -> Settings:
    """The settings file read again, for a console that was open before it existed or while it was
    edited. The database stays the one the console opened (a new one needs a new console)."""
    from dataclasses import replace

    fresh = load_settings(config_path=settings.config_file)
    return replace(fresh, database_url=settings.database_url, database_source=settings.database_source)


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
