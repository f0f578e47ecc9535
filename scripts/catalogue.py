"""The message catalogue: extract the texts marked in the code, merge them into each language, check.

    uv run python scripts/catalogue.py update   # after changing texts: new ones appear untranslated;
                                                # also compiles each .po into the .mo Tandem reads
    uv run python scripts/catalogue.py check    # what CI checks (tests/test_catalogue.py runs it too)

The template (core/locale/tandem.pot) and each language's .po are Babel's gettext files; a
translator opens the .po in any gettext editor (Poedit, Lokalize, Weblate).
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "core" / "locale"
TEMPLATE = LOCALE_DIR / "tandem.pot"
TRANSLATIONS = {"fr": LOCALE_DIR / "fr" / "LC_MESSAGES" / "tandem.po"}
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\(\w+\)[sdr]|%[sdr]")
MARKUP = re.compile(r"\[/?[a-z ]*\]")


def extract() -> Catalog:
    """Every marked text in core/, tui/ and cli/, with where it is used."""
    template = Catalog(project="Tandem", domain="tandem", fuzzy=False)
    for package in ("core", "tui", "cli"):
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
                strip_comment_tags=True):
            template.add(message, None, [(f"{package}/{filename}", lineno)], auto_comments=comments, context=context)
    return template


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _write(catalog: Catalog, path: Path) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_output=False, omit_header=False, include_previous=False)
    path.write_bytes(buffer.getvalue())


def update() -> None:
    template = extract()
    _write(template, TEMPLATE)
    for language, path in TRANSLATIONS.items():
        catalog = _read(path, language) if path.exists() else Catalog(locale=language, domain="tandem")
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        _write(catalog, path)
        compiled(path).write_bytes(_compile(_read(path, language)))


def compiled(po: Path) -> Path:
    return po.with_suffix(".mo")


def _compile(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def _ids(catalog: Catalog) -> set:
    return {message.id for message in catalog if message.id}


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text)) + sorted(MARKUP.findall(text))


def translation_problems(catalog: Catalog, language: str) -> list[str]:
    """What is wrong with one language's translations: missing, fuzzy, placeholders or markup that
    differ from the English, and Babel's own checks (python-format, plural forms)."""
    found = []
    if catalog.fuzzy:
        found.append(f"{language}: the catalogue's header is marked fuzzy")
    checked = {id(message): errors for message, errors in catalog.check()}
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            found.append(f"{language}: fuzzy: {ids[0]!r}")
        if not all(strings):
            found.append(f"{language}: not translated: {ids[0]!r}")
            continue
        for text in strings:
            if _placeholders(text) != _placeholders(ids[0]):
                found.append(f"{language}: placeholders or markup differ: {ids[0]!r} -> {text!r}")
        found.extend(f"{language}: {ids[0]!r}: {error}" for error in checked.get(id(message), ()))
    return found


def problems() -> list[str]:
    """What is wrong with the catalogue, one line each: empty when it is complete and consistent."""
    found = []
    code = extract()
    template = _read(TEMPLATE)
    if _ids(code) != _ids(template):
        new, gone = _ids(code) - _ids(template), _ids(template) - _ids(code)
        found.append(f"tandem.pot is out of date: {len(new)} new, {len(gone)} gone texts "
                     f"(run scripts/catalogue.py update); e.g. {sorted(map(str, new | gone))[:3]}")
    for language, path in TRANSLATIONS.items():
        catalog = _read(path, language)
        if _ids(catalog) != _ids(code):
            found.append(f"{language}: not merged with the code's texts (run scripts/catalogue.py update)")
        if not compiled(path).exists() or compiled(path).read_bytes() != _compile(catalog):
            found.append(f"{language}: tandem.mo is not compiled from the current tandem.po "
                         "(run scripts/catalogue.py update)")
        found += translation_problems(catalog, language)
    return found


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        update()
        return 0
    issues = problems()
    print("\n".join(issues) if issues else "catalogue complete: every text translated, placeholders identical")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
