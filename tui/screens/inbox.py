"""Sales inbox: the open web sales, newest first, paged from the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from core.inbox import FILTERS
from core.sales import STATUS_LABELS
from core.shoptime import shown
from tui.actions import bindings, hint
from tui.failures import ReportsFailures

if TYPE_CHECKING:
    from core.inbox import InboxPage

FILTER_NAMES = {None: "all open", **{state: STATUS_LABELS[state] for state in FILTERS if state}}


class InboxScreen(ReportsFailures, Screen):
    HELP_CONTEXT = "inbox"  # which FAQ entries F1 opens on
    BINDINGS = bindings("inbox")

    class PageLoaded(Message):
        def __init__(self, page: InboxPage, channels: list[tuple[int, str]]):
            super().__init__()
            self.page, self.channels = page, channels

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: str | None = None
        self.channel: tuple[int, str] | None = None
        self.channels: list[tuple[int, str]] = []
        self.history = False
        self.page_starts: list[tuple | None] = [None]
        self.page: InboxPage | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        yield Static("", id="inbox-filter")
        table = DataTable(id="sales", cursor_type="row", zebra_stripes=True)
        table.add_column("Order", width=7)
        table.add_column("Status", width=27)
        table.add_column("Customer", width=12)
        table.add_column(Text("Total", justify="right"), width=9)
        table.add_column("Ordered", width=12)
        yield table
        yield Static("", id="inbox-status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Sales inbox"
        self.query_one("#sales", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_back(self) -> None:
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

    def load(self, after: tuple | None) -> None:
        # The worker gets the filters as values; only `show` changes the screen's state.
        self.fetch(after, self.status_filter, self.history, self.channel[0] if self.channel else None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="inbox")
    def fetch(self, after: tuple | None, status: str | None, history: bool, channel_id: int | None) -> None:
        from core.channels import list_channels
        from core.inbox import inbox

        engine = self.app.engine()
        self.post_message(self.PageLoaded(inbox(engine, status=status, history=history, channel_id=channel_id,
                                                after=after), list_channels(engine)))

    @on(PageLoaded)
    def show(self, event: PageLoaded) -> None:
        self.page, self.channels = event.page, event.channels
        table = self.query_one("#sales", DataTable)
        keep = table.cursor_row
        table.clear()
        for row in event.page.rows:
            style = "bold" if row.state in ("waiting_match", "gift_card_to_issue", "capture_failed") else ""
            table.add_row(row.order_number, Text(row.status, style=style), row.customer or "—",
                          Text(f"{row.total:,.2f}", justify="right"),
                          shown(row.ordered_at), key=str(row.sale_id))
        if event.page.rows:
            table.move_cursor(row=min(keep, len(event.page.rows) - 1))
        what = "history: completed and cancelled" if self.history else FILTER_NAMES[self.status_filter]
        where = f" from {self.channel[1]}" if self.channel else ""
        self.query_one("#inbox-filter", Static).update(
            f"Showing {what}{where} · "
            + hint(("inbox.filter", "status"), ("inbox.channel", "store"), ("inbox.history", "history")))
        start = (len(self.page_starts) - 1) * 50
        count = len(event.page.rows)
        where = f"{start + 1:,}–{start + count:,} of {event.page.total:,}" if count else "no sales here"
        self.query_one("#inbox-status", Static).update(f"{where} · Enter opens a sale"
                                                       + (" · " + hint(("inbox.next", "next page")) if event.page.has_more else ""))

    @on(DataTable.RowSelected, "#sales")
    def open_sale(self, event: DataTable.RowSelected) -> None:
        from tui.screens.sale import SaleScreen

        self.app.push_screen(SaleScreen(int(event.row_key.value)))
