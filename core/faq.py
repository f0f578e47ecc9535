"""The help panel's questions and answers, in English and French, told as they apply to Tandem.

The text lives in core/help/en.toml and fr.toml, one file per language, so a translator edits it
without touching Python. The first nineteen topics cover every question of the point-of-sale FAQ
Tandem was built from (its facts, in new words); the rest are questions Tandem itself raises.
`screens` says which screens open the panel on that entry with F1.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("en", "fr")
HELP_DIR = Path(__file__).with_name("help")


@dataclass(frozen=True)
class Entry:
    topic: str
    screens: tuple[str, ...]
    en: tuple[str, str]
    fr: tuple[str, str]

    def text(self, language: str) -> tuple[str, str]:
        return self.fr if language == "fr" else self.en


def _load() -> tuple[Entry, ...]:
    """The entries from core/help/<language>.toml: English gives the order and the screens, each
    translation the same topics' questions and answers."""
    texts = {language: tomllib.loads((HELP_DIR / f"{language}.toml").read_text(encoding="utf-8"))
             for language in LANGUAGES}
    for language, table in texts.items():
        if set(table) != set(texts["en"]):
            raise RuntimeError(f"core/help/{language}.toml does not have the same questions as en.toml")
    return tuple(Entry(topic, tuple(item["screens"]), (item["question"], item["answer"]),
                       (texts["fr"][topic]["question"], texts["fr"][topic]["answer"]))
                 for topic, item in texts["en"].items())


ENTRIES: tuple[Entry, ...] = _load()
SEED_TOPICS = tuple(entry.topic for entry in ENTRIES[:19])


def fold(text: str) -> str:
    """Accents, case and hyphens do not matter to search: "ecommerce" finds "e-commerce"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold().replace("-", "").replace("’", "'")


def search(query: str, language: str) -> list[Entry]:
    words = fold(query).split()
    if not words:
        return list(ENTRIES)
    found = []
    for entry in ENTRIES:
        question, answer = entry.text(language)
        haystack = fold(f"{question} {answer}")
        if all(word in haystack for word in words):
            found.append(entry)
    return found


def for_screen(screen: str) -> list[Entry]:
    return [entry for entry in ENTRIES if screen in entry.screens]


def default_language(configured: str | None = None, environ: dict | None = None) -> str:
    import os

    if configured in LANGUAGES:
        return configured
    env = os.environ if environ is None else environ
    locale = env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    return "fr" if locale.lower().startswith("fr") else "en"
