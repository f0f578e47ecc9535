"""A text box whose cursor stays lit instead of blinking: over SSH a blink is a repaint twice a
second for nothing, and pictures of a screen are the same whenever they are taken."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Input


class TextBox(Input):
    cursor_blink = reactive(False, init=False)
