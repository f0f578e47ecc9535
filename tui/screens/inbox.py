"""Sales inbox: the open web sales, newest first, paged from the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Static

from core.inbox import FILTERS
from core.sales import STATUS_LABELS
from core.shoptime import shown
from tui.actions import bindings, hint
from tui.failures import ReportsFailures
from tui.widgets.search_box import SearchBox
from tui.search import TypeToSearch
from tui.widgets.fitted_table import Col, FittedTable
from tui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from core.inbox import InboxPage

FILTER_NAMES = {None: "all open", **{state: STATUS_LABELS[state] for state in FILTERS if state}}


SEARCH_DELAY = 0.15  # seconds of quiet typing before the search runs
# The status says what to do next, so it is never cut ("held until 30 Nov 02:30 EST"); names take the rest.
COLUMNS = [Col("Order", 6), Col("Status", 27), Col("Customer", 11, grow=1),
           Col(Text("Total", justify="right"), 9), Col("Ordered", 12)]


class InboxScreen(TypeToSearch, ReportsFailures, Screen):
    HELP_CONTEXT = "inbox"  # which FAQ entries F1 opens on
    BINDINGS = bindings("inbox")
    SEARCH_BOX = "#inbox-search"

    class PageLoaded(Message):
        def __init__(self, page: InboxPage, channels: list[tuple[int, str]], searched: str):
            super().__init__()
            self.page, self.channels, self.searched = page, channels, searched

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: str | None = None
        self.channel: tuple[int, str] | None = None
        self.channels: list[tuple[int, str]] = []
        self.history = False
        self.searched = ""
        self.shown_search: str | None = None  # the search whose rows are on screen
        self.page_starts: list[tuple | None] = [None]
        self.page: InboxPage | None = None
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        yield SearchBox(placeholder="Type or scan to find: order number, name, email, phone, barcode",
                    id="inbox-search", select_on_focus=False, compact=True)
        yield Static("", id="inbox-filter")
        yield FittedTable(COLUMNS, id="sales", zebra_stripes=True)
        yield Static("", id="inbox-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "Sales inbox"
        self.query_one("#sales", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def refresh_from_database(self) -> None:
        self.action_reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing a search, letters are text, not commands.
        if action in ("next_filter", "next_channel", "toggle_history", "reload", "search") and self.typing():
            return False
        return True

    def page_size(self) -> int:
        """As many sales as the table shows: a page is a screenful, whatever the terminal's height."""
        height = self.query_one("#sales", DataTable).size.height or (self.app.size.height - 5)
        return max(5, height - 1)

    def on_resize(self) -> None:
        if self.page is not None and len(self.page.rows) != self.page_size():
            self.action_reload()

    def action_back(self) -> None:
        # A search on screen is cleared first, wherever the cursor is; then esc goes home.
        if self.search_box().value or self.typing():
            self.leave_search()
        else:
            self.app.pop_screen()

    def action_reload(self) -> None:
        self.load(self.page_starts[-1])

    def action_next_filter(self) -> None:
        names = list(FILTER_NAMES)
        self.status_filter = names[(names.index(self.status_filter) + 1) % len(names)]
        self.history = False
        self.page_starts = [None]
        self.load(None)

    def action_next_channel(self) -> None:
        options = [None, *self.channels]
        self.channel = options[(options.index(self.channel) + 1) % len(options)]
        self.page_starts = [None]
        self.load(None)

    def action_toggle_history(self) -> None:
        self.history = not self.history
        self.status_filter = None
        self.page_starts = [None]
        self.load(None)

    def action_next_page(self) -> None:
        if self.page and self.page.has_more:
            self.page_starts.append(self.page.rows[-1].key)
            self.load(self.page_starts[-1])

    def action_previous_page(self) -> None:
        if len(self.page_starts) > 1:
            self.page_starts.pop()
            self.load(self.page_starts[-1])

    # --- search -------------------------------------------------------------------------------

    @on(Input.Changed, "#inbox-search")
    def search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self.search_for(event.value))

    @on(Input.Submitted, "#inbox-search")
    def search_submitted(self, event: Input.Submitted) -> None:
        # A scanner ends with Enter: search at once, then the cursor goes to what was found.
        if self._search_timer is not None:
            self._search_timer.stop()
        self.search_for(event.value)
        self.query_one("#sales", DataTable).focus()

    def search_for(self, text: str) -> None:
        self.searched = text.strip()
        self.page_starts = [None]
        self.load(None)

    def load(self, after: tuple | None) -> None:
        # The worker gets the filters as values; only `show` changes the screen's state.
        self.fetch(after, self.status_filter, self.history, self.channel[0] if self.channel else None,
                   self.searched, self.page_size())

    @work(thread=True, exclusive=True, exit_on_error=False, group="inbox")
    def fetch(self, after: tuple | None, status: str | None, history: bool, channel_id: int | None,
              searched: str, limit: int) -> None:
        from core.channels import list_channels
        from core.inbox import inbox

        engine = self.app.engine()
        self.post_message(self.PageLoaded(inbox(engine, status=status, history=history, channel_id=channel_id,
                                                after=after, search=searched, limit=limit),
                                          list_channels(engine), searched))

    @on(PageLoaded)
    def show(self, event: PageLoaded) -> None:
        self.page, self.channels, self.shown_search = event.page, event.channels, event.searched
        rows = []
        for row in event.page.rows:
            style = "bold" if row.state in ("waiting_match", "gift_card_to_issue", "capture_failed") else ""
            rows.append((str(row.sale_id), [row.order_number, Text(row.status, style=style), row.customer or "—",
                                            Text(f"{row.total:,.2f}", justify="right"), shown(row.ordered_at)]))
        self.query_one("#sales", FittedTable).set_rows(rows)
        what = "history: completed and cancelled" if self.history else FILTER_NAMES[self.status_filter]
        where = f" from {self.channel[1]}" if self.channel else ""
        found = f" matching “{event.searched}”" if event.searched else ""
        self.query_one("#inbox-filter", Static).update(
            f"Showing {what}{where}{found} · "
            + hint(("inbox.filter", "status"), ("inbox.channel", "store"), ("inbox.history", "history"),
                   ("inbox.search", "find")))
        start = sum(1 for _ in self.page_starts[1:]) * self.page_size()
        count = len(event.page.rows)
        where = f"{start + 1:,}–{start + count:,} of {event.page.total:,}" if count else (
            "no sale matches" if event.searched else "no sales here")
        more = [("inbox.next", "next page")] if event.page.has_more else []
        if len(self.page_starts) > 1:
            more.append(("inbox.previous", "page before"))
        self.query_one("#inbox-status", Static).update(f"{where} · Enter opens a sale"
                                                       + (" · " + hint(*more) if more else ""))

    @on(DataTable.RowSelected, "#sales")
    def open_sale(self, event: DataTable.RowSelected) -> None:
        from tui.screens.sale import SaleScreen

        self.app.push_screen(SaleScreen(int(event.row_key.value)))
