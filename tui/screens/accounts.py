"""Payment types with their accounting accounts, and the day's reconciliation by account."""

from __future__ import annotations

from core.i18n import _, amount
from core.i18n import day as day_words
from core.payment_types import shown_words
from tui.widgets.fitted_table import shorten

from datetime import date, timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header

from tui.actions import ForThisPerson, bindings, key
from tui.failures import ReportsFailures
from tui.widgets.key_bar import KeyBar
from tui.widgets.line import Line
from tui.widgets.plain_table import PlainTable


# Names and accounts longer than their column end with … (French ones often are).
NAME_WIDTH, ACCOUNT_WIDTH, DAY_ACCOUNT_WIDTH = 16, 31, 30

class AccountsScreen(ForThisPerson, ReportsFailures, Screen):
    HELP_CONTEXT = "accounts"  # which FAQ entries F1 opens on
    BINDINGS = bindings("accounts")

    class Loaded(Message):
        def __init__(self, types: list, entries: list, note: str | None = None, warning: bool = False):
            super().__init__()
            self.types, self.entries, self.note, self.warning = types, entries, note, warning

    def __init__(self, day: date | None = None) -> None:
        super().__init__()
        from core.shoptime import today

        self.day: date = day or today()
        self.types: list = []

    def compose(self) -> ComposeResult:
        self.sub_title = _("Accounts")
        yield Header(icon="⇄")
        yield Line(_("Payment types — each posts to one accounting account"), classes="accounts-title")
        types = PlainTable(id="payment-types", cursor_type="row")
        types.add_column(_("Payment type"), width=NAME_WIDTH)
        types.add_column(_("Account"), width=ACCOUNT_WIDTH)
        types.add_column(_("Card present"), width=14)
        types.add_column(_("Online"), width=8)
        yield types
        yield Line("", id="reconciliation-title", classes="accounts-title")
        days = PlainTable(id="reconciliation", cursor_type="none")
        days.add_column(_("Account"), width=DAY_ACCOUNT_WIDTH)
        days.add_column(Text(_("In"), justify="right"), width=10)
        days.add_column(Text(_("Refunds"), justify="right"), width=10)
        days.add_column(Text(_("Net"), justify="right"), width=10)
        days.add_column(Text("#", justify="right"), width=4)
        yield days
        yield Line("", id="reconciliation-empty")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#payment-types").focus()
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_day(self, step: int) -> None:
        self.day += timedelta(days=step)
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="accounts")
    def load(self, note: str | None = None, warning: bool = False) -> None:
        from core.payment_types import list_payment_types
        from core.reconciliation import reconciliation

        engine = self.app.engine()
        self.post_message(self.Loaded(list_payment_types(engine), reconciliation(engine, self.day), note, warning))

    @on(Loaded)
    def show(self, event: Loaded) -> None:
        if event.note:
            self.notify(event.note, severity="warning" if event.warning else "information")
        self.types = event.types
        table = self.query_one("#payment-types", DataTable)
        keep = table.cursor_row
        table.clear()
        for t in event.types:
            table.add_row(shorten(shown_words(t.name), NAME_WIDTH), shorten(shown_words(t.account), ACCOUNT_WIDTH),
                          _("yes") if t.card_present else _("no"), _("yes") if t.online else "",
                          key=str(t.id))
        if event.types:
            table.move_cursor(row=min(keep, len(event.types) - 1))
        self.query_one("#reconciliation-title", Line).update(
            _("Reconciliation for {day} by account · {before}/{after} other days · {command} for CSV or IIF").format(
                day=day_words(self.day), before=key("accounts.before"), after=key("accounts.after"),
                command="tandem --export-reconciliation"))
        days = self.query_one("#reconciliation", DataTable)
        days.clear()
        for e in event.entries:
            days.add_row(shorten(shown_words(e.account), DAY_ACCOUNT_WIDTH), *(Text(amount(v), justify="right") for v in (e.payments_in, e.refunds_out, e.net)),
                         Text(str(e.count), justify="right"))
        # Said under the table, not in its first column: the sentence is wider than an account's name.
        empty = self.query_one("#reconciliation-empty", Line)
        empty.update(_("No payments or refunds this day") if not event.entries else "")
        empty.display = not event.entries

    def _current(self):
        table = self.query_one("#payment-types", DataTable)
        return self.types[table.cursor_row] if self.types else None

    def action_edit_account(self) -> None:
        from tui.dialogs.prompt import PromptScreen

        current = self._current()
        if current:
            self.app.push_screen(PromptScreen(_("Accounting account for {name}").format(name=shown_words(current.name)), current.account),
                                 lambda account: account and self.save(current, account=account))

    def action_toggle_present(self) -> None:
        current = self._current()
        if current:
            self.save(current, card_present=not current.card_present)

    @work(thread=True, exit_on_error=False, group="accounts-write")
    def save(self, current, actor=None, **changes) -> None:
        from core.audit import current_actor
        from core.payment_types import PaymentTypeError, update_payment_type
        from core.roles import NotAllowed
        from tui.dialogs.approval import run_approved

        try:
            update_payment_type(self.app.engine(), current.id, actor or current_actor(), current.version, **changes)
        except NotAllowed as exc:
            self.app.call_from_thread(run_approved, self, exc.action,
                                      lambda approved: self.save(current, approved, **changes))
        except PaymentTypeError as exc:
            self.load(_("Not saved: {reason}.").format(reason=exc), True)
        else:
            self.load(_("Saved."))
