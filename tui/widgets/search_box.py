"""A search box. `?` in an empty one asks for help, as it does everywhere else (Textual lets a text
box keep every printable key; a search that has not started holds no `?` to type); once
something is typed, `?` is text like any other character."""

from __future__ import annotations

from tui.widgets.text_box import TextBox


class SearchBox(TextBox):
    DEFAULT_CLASSES = "search"

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if character == "?" and not self.value:
            return False
        return super().check_consume_key(key, character)
