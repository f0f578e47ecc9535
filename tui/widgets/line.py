"""The console's only widget for words on a screen: a Static that never reads markup.

A str given to it is shown exactly as written (outside text: a name, a title, a store's error),
its control characters as visible symbols; the console's own bold and colours come as Content
made by `tui.plain.styled`, which fills its fields after the markup is read."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.widgets import Static

from tui.plain import cleaned, visible


def _safe(content):
    if isinstance(content, str):
        return Content(visible(content, lines=True))
    if isinstance(content, Text):
        return cleaned(content)
    if isinstance(content, Content):
        # Content joined with a str keeps the str's control characters: shown as symbols here too.
        safe = visible(content.plain, lines=True)
        return content if safe == content.plain else Content(safe, content.spans)
    return content


class Line(Static):
    def __init__(self, content="", **kwargs):
        kwargs["markup"] = False
        super().__init__(_safe(content), **kwargs)

    def update(self, content="", *, layout: bool = True) -> None:
        super().update(_safe(content), layout=layout)
