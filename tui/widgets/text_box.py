"""A text box whose cursor stays lit instead of blinking: over SSH a blink is a repaint twice a
second for nothing, and pictures of a screen are the same whenever they are taken.

Pasted text loses its control characters (a paste can carry terminal sequences), and a value
put in from elsewhere (a setting, a stored reference) shows them as visible symbols."""

from __future__ import annotations

import re

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Input

from tui.plain import cleaned

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class TextBox(Input):
    cursor_blink = reactive(False, init=False)

    def insert_text_at_cursor(self, text: str) -> None:
        super().insert_text_at_cursor(_CONTROL.sub("", text))

    def replace(self, text: str, start: int, end: int) -> None:
        super().replace(_CONTROL.sub("", text), start, end)

    @property
    def _value(self) -> Text:
        return cleaned(super()._value)
