"""The message catalogue, checked as CI checks it: every text in the code is in the template, every
French entry is translated and not fuzzy, placeholders and markup are the same in both languages,
and the compiled .mo Tandem reads is the current .po's."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def catalogue():
    spec = importlib.util.spec_from_file_location("catalogue", ROOT / "scripts" / "catalogue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_catalogue_is_complete_and_consistent(catalogue):
    assert catalogue.problems() == []


def test_the_template_holds_the_texts_of_every_layer(catalogue):
    places = {location[0].split("/")[0] for message in catalogue.extract() for location in message.locations}
    assert places == {"core", "tui", "cli"}
    ids = {message.id for message in catalogue.extract()}
    assert {"Sales inbox", "held until {moment}", "usage: ", "ready for pickup"} <= ids


def _french(*entries) -> Catalog:
    catalog = Catalog(locale="fr", fuzzy=False)
    for english, french, *flags in entries:
        catalog.add(english, french, flags=flags)
    return catalog


def test_the_check_finds_a_missing_a_fuzzy_and_a_mismatched_translation(catalogue):
    found = catalogue.translation_problems(_french(
        ("Sale {number}", "Vente {number}"),
        ("Saved.", ""),
        ("Recorded.", "Inscrit.", "fuzzy"),
        ("Total {total}", "Total {montant}"),
        ("[b]Pickup of {number}[/b]", "Cueillette de {number}"),
        ("%(prog)s: error: %(message)s\n", "%(prog)s : erreur\n"),
        (("{count} product", "{count} products"), ("{count} produit", "", "")),
    ), "fr")
    assert found == [
        "fr: not translated: 'Saved.'",
        "fr: fuzzy: 'Recorded.'",
        "fr: placeholders or markup differ: 'Total {total}' -> 'Total {montant}'",
        "fr: placeholders or markup differ: '[b]Pickup of {number}[/b]' -> 'Cueillette de {number}'",
        "fr: placeholders or markup differ: '%(prog)s: error: %(message)s\\n' -> '%(prog)s : erreur\\n'",
        "fr: not translated: '{count} product'",
    ]
    assert not any("Sale {number}" in line for line in found)


def test_the_compiled_catalogue_is_what_tandem_reads(catalogue):
    from core.i18n import _, ngettext, set_language

    set_language("fr")
    assert _("Sales inbox") == "Ventes en ligne"
    assert ngettext("{count} product", "{count} products", 0) == "{count} produit"
    assert ngettext("{count} product", "{count} products", 2) == "{count} produits"


def test_no_text_is_marked_where_extraction_cannot_see_it():
    """Babel reads `_("…")` in code, not inside an f-string's braces: such a text would never reach
    the catalogue."""
    hidden = re.compile(r"""\{_\(["']""")
    found = [f"{path.relative_to(ROOT)}:{number}" for package in ("core", "tui", "cli")
             for path in (ROOT / package).rglob("*.py")
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if hidden.search(line)]
    assert found == []
