"""Tandem's business core: everything the screens and the headless sync share.

Nothing in this package may import Textual; `tests/test_import_hygiene.py` keeps it so.
"""

__version__ = "0.1.0"
