"""A check box that reads the same without colour: "[x]" ticked, "[ ]" not (Textual's own box
draws one glyph for both and tells them apart by colour only, which NO_COLOR and some
terminals lose)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class TickBox(Checkbox):
    @property
    def _button(self) -> Content:
        return Content.styled("[x]" if self.value else "[ ]", self.get_visual_style("toggle--button"))
