"""The shop's locations: add a second shop or a warehouse, rename one, retire one (its history stays)."""

from __future__ import annotations

import shlex

from core.i18n import _, number

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header

from tui.actions import ForThisPerson, bindings
from tui.failures import ReportsFailures
from tui.widgets.key_bar import KeyBar
from tui.widgets.line import Line
from tui.widgets.plain_table import PlainTable


class LocationsScreen(ForThisPerson, ReportsFailures, Screen):
    HELP_CONTEXT = "locations"  # which FAQ entries F1 opens on
    BINDINGS = bindings("locations")

    class Loaded(Message):
        def __init__(self, locations: list, note: str | None, warning: bool):
            super().__init__()
            self.locations, self.note, self.warning = locations, note, warning

    def __init__(self) -> None:
        super().__init__()
        self.locations: list[tuple[str, bool, int]] = []

    def compose(self) -> ComposeResult:
        self.sub_title = _("Locations")
        yield Header(icon="⇄")
        # The command on a line of its own: wrapped, it would break between its words.
        yield Line(_("Locations — each keeps its own stock; import its counts with:") + "\n  "
                   + _("tandem --import-catalog FILE --location NAME"), id="locations-title")
        table = PlainTable(id="locations", cursor_type="row")
        table.add_column(_("Location"), width=40)
        table.add_column(_("State"), width=10)
        table.add_column(Text(_("Units on hand"), justify="right"), width=14)
        yield table
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#locations").focus()
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    @work(thread=True, exclusive=True, exit_on_error=False, group="locations")
    def load(self, note: str | None = None, warning: bool = False) -> None:
        from core.locations import list_locations

        self.post_message(self.Loaded(list_locations(self.app.engine()), note, warning))

    @on(Loaded)
    def show(self, event: Loaded) -> None:
        if event.note:
            self.notify(event.note, severity="warning" if event.warning else "information")
        self.locations = event.locations
        table = self.query_one("#locations", DataTable)
        keep = table.cursor_row
        table.clear()
        for name, active, units in event.locations:
            table.add_row(name, _("in use") if active else _("retired"), Text(number(units), justify="right"))
        if event.locations:
            table.move_cursor(row=min(keep, len(event.locations) - 1))

    def _current(self) -> str | None:
        table = self.query_one("#locations", DataTable)
        return self.locations[table.cursor_row][0] if self.locations else None

    def action_add(self) -> None:
        from tui.dialogs.prompt import PromptScreen

        self.app.push_screen(PromptScreen(_("Name of the new location")), lambda name: name and self.change("add", name))

    def action_rename(self) -> None:
        from tui.dialogs.prompt import PromptScreen

        current = self._current()
        if current:
            self.app.push_screen(PromptScreen(_("New name for {name}").format(name=current), current),
                                 lambda name: name and name != current and self.change("rename", current, name))

    def action_retire(self) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        current = self._current()
        if current:
            self.app.push_screen(ConfirmScreen(_("Retire {name}? Its stock records and history stay; nothing new goes "
                                                 "to it.").format(name=current)),
                                 lambda yes: yes and self.change("retire", current))

    def action_restore(self) -> None:
        current = self._current()
        if current:
            self.change("restore", current)

    @work(thread=True, exit_on_error=False, group="locations-write")
    def change(self, what: str, *names: str, actor=None) -> None:
        from core.audit import current_actor
        from core.roles import NotAllowed
        from tui.dialogs.approval import run_approved
        from core.locations import (
            LocationError,
            add_location,
            rename_location,
            restore_location,
            retire_location,
        )

        engine, actor = self.app.engine(), actor or current_actor()
        try:
            if what == "add":
                add_location(engine, names[0], actor)
                note = _("{name} added. Import its counts with {command}.").format(
                    name=names[0], command=_("tandem --import-catalog FILE --location NAME").replace(
                        _("NAME"), shlex.quote(names[0])))
            elif what == "rename":
                rename_location(engine, names[0], names[1], actor)
                note = _("{old} is now {new}; a settings file naming it needs the new name too.").format(
                    old=names[0], new=names[1])
            elif what == "restore":
                restore_location(engine, names[0], actor)
                note = _("{name} is in use again.").format(name=names[0])
            else:
                retire_location(engine, names[0], actor)
                note = _("{name} retired.").format(name=names[0])
        except NotAllowed as exc:
            self.app.call_from_thread(run_approved, self, exc.action,
                                      lambda approved: self.change(what, *names, actor=approved))
        except LocationError as exc:
            self.load(_("Not changed: {reason}.").format(reason=exc), True)
        else:
            self.load(note)
