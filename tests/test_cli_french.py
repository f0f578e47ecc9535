"""The command line in French: `tandem --help`, its usage errors and its messages speak only the
catalogue's French (option names, file names and the shop's own names aside), from the locale or
from the settings file; `--json` stays English for the programs that read it."""

from __future__ import annotations

import json
import re

import pytest

from cli import build_parser, main
from tests.tui.test_french import FRENCH, OPTIONS, untranslated, words

# What --help prints besides words: the options' placeholders and choices, never translated.
METAVARS = {"url", "path", "file", "csv", "channel", "date", "name", "old", "new", "kind", "signed", "text",
            "iif", "on", "off", "tandem", "internet_addendum", "packing_slip_form", "retailer_contract",
            "sqlite", "postgresql", "psycopg", "toml", "json", "stdout", "database_url", "config",
            "secret", "systemd", "cron", "quickbooks"}
# The catalog file's column names, which are the file's own words.
COLUMNS = set().union(*(words(column) for column in __import__("core.catalog_import").catalog_import.COLUMNS))


@pytest.fixture
def french(monkeypatch):
    monkeypatch.setenv("LANG", "fr_CA.UTF-8")


def said(capsys) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_help_is_french_from_the_locale(french, capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = said(capsys)
    assert "usage : tandem" in text and "afficher cette aide et quitter" in text
    assert "ouvrir la console sur un magasin de démonstration neuf" in text
    assert not untranslated(text, FRENCH | OPTIONS | METAVARS), text


def test_a_usage_error_is_french_too(french, capsys):
    with pytest.raises(SystemExit) as done:
        main(["--nowhere"])
    assert done.value.code == 2
    text = said(capsys)
    assert "erreur : arguments non reconnus : --nowhere" in text
    assert not untranslated(text, FRENCH | OPTIONS | METAVARS | {"nowhere"}), text


def test_the_settings_file_chooses_french_over_the_locale(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("LANG", "en_CA.UTF-8")
    config = tmp_path / "settings.toml"
    config.write_text('[shop]\nlanguage = "fr"\n', encoding="utf-8")
    assert main(["--paths", "--config", str(config)]) == 0
    assert "fichier de réglages" in said(capsys)


def test_every_message_of_a_shops_first_day_at_the_command_line_is_french(french, capsys, tmp_path):
    db = f"sqlite:///{tmp_path / 'boutique.sqlite'}"
    csv = tmp_path / "caisse.csv"
    csv.write_text("sku,description,price,quantity,upc\nA,Chambre à air,8.99,3,036000241458\nB,Pneu,40,1,\n",
                   encoding="utf-8")
    bad = tmp_path / "mauvais.csv"
    bad.write_text("sku,description,price,couleur\nA,,abc,rouge\n", encoding="utf-8")
    runs = [
        (["--paths"], 0),
        (["--import-catalog", str(csv), "--location", "Atelier", "--db", db], 0),
        (["--import-catalog", str(bad), "--db", db], 1),
        (["--import-catalog", str(tmp_path / "absent.csv"), "--db", db], 1),
        (["--add-location", "Entrepôt", "--db", db], 0),
        (["--rename-location", "Entrepôt", "Réserve", "--db", db], 0),
        (["--locations", "--db", db], 0),
        (["--retire-location", "Nulle part", "--db", db], 1),
        (["--sync", "--db", db], 0),
        (["--export-reconciliation", "2026-13-01", "--out", str(tmp_path / "r.csv"), "--db", db], 2),
        (["--export-reconciliation", "2026-11-28", "--out", str(tmp_path / "r.csv"), "--db", db], 0),
        (["--check", "--db", db], 0),
        (["--set-secret", "web", "--db", db], 2),
    ]
    import os

    data = words(str(tmp_path)) | words(os.environ["XDG_CONFIG_HOME"]) | words(os.environ["XDG_DATA_HOME"]) | \
        words(os.environ["XDG_STATE_HOME"]) | {"backups", "log"} | {"atelier", "entrepôt", "réserve", "nulle", "part", "chambre", "air", "pneu",
                                   "caisse", "mauvais", "absent", "boutique", "sqlite", "couleur", "rouge", "abc",
                                   "csv", "toml", "secrets", "settings", "config", "tandem", "data"}
    for argv, code in runs:
        assert main(argv) == code, argv
        text = said(capsys)
        assert text.strip(), argv
        assert not untranslated(text, FRENCH | OPTIONS | METAVARS | COLUMNS | data), (argv, text)


def test_json_stays_english_for_programs(french, capsys, tmp_path):
    db = f"sqlite:///{tmp_path / 'boutique.sqlite'}"
    assert main(["--sync", "--json", "--db", db]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert isinstance(summary, dict)
    assert "no web store is configured" in captured.err


def test_every_option_has_french_help(french):
    from core.i18n import set_language

    set_language("fr")
    parser = build_parser()
    english_words = re.compile(r"\b(the|and|with|every|when|print|where|store)\b")
    for action in parser._actions:
        assert action.help and not english_words.search(action.help), action.option_strings
