"""The words Tandem shows, in the shop's language, and its money, numbers and dates in the shop's formats.

Every text a person reads goes through `_` (or `ngettext` for counts); the English text is the
message id, and `core/locale/fr/LC_MESSAGES/tandem.po` holds the French. The catalogue is plain
gettext, extracted and checked with Babel (`scripts/catalogue.py`). The language comes from the
settings (`shop.language`: "fr", "fr_CA", "fr_FR", "en", …), else from the locale (LC_ALL,
LC_MESSAGES, LANG), else English; a region picks the formats (`fr` alone is Canadian French:
`1 234,56 $`, `fr_FR` is France's). Output meant for programs (`--json`) stays English.

One language at a time for the whole process: the console and the headless sync are one person's
session each, and a switch from the console takes effect everywhere at once.
"""

from __future__ import annotations

import gettext
import os
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

LANGUAGES = ("en", "fr")
DEFAULT_REGION = {"en": "en_CA", "fr": "fr_CA"}  # Tandem's first shops are Canadian
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "tandem"
SETTING = re.compile(r"(?P<language>[A-Za-z]{2})(?:[_-](?P<region>[A-Za-z]{2}))?")


class _State:
    language = "en"
    locale = "en_CA"
    currency = "CAD"
    translations: gettext.NullTranslations = gettext.NullTranslations()


_state = _State()
_catalogues: dict[str, gettext.NullTranslations] = {}


def N_(message: str) -> str:
    """Marks a text for the catalogue where it is defined; it is translated where it is shown, with `_`."""
    return message


def _(message: str) -> str:
    return _state.translations.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for `count`, by the catalogue's own plural rule (French says "0 produit")."""
    return _state.translations.ngettext(singular, plural, count)


def catalogue(language: str) -> gettext.NullTranslations:
    """A language's compiled catalogue (core/locale/<language>/LC_MESSAGES/tandem.mo, made from its
    .po by scripts/catalogue.py), read once; English is the message ids themselves."""
    if language == "en":
        return gettext.NullTranslations()
    if language not in _catalogues:
        _catalogues[language] = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])
    return _catalogues[language]


def locale_from_environment(environ: dict | None = None) -> str | None:
    env = os.environ if environ is None else environ
    value = env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    return value.split(".")[0].split("@")[0] or None


def _parse(value: str | None) -> str | None:
    """"fr", "fr-CA", "fr_FR.UTF-8" as a locale name Tandem speaks ("fr_CA", "fr_FR"), or None."""
    found = SETTING.fullmatch((value or "").split(".")[0].split("@")[0])
    if found is None or found["language"].lower() not in LANGUAGES:
        return None
    language = found["language"].lower()
    return f"{language}_{found['region'].upper()}" if found["region"] else DEFAULT_REGION[language]


def resolve(setting: str | None, environ: dict | None = None) -> str:
    """The locale for a setting (or, without one, the environment): English when neither names a
    language Tandem speaks."""
    return _parse(setting) or _parse(locale_from_environment(environ)) or DEFAULT_REGION["en"]


def valid_setting(value: str) -> bool:
    return _parse(value) is not None


def set_language(setting: str | None = None, environ: dict | None = None, currency: str | None = None) -> str:
    """Speak the language of `setting` (or of the environment) from now on; returns "en" or "fr"."""
    chosen = resolve(setting, environ)
    _state.locale = chosen
    _state.language = chosen[:2]
    _state.translations = catalogue(_state.language)
    if currency:
        _state.currency = currency
    return _state.language


def language() -> str:
    return _state.language


def locale_name() -> str:
    return _state.locale


def other_language() -> str:
    return "fr" if _state.language == "en" else "en"


# ---- formats ----

# Babel (CLDR's number and date formats) loads when something is first shown, not at start.

def money(value: Decimal | int | float, currency: str | None = None) -> str:
    """An amount with its currency, as the shop's locale writes it: $1,234.56, 1 234,56 $."""
    from babel.numbers import format_currency

    return format_currency(Decimal(value), currency or _state.currency, locale=_state.locale)


def amount(value: Decimal | int | float) -> str:
    """An amount in a column of amounts: grouped, two decimals, no symbol."""
    from babel.numbers import format_decimal

    return format_decimal(Decimal(value), format="#,##0.00", locale=_state.locale)


def number(value: int | Decimal | float, decimals: int = 0) -> str:
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=_state.locale)


def rate(value: Decimal) -> str:
    """A tax rate in percent, with as many decimals as it has: 5, 14,975."""
    from babel.numbers import format_decimal

    return format_decimal(value, format="0.######", locale=_state.locale)


_STRFTIME = {"%a": "EEE", "%A": "EEEE", "%d": "dd", "%b": "MMM", "%B": "MMMM", "%m": "MM", "%Y": "yyyy",
             "%y": "yy", "%H": "HH", "%M": "mm", "%S": "ss", "%Z": "zzz", "%%": "%"}


def _pattern(fmt: str) -> str:
    """A strftime format as a CLDR pattern, words between codes quoted."""
    pieces = re.split(r"(%.)", fmt)
    out = []
    for piece in pieces:
        if piece in _STRFTIME:
            out.append(_STRFTIME[piece])
        elif piece:
            out.append("".join(f"'{c}'" if c.isalpha() else c for c in piece).replace("''", ""))
    return "".join(out)


def moment(value: datetime, fmt: str) -> str:
    """A moment (already in the shop's time zone) in the language's words: "Sun 29 Nov 03:42",
    "dim. 29 nov. 03:42"."""
    from babel.dates import format_datetime

    return format_datetime(value, _pattern(fmt), locale=_state.locale)


def zone_name(value: datetime) -> str:
    """The short name of a moment's time zone in the language's words (EST, HNE), from CLDR; the
    zone's own abbreviation where the language has none for it."""
    from babel.dates import format_datetime

    named = format_datetime(value, "zzz", locale=_state.locale)
    return value.tzname() or named if named[:1] in "+-" or named.startswith(("GMT", "UTC")) else named


def day(value: date, fmt: str = "%a %d %b %Y") -> str:
    from babel.dates import format_date

    return format_date(value, _pattern(fmt), locale=_state.locale)


def parse_decimal(text: str) -> Decimal:
    """A number as staff type it in their language: "14,975" in French, "1,234.50" in English; a dot
    is a decimal point in French too, since keypads type one. Raises ValueError with what was typed."""
    from babel.numbers import NumberFormatError
    from babel.numbers import parse_decimal as babel_parse_decimal

    cleaned = text.strip().replace("\u00a0", " ").replace("\u202f", " ").rstrip("%$€ ").lstrip("$€ ")
    if not cleaned:
        raise ValueError(_("Type a number."))
    try:
        if _state.language == "fr" and "." in cleaned and "," not in cleaned:
            value = Decimal(cleaned.replace(" ", ""))
        else:
            value = babel_parse_decimal(cleaned.replace(" ", ""), locale=_state.locale, strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        raise ValueError(_("“{text}” is not a number.").format(text=text.strip())) from None
    return Decimal(value)

