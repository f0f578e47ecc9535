import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from cli import main
from core.db import open_database
from core.models import Product


def test_paths_prints_where_everything_lives(capsys, tmp_path):
    assert main(["--paths", "--config", str(tmp_path / "c.toml")]) == 0
    out = capsys.readouterr().out
    assert f"settings file  {tmp_path / 'c.toml'}  (not created yet" in out
    assert f"database       sqlite:///{os.environ['XDG_DATA_HOME']}/tandem/tandem.sqlite  (from default)" in out
    assert "demo database" in out


def test_paths_hides_a_database_password(capsys):
    assert main(["--paths", "--db", "postgresql+psycopg://shop:s3cret@db.internal/tandem"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out and "shop:***@db.internal" in out


def test_environment_variable_chooses_the_database(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TANDEM_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    main(["--paths"])
    assert "env.sqlite  (from TANDEM_DATABASE_URL)" in capsys.readouterr().out


def test_import_catalog_reports_counts(capsys, tmp_path):
    csv = tmp_path / "pos.csv"
    csv.write_text("sku,description,price,quantity,upc\nA,Tube,8.99,3,036000241458\nB,Tyre,40,1,\n")
    db = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    assert main(["--import-catalog", str(csv), "--location", "Main Street", "--db", db]) == 0
    captured = capsys.readouterr()
    assert "pos.csv: 2 rows for Main Street: 2 added, 0 updated, 0 unchanged" in captured.out
    assert "warning: line 2, upc: barcode '036000241458' has a wrong check digit" in captured.err


def test_import_catalog_refuses_a_bad_file_and_writes_nothing(capsys, tmp_path):
    csv = tmp_path / "pos.csv"
    csv.write_text("sku,description,price\nA,Tube,cheap\nB,Tyre,40\n")
    db = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    assert main(["--import-catalog", str(csv), "--db", db]) == 1
    err = capsys.readouterr().err
    assert "catalog not imported: 1 problem; nothing was written." in err
    assert "line 2, price: not an amount: 'cheap'" in err
    with open_database(db).connect() as conn:
        assert conn.execute(select(func.count()).select_from(Product.__table__)).scalar() == 0


def test_import_catalog_of_a_missing_file(capsys, tmp_path):
    assert main(["--import-catalog", str(tmp_path / "nope.csv"), "--db", f"sqlite:///{tmp_path}/x.sqlite"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_a_bad_settings_file_is_a_clear_error(capsys, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[database\n")
    assert main(["--paths", "--config", str(config)]) == 2
    assert capsys.readouterr().err.startswith(f"tandem: {config}: is not valid TOML")


def test_an_unusable_database_url_is_a_clear_error(capsys, tmp_path):
    assert main(["--sync", "--db", "mysql://x/y"]) == 1
    assert "unsupported database 'mysql'" in capsys.readouterr().err


def test_location_without_import_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--location", "Main Street"])
    assert caught.value.code == 2


def test_the_console_script_is_installed_and_answers_help():
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "tandem"), "--help"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0
    assert "--import-catalog FILE.csv" in result.stdout and "--sync" in result.stdout


def test_a_name_holding_terminal_sequences_is_printed_as_symbols(capsys, tmp_path):
    """A name holding escape sequences (a store's name or error can; a location's, written by an
    older version or by hand in the database) is printed with its control characters shown,
    never written to the terminal as they are."""
    from sqlalchemy import create_engine, text

    db = f"sqlite:///{tmp_path}/shop.sqlite"
    hostile = "Back\x1b[2J\x1b]52;c;cHduZWQ=\x07room\u202e"
    assert main(["--add-location", "Backroom", "--db", db]) == 0
    with create_engine(db).begin() as conn:
        conn.execute(text("UPDATE location SET name = :name"), {"name": hostile})
    assert main(["--locations", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Back␛[2J␛]52;c;cHduZWQ=␇room\ufffd" in out
    assert not any(ch in out for ch in "\x1b\x07\u202e")
    assert "\t" in out, "the listing's own tabs stay"
