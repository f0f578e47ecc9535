"""What keeps a shop's installation sound for years: one version, settings checked once, private
files, backups from the command line, and Tandem's own code never replaced by another package's."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from cli import main
from core.db import open_database

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_pyprojects_one_number(capsys):
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tandem {expected}"
    assert f"## {expected}" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), "the changelog says what it holds"
    assert not any("__version__" in path.read_text(encoding="utf-8") for path in (ROOT / "core").glob("*.py"))


def test_a_misspelt_setting_stops_the_command_naming_it_and_the_closest(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text('[shop]\ntime_zon = "America/Toronto"\n', encoding="utf-8")
    assert main(["--sync", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "unknown setting shop.time_zon (did you mean time_zone?)" in err and str(config) in err


def test_a_settings_file_others_can_read_is_named_and_fixed_on_request(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text('[shop]\ncurrency = "CAD"\n', encoding="utf-8")
    os.chmod(config, 0o644)
    database = tmp_path / "shop.sqlite"
    open_database(f"sqlite:///{database}").dispose()
    os.chmod(database, 0o644)
    assert main(["--paths", "--config", str(config), "--db", f"sqlite:///{database}"]) == 0
    err = capsys.readouterr().err
    assert "can be read by other users (mode 644)" in err and "tandem --fix-permissions" in err
    assert main(["--fix-permissions", "--config", str(config), "--db", f"sqlite:///{database}"]) == 0
    out = capsys.readouterr().out
    assert f"made private: {config}" in out and f"made private: {database}" in out
    assert config.stat().st_mode & 0o777 == 0o600 and database.stat().st_mode & 0o777 == 0o600
    assert main(["--paths", "--config", str(config)]) == 0
    assert "can be read by other users" not in capsys.readouterr().err


def test_backup_and_restore_from_the_command_line(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    assert main(["--add-location", "Warehouse", "--db", url]) == 0
    copy = tmp_path / "copy.sqlite"
    assert main(["--backup", str(copy), "--db", url]) == 0
    assert f"backup written: {copy}" in capsys.readouterr().out
    assert main(["--rename-location", "Warehouse", "Depot", "--db", url]) == 0
    gc.collect()  # each command is its own process in real life: the ones above are over
    assert main(["--restore", str(copy), "--db", url]) == 0
    out = capsys.readouterr().out
    assert "the database it replaced is kept as" in out
    assert main(["--locations", "--db", url]) == 0
    assert "Warehouse" in capsys.readouterr().out, "the copy's state is back"
    assert main(["--backup", str(copy), "--db", url]) == 1
    assert "exists already" in capsys.readouterr().err, "a copy is never written over"


def test_another_packages_core_is_refused_before_anything_runs(tmp_path):
    """Installed into one environment with a project that also ships a top-level `core`, one
    overwrites the other; Tandem then refuses to run on code that is not its own."""
    impostor = tmp_path / "site" / "core"
    impostor.mkdir(parents=True)
    (impostor / "__init__.py").write_text("WHO = 'someone else'\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run([sys.executable, "-m", "cli", "--version"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert "is not Tandem's" in done.stderr and "environment of its own" in done.stderr
    ours = subprocess.run([sys.executable, "-m", "cli", "--version"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert ours.returncode == 0 and ours.stdout.startswith("tandem ")


def test_postgresql_support_is_an_extra_and_the_dev_tools_stay_in_their_group():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = " ".join(project["project"]["dependencies"])
    assert "psycopg" not in runtime and "pydantic" in runtime
    assert any("psycopg" in need for need in project["project"]["optional-dependencies"]["postgres"])
    for tool in ("pytest", "hypothesis", "mutmut", "import-linter"):
        assert tool not in runtime
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_without_the_postgresql_driver_the_error_says_what_to_install(monkeypatch):
    import builtins

    import pytest

    from core.db import DatabaseError, make_engine

    real_import = builtins.__import__

    def no_psycopg(name, *args, **kwargs):
        if name == "psycopg" or name.startswith("psycopg."):
            raise ModuleNotFoundError("No module named 'psycopg'", name="psycopg")
        return real_import(name, *args, **kwargs)

    for loaded in [name for name in sys.modules if name == "psycopg" or name.startswith("psycopg.")]:
        monkeypatch.delitem(sys.modules, loaded)
    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(DatabaseError, match=r"install tandem\[postgres\]"):
        make_engine("postgresql+psycopg://shop@db.example.com/tandem")


def test_check_names_the_files_others_can_read(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text('[shop]\ncurrency = "CAD"\n', encoding="utf-8")
    os.chmod(config, 0o640)
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    main(["--check", "--config", str(config), "--db", url])
    out = capsys.readouterr().out
    assert f"WARN  permissions: 1 readable by other accounts: {config} (640); fix: tandem --fix-permissions" in out
    os.chmod(config, 0o600)
    main(["--check", "--config", str(config), "--db", url])
    assert "ok    permissions: settings, data, backups and log readable by this account only" in capsys.readouterr().out
