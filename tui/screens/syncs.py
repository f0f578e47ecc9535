"""Syncs: each web store's latest sync, a sync of one store or all started from here (the same
core and lock as `tandem --sync`, progress shown as it goes), and every earlier sync's results."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header

from core.i18n import N_, _
from core.shoptime import shown
from tui.actions import bindings, hint
from tui.failures import ReportsFailures
from tui.screens.home import sync_status
from tui.widgets.fitted_table import Col, FittedTable
from tui.widgets.key_bar import KeyBar
from tui.widgets.line import Line

STORE_COLUMNS = [Col(N_("Web store"), 16, grow=1), Col(N_("Synced"), 12, whole=True), Col(N_("Result"), 36, grow=3)]
RUN_COLUMNS = [Col(N_("Started"), 12, whole=True), Col(N_("Web store"), 14, grow=1), Col(N_("Status"), 11), Col(N_("What it did"), 29, grow=4)]
PAGE = 100


class SyncsScreen(ReportsFailures, Screen):
    HELP_CONTEXT = "syncs"  # which FAQ entries F1 opens on
    BINDINGS = bindings("syncs")

    class Loaded(Message):
        def __init__(self, channels: list[str], latest: list, runs: list, more: bool):
            super().__init__()
            self.channels, self.latest, self.runs, self.more = channels, latest, runs, more

    def __init__(self) -> None:
        super().__init__()
        self.channels: list[str] = []
        self.shown_runs = PAGE

    def compose(self) -> ComposeResult:
        self.sub_title = _("Syncs")
        yield Header(icon="⇄")
        yield FittedTable(STORE_COLUMNS, id="stores")
        yield Line("", id="progress")
        yield FittedTable(RUN_COLUMNS, id="runs", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#stores", FittedTable).focus()
        self.load()

    def refresh_from_database(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_sync_all(self) -> None:
        self.app.start_sync()

    def action_sync_one(self) -> None:
        table = self.query_one("#stores", FittedTable)
        name = table.cursor_key()
        if name:
            self.app.start_sync(only=name)

    def action_more(self) -> None:
        self.shown_runs += PAGE
        self.load()

    def show_sync_progress(self) -> None:
        running = _("Syncing: {step}").format(step=self.app.sync_progress) if self.app.sync_running else ""
        self.query_one("#progress", Line).update(running or (
            hint(("syncs.one", _("syncs the highlighted store")), ("syncs.all", _("syncs them all")),
                 ("syncs.more", _("older")))))

    @work(thread=True, exclusive=True, exit_on_error=False, group="syncs")
    def load(self) -> None:
        from core.channels import list_channels
        from core.sync_history import last_sync_per_channel, sync_history

        engine = self.app.engine()
        runs = sync_history(engine, limit=self.shown_runs + 1)
        self.post_message(self.Loaded([name for _id, name in list_channels(engine)], last_sync_per_channel(engine),
                                      runs[: self.shown_runs], len(runs) > self.shown_runs))

    @on(Loaded)
    def show(self, event: Loaded) -> None:
        latest = {record.channel: record for record in event.latest}
        stores = []
        for name in event.channels:
            record = latest.get(name)
            when, result = (shown(record.started_at), sync_status(record.status)) if record else (_("never"), "")
            if record and record.status != "ok" and record.message:
                result += f": {record.message}"
            if record and record.counts:
                result += f" · {record.summary}"
            stores.append((name, [name, when, result]))
        self.query_one("#stores", FittedTable).set_rows(stores)
        self.query_one("#runs", FittedTable).set_rows([
            (str(record.id), [shown(record.started_at), record.channel, sync_status(record.status), record.summary])
            for record in event.runs])
        self.show_sync_progress()
        if not event.channels:
            self.query_one("#progress", Line).update(_("No web store is set up yet: see the home screen's first steps."))
