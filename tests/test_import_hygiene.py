"""The core runs headless: importing it, or running a headless command, never loads Textual."""

import json
import pkgutil
import subprocess
import sys

import pytest

import core

HEADLESS_MODULES = sorted(
    f"core.{m.name}" for m in pkgutil.walk_packages(core.__path__) if not m.name.startswith("migrations")
)


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_every_core_module_imports_without_textual():
    assert "core.catalog_import" in HEADLESS_MODULES
    code = (
        "import importlib, sys\n"
        f"for name in {HEADLESS_MODULES!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["--paths"], ["--sync"], ["--import-catalog", "CATALOG"]],
)
def test_headless_commands_never_load_textual(argv, tmp_path):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("sku,description,price\nA,a,1.00\n")
    argv = [str(catalog) if a == "CATALOG" else a for a in argv]
    argv += ["--db", f"sqlite:///{tmp_path / 'db.sqlite'}"]
    code = (
        "import sys, json\n"
        "from cli import main\n"
        "try:\n"
        f"    code = main({argv!r})\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules})\n"
        "print(json.dumps({'code': code, 'loaded': loaded}), file=sys.stderr)\n"
    )
    result = run_python(code)
    outcome = json.loads(result.stderr.strip().splitlines()[-1])
    assert outcome["code"] == 0, result.stderr
    assert "textual" not in outcome["loaded"]
    if argv[0] in ("--help", "--version"):
        # Help must start fast, so it may not load the database stack either.
        assert not {"sqlalchemy", "sqlmodel", "alembic"} & set(outcome["loaded"])
