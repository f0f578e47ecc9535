"""Outside text made safe to show on a terminal.

A customer's name, a product title, a store's error message may hold terminal control sequences
(ESC, OSC 52 clipboard writes, title changes) or invisible characters that reorder text (bidi
overrides). Written to a terminal as they are, they could clear staff's screen, set their
clipboard, or make a name read as something else. `visible` turns each into a visible symbol,
one character for one (so a text keeps its length and the positions of its styles); the console
(`tui.plain`) and the command line show outside text through it. Stored values never change.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls; then the invisible characters that reorder
# or hide text (bidi embeddings, overrides and isolates, zero-width spaces and joiners, the BOM,
# line and paragraph separators), which can make a name read as something else.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_NEWLINE_OR_TAB = re.compile("[\n\t]")
UNSHOWABLE = "\ufffd"  # �


def _symbol(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ ␁ … ␛ …
    if code == 0x7F:
        return "\u2421"  # ␡
    return UNSHOWABLE


def visible(value: object, *, lines: bool = False) -> str:
    """`value` as text safe to show: control characters as visible symbols; newlines and tabs kept
    where the text may hold lines (`lines=True`), else a space each."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(_symbol, text)
    return text if lines else _NEWLINE_OR_TAB.sub(" ", text)


