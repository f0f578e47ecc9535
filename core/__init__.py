"""Tandem's business core: everything the screens and the headless sync share.

Nothing in this package may import Textual; `tests/test_import_hygiene.py` keeps it so.
"""

# The top-level `core` and `tui` packages carry this mark: `tandem` refuses to start when the
# `core` it imported lacks it (another distribution's `core` installed over Tandem's).
DISTRIBUTION = "tandem"


def version() -> str:
    """The one version number, pyproject.toml's: from the installed distribution's metadata, or
    from pyproject.toml itself when run from a clone that was never installed."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
