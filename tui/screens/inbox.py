"""Sales inbox: the open web sales, newest first, paged from the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input

from core.i18n import N_, _, amount, number
from core.inbox import FILTERS
from core.sales import STATUS_LABELS
from core.shoptime import shown
from tui.actions import bindings, hint
from tui.failures import ReportsFailures
from tui.widgets.search_box import SearchBox
from tui.search import TypeToSearch
from tui.widgets.fitted_table import Col, FittedTable
from tui.widgets.key_bar import KeyBar
from tui.widgets.line import Line

if TYPE_CHECKING:
    from core.inbox import InboxPage

FILTER_NAMES = {None: N_("all open"), **{state: STATUS_LABELS[state] for state in FILTERS if state}}


SEARCH_DELAY = 0.15  # seconds of quiet typing before the search runs
# The status says what to do next, so it is never cut ("held until 30 Nov 02:30 EST"); names take the rest.
COLUMNS = [Col(N_("Order"), 6), Col(N_("Status"), 27, whole=True), Col(N_("Customer"), 11, grow=1),
           Col(Text(N_("Total"), justify="right"), 9, whole=True), Col(N_("Ordered"), 12, whole=True)]


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
        self.sub_title = _("Sales inbox")
        yield Header(icon="⇄")
        yield SearchBox(placeholder=_("/ to search, or scan: order number, name, email, phone, barcode"),
                    id="inbox-search", select_on_focus=False, compact=True)
        yield Line("", id="inbox-filter")
        yield FittedTable(COLUMNS, id="sales", zebra_stripes=True)
        yield Line("", id="inbox-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#sales", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def refresh_from_database(self) -> None:
        self.action_reload()

    def language_changed(self) -> None:
        box = self.query_one(self.SEARCH_BOX, Input)
        with box.prevent(Input.Changed):
            box.value = self.searched
        self.query_one("#sales", DataTable).focus()
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
        if event.value.strip() != self.searched:
            self.search_for(event.value)
        # Else the rows shown are this search's already: reading them again would only empty the
        # table for a moment, under the Enter that follows to open the sale.
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
                                            Text(amount(row.total), justify="right"), shown(row.ordered_at)]))
        self.query_one("#sales", FittedTable).set_rows(rows)
        what = _("history: completed and cancelled") if self.history else _(FILTER_NAMES[self.status_filter])
        where = _(" from {store}").format(store=self.channel[1]) if self.channel else ""
        found = _(" matching “{search}”").format(search=event.searched) if event.searched else ""
        self.query_one("#inbox-filter", Line).update(
            _("Showing {what}").format(what=what) + where + found + " · "
            + hint(("inbox.filter", _("status")), ("inbox.channel", _("store")), ("inbox.history", _("history")),
                   ("inbox.search", _("find"))))
        start = sum(1 for _start in self.page_starts[1:]) * self.page_size()
        count = len(event.page.rows)
        where = _("{first}–{last} of {total}").format(
            first=number(start + 1), last=number(start + count), total=number(event.page.total)) if count else (
            _("no sale matches") if event.searched else _("no sales here"))
        more = [("inbox.next", _("next page"))] if event.page.has_more else []
        if len(self.page_starts) > 1:
            more.append(("inbox.previous", _("page before")))
        self.query_one("#inbox-status", Line).update(where + " · " + _("Enter opens a sale")
                                                       + (" · " + hint(*more) if more else ""))

    @on(DataTable.RowSelected, "#sales")
    def open_sale(self, event: DataTable.RowSelected) -> None:
        from tui.screens.sale import SaleScreen

        self.app.push_screen(SaleScreen(int(event.row_key.value)))
