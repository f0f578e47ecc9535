"""The help panel's questions and answers, in English and French, told as they apply to Tandem.

The text lives in core/help/en.toml and fr.toml, one file per language, so a translator edits it
without touching Python. The first nineteen topics cover every question of the point-of-sale FAQ
Tandem was built from (its facts, in new words); the rest are questions Tandem itself raises.
`screens` says which screens open the panel on that entry with F1.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import snowballstemmer

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


def _stems(words: list[str], language: str) -> list[str]:
    return snowballstemmer.stemmer("french" if language == "fr" else "english").stemWords(words)


def _same_family(typed: str, known: str) -> bool:
    """Two stems of one word family: equal, or one the other's start when that start is long enough
    to mean something — a typed start (rembours…), or a stem a letter or two longer (expédi-er,
    expédit-ion), never a typed word that merely begins with a known one."""
    if typed == known:
        return True
    if len(typed) >= 5 and known.startswith(typed):
        return True
    return len(known) >= 5 and typed.startswith(known) and len(typed) - len(known) <= 2


@functools.cache
def _indexed(topic: str, language: str) -> tuple[str, frozenset[str]]:
    question, answer = next(entry for entry in ENTRIES if entry.topic == topic).text(language)
    haystack = fold(f"{question} {answer}")
    return haystack, frozenset(_stems(re.findall(r"\w+", haystack), language))


def search(query: str, language: str) -> list[Entry]:
    """The entries holding every typed word, as typed (a start of a word is enough) or as another
    word of its family: "remboursement" finds "rembourser" and "remboursé"; accents and case aside."""
    words = fold(query).split()
    if not words:
        return list(ENTRIES)
    typed_stems = _stems(words, language)
    found = []
    for entry in ENTRIES:
        haystack, stems = _indexed(entry.topic, language)
        if all(word in haystack or any(_same_family(stem, known) for known in stems)
               for word, stem in zip(words, typed_stems)):
            found.append(entry)
    return found


def for_screen(screen: str) -> list[Entry]:
    return [entry for entry in ENTRIES if screen in entry.screens]
