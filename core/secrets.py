"""Store credentials: outside the database, in a file only its owner can read, or in the environment.

The file is `secrets.toml` beside the settings file, one table per channel:

    ["Main web store"]
    access_token = "..."

A variable TANDEM_SECRET_<CHANNEL>_<NAME> (letters upper-cased, anything else turned into `_`)
wins over the file. Values are wrapped in `Secret`, whose printed form never shows them.
"""

from __future__ import annotations

from core.i18n import _

import base64
import json
import os
import re
import stat
import threading
import tomllib
from pathlib import Path
from urllib.parse import quote

import tomli_w

# What each platform needs, as alternatives: the first whose values are all there is used.
# Shopify: a Dev Dashboard app (client ID and secret), or a legacy admin-created app's access token.
NEEDED = {
    "shopify": (("client_id", "client_secret"), ("access_token",)),
    "woocommerce": (("consumer_key", "consumer_secret"),),
    "demo": ((),),
}


class SecretsError(Exception):
    pass


# Every credential this process has loaded, in each form a server or proxy might echo back.
_KNOWN: set[str] = set()
_KNOWN_LOCK = threading.Lock()
MASK = "****"
SHORTEST_SECRET = 4  # shorter values would mask ordinary words


def remember(value: str) -> None:
    """Make `value` (and its URL-encoded and Basic-auth forms) unprintable by `redact`."""
    if not isinstance(value, str) or len(value) < SHORTEST_SECRET:
        return
    with _KNOWN_LOCK:
        _KNOWN.update({value, quote(value, safe=""), quote(value)})


def remember_pair(user: str, password: str) -> None:
    """An HTTP Basic credential: both halves and the header's base64 form."""
    remember(user)
    remember(password)
    remember(base64.b64encode(f"{user}:{password}".encode()).decode())


def redact(text) -> str:
    """`text` with every known secret value masked; applied to whatever Tandem prints, logs or stores."""
    text = "" if text is None else str(text)
    with _KNOWN_LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


class Secret:
    """A credential that can be used but not printed, logged or shown in a traceback's locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value
        remember(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def env_name(channel: str, name: str) -> str:
    return "TANDEM_SECRET_" + re.sub(r"[^A-Z0-9]", "_", f"{channel}_{name}".upper())


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretsError(
            _('{path} can be read by other users (mode {value:03o}); make it private with: chmod 600 {path}').format(path=path, value=stat.S_IMODE(mode))
        )


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    _check_private(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        raise SecretsError(_('{path} is not a valid secrets file (TOML)').format(path=path)) from None


def channel_secrets(path: Path, channel: str, platform: str, environ: dict | None = None) -> dict[str, Secret]:
    """The credentials a channel needs; a clear error names what is missing (never its value)."""
    env = os.environ if environ is None else environ
    stored = _read(path).get(channel, {})
    first_missing: list[str] | None = None
    for names in NEEDED.get(platform, ((),)):
        values = {name: env.get(env_name(channel, name)) or stored.get(name) for name in names}
        missing = [name for name, value in values.items() if not value]
        if not missing:
            return {name: Secret(str(value)) for name, value in values.items()}
        first_missing = first_missing or missing
    missing = first_missing or []
    raise SecretsError(
        _('channel {channel} has no {value}: run `tandem --set-secret {value2}` or set {value3}').format(channel=repr(channel), value=', '.join(missing), value2=json.dumps(channel), value3=env_name(channel, missing[0]))
    )


def webhook_secret(path: Path, channel: str, environ: dict | None = None) -> str | None:
    """The secret a channel's webhooks are signed with, if one is set (webhooks are optional). A
    Dev Dashboard app's webhooks are signed with its client secret: that one, unless set apart."""
    env = os.environ if environ is None else environ
    stored = _read(path).get(channel, {})
    value = (env.get(env_name(channel, "webhook_secret")) or stored.get("webhook_secret")
             or env.get(env_name(channel, "client_secret")) or stored.get("client_secret"))
    if value:
        remember(str(value))
    return str(value) if value else None


def save_secret(path: Path, channel: str, name: str, value: str) -> None:
    """Write one credential, keeping the others; the file is created private (0600)."""
    save_secrets(path, channel, {name: value})


def save_secrets(path: Path, channel: str, values: dict[str, str], forget: set[str] | frozenset = frozenset()) -> None:
    """Write a channel's credentials at once, dropping those in `forget` (the other way to sign in,
    which would otherwise still be used); the file is created private (0600)."""
    data = _read(path)
    kept = {name: value for name, value in data.get(channel, {}).items() if name not in forget}
    data[channel] = {**kept, **values}
    # A TOML library writes it: any channel name (quotes, emoji, newlines) comes back as it went in.
    text = tomli_w.dumps(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
