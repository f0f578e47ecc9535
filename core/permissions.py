"""Files only the shop's account should read: the settings (a database URL may carry its
password), the secrets, the SQLite database and its backups (customers' names, emails, phones),
and the log. `tandem --check` names any that others can read; `tandem --fix-permissions` makes
them private (0600, folders 0700)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def _sqlite_file(url: str) -> Path | None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser()


def private_paths(settings) -> list[Path]:
    """Every such file or folder that exists, folders first."""
    from core.logs import log_dir

    folders, files = [settings.data_dir, settings.backup_folder or settings.data_dir / "backups", log_dir()], \
        [settings.config_file, settings.secrets_file]
    database = _sqlite_file(settings.database_url)
    if database is not None:
        folders.append(database.parent)
        files += [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]
    for folder in folders[:]:
        if folder.is_dir() and folder.name == "backups":
            files += sorted(folder.glob("*.sqlite"))
    seen, paths = set(), []
    for path in [*folders, *files]:
        if path not in seen and path.exists():
            seen.add(path)
            paths.append(path)
    return paths


def readable_by_others(path: Path) -> int | None:
    """The mode when the group or others may read or write it, else None."""
    mode = stat.S_IMODE(path.stat().st_mode)
    return mode if mode & (stat.S_IRWXG | stat.S_IRWXO) else None


def loose_paths(settings) -> list[tuple[Path, int]]:
    return [(path, mode) for path in private_paths(settings) if (mode := readable_by_others(path)) is not None]


def make_private(settings) -> list[Path]:
    """chmod 0700 the folders and 0600 the files that others could read; returns those changed."""
    changed = []
    for path, _mode in loose_paths(settings):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
        changed.append(path)
    return changed
