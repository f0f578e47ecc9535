"""Search where staff look: a screen's search box takes what a barcode scanner types (digits,
then Enter) even when the cursor is in the table, so no key is needed first."""

from __future__ import annotations

from textual import events
from textual.widgets import DataTable, Input

SCANNED = set("0123456789#")  # what starts a scan or a typed order number


def start_fresh_search(box: Input) -> None:
    box.display = True
    box.value = ""
    box.focus()


class TypeToSearch:
    SEARCH_BOX = "#search"  # the screen's search box

    def search_box(self) -> Input:
        return self.query_one(self.SEARCH_BOX, Input)

    def typing(self) -> bool:
        return self.search_box().has_focus

    def action_search(self) -> None:
        """`/`: a fresh search, whatever the last one was (it stays on screen until then)."""
        start_fresh_search(self.search_box())

    def leave_search(self) -> None:
        """esc in the search box: clear what was typed, back to the table."""
        box = self.search_box()
        if box.value:
            box.value = ""
        self.query_one(DataTable).focus()

    def on_key(self, event: events.Key) -> None:
        box = self.search_box()
        if box.has_focus or event.character is None or event.character not in SCANNED:
            return
        if not box.display:
            box.display = True
        box.value += event.character
        box.cursor_position = len(box.value)
        box.select_on_focus = False  # selected, the next digit of the scan would replace this one
        box.focus()
        event.stop()
        event.prevent_default()
