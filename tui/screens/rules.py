"""Web-store rules: what each store is sent instead of the shop's quantity and price (safety stock,
in store only, a web price and its floor). A manager adds or removes them; the screen says how
many products a change moves before it is made."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header

from core.i18n import N_, _, ngettext, number
from tui.actions import ForThisPerson, bindings, key
from tui.failures import ReportsFailures
from tui.widgets.fitted_table import Col, FittedTable
from tui.widgets.key_bar import KeyBar
from tui.widgets.line import Line

COLUMNS = [Col(N_("Store"), 12, grow=1, fit=True), Col(N_("Rule"), 30, grow=2, fit=True),
           Col(N_("For"), 22, grow=2, fit=True), Col(N_("Set by"), 6, grow=1, fit=True)]


class RulesScreen(ForThisPerson, ReportsFailures, Screen):
    HELP_CONTEXT = "rules"  # which FAQ entries F1 opens on
    BINDINGS = bindings("rules")

    class Loaded(Message):
        def __init__(self, rows: list, channels: list[str], note: str | None, warning: bool):
            super().__init__()
            self.rows, self.channels, self.note, self.warning = rows, channels, note, warning

    def __init__(self) -> None:
        super().__init__()
        self.rows: list = []
        self.channels: list[str] = []

    def compose(self) -> ComposeResult:
        self.sub_title = _("Rules")
        yield Header(icon="⇄")
        yield Line(_("Rules — the most specific wins: product, brand, category, every product"), id="rules-title")
        yield FittedTable(COLUMNS, id="rules")
        yield Line("", id="rules-empty")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#rules").focus()
        self.load()

    def refresh_from_database(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    @work(thread=True, exclusive=True, exit_on_error=False, group="rules")
    def load(self, note: str | None = None, warning: bool = False) -> None:
        from core.rules import store_rules

        rows, channels = store_rules(self.app.engine())
        self.post_message(self.Loaded(rows, channels, note, warning))

    @on(Loaded)
    def show(self, event: Loaded) -> None:
        if event.note:
            self.notify(event.note, severity="warning" if event.warning else "information", timeout=8)
        self.rows, self.channels = event.rows, event.channels
        rows = [(str(rule.id), [channel, rule.what(), rule.where(), rule.changed_by or ""])
                for channel, rule in event.rows]
        self.query_one("#rules", FittedTable).set_rows(rows)
        self.query_one("#rules-empty", Line).update(
            "" if rows else _("No rules yet: each store gets the shop's quantities and prices as they are. "
                              "{key} adds one.").format(key=key("rules.add")))

    def action_add(self) -> None:
        from tui.dialogs.rule import RuleScreen

        if not self.channels:
            self.notify(_("No web store yet: add one in the settings file first."), severity="warning")
            return
        self.app.push_screen(RuleScreen(self.channels), lambda chosen: chosen and self.change("save", *chosen))

    def action_remove(self) -> None:
        if not self.rows:
            return
        channel, rule = self.rows[self.query_one("#rules", DataTable).cursor_row]
        self.ask_remove(channel, rule)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rules-preview")
    def ask_remove(self, channel: str, rule) -> None:
        from core.rules import preview_rule
        from tui.dialogs.confirm import ConfirmScreen

        moved = preview_rule(self.app.engine(), channel, rule, remove=True).moved
        question = _("Remove “{rule}” from {store}? It moves {count}.").format(
            rule=rule.name, store=channel, count=ngettext("{count} product", "{count} products", moved).format(
                count=number(moved)))
        self.app.call_from_thread(self.app.push_screen, ConfirmScreen(question),
                                  lambda yes: yes and self.change("remove", channel, rule))

    @work(thread=True, exit_on_error=False, group="rules-write")
    def change(self, what: str, channel: str, rule, actor=None) -> None:
        from core.audit import current_actor
        from core.roles import NotAllowed
        from core.rules import RuleError, remove_rule, save_rule
        from tui.dialogs.approval import run_approved

        try:
            effect = (save_rule if what == "save" else remove_rule)(self.app.engine(), channel, rule,
                                                                   actor or current_actor())
        except NotAllowed as exc:
            self.app.call_from_thread(run_approved, self, exc.action,
                                      lambda approved: self.change(what, channel, rule, approved))
        except RuleError as exc:
            self.load(_("Not changed: {reason}.").format(reason=exc), True)
        else:
            self.load(ngettext("{rule}: {count} product moves; it is sent in the next round.",
                               "{rule}: {count} products move; they are sent in the next round.",
                               effect.moved).format(rule=rule.name, count=number(effect.moved)))
