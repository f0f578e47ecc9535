"""The shop's staff, for the owner: who works here, their role, whether they have a PIN and an SSH
key; add a person, change a role, retire someone (their history stays). The same core calls as
`tandem --add-staff`, `--retire-staff`: core refuses them to anyone but the owner."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header

from core.i18n import _
from core.roles import ROLES, ROLE_WORDS
from tui.actions import ForThisPerson, bindings
from tui.dialogs.approval import run_approved
from tui.failures import ReportsFailures
from tui.widgets.key_bar import KeyBar
from tui.widgets.line import Line
from tui.widgets.plain_table import PlainTable


class StaffScreen(ForThisPerson, ReportsFailures, Screen):
    HELP_CONTEXT = "staff"
    BINDINGS = bindings("staff")

    class Loaded(Message):
        def __init__(self, people: list, keys: dict, note: str | None, warning: bool):
            super().__init__()
            self.people, self.keys, self.note, self.warning = people, keys, note, warning

    def __init__(self) -> None:
        super().__init__()
        self.people: list = []

    def compose(self) -> ComposeResult:
        self.sub_title = _("Staff")
        yield Header(icon="⇄")
        yield Line(_("Staff — an SSH key opens Tandem as its person: tandem --add-staff NAME --role ROLE --ssh-key "
                     "FILE.pub"), id="staff-title")
        table = PlainTable(id="staff", cursor_type="row")
        table.add_column(_("Name"), width=18)
        table.add_column(_("Role"), width=9)
        table.add_column(_("State"), width=8)
        table.add_column(_("PIN"), width=7)
        table.add_column(_("SSH key"), width=22)
        yield table
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#staff").focus()
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    @work(thread=True, exclusive=True, exit_on_error=False, group="staff")
    def load(self, note: str | None = None, warning: bool = False) -> None:
        from core.authorized_keys import AuthorizedKeysError, staff_keys
        from core.staff import list_staff

        settings = getattr(self.app, "settings", None)
        keys: dict = {}
        if settings is not None and settings.authorized_keys.exists():
            try:
                keys = {name.lower(): print_ for name, print_ in staff_keys(settings.authorized_keys).items()}
            except (AuthorizedKeysError, OSError):
                keys = {}
        self.post_message(self.Loaded(list_staff(self.app.engine()), keys, note, warning))

    @on(Loaded)
    def show(self, event: Loaded) -> None:
        if event.note:
            self.notify(event.note, severity="warning" if event.warning else "information")
        self.people = event.people
        table = self.query_one("#staff", DataTable)
        keep = table.cursor_row
        table.clear()
        for person in event.people:
            table.add_row(person.name, _(ROLE_WORDS[person.role]), _("active") if person.active else _("retired"),
                          _("set") if person.has_pin else _("none"), event.keys.get(person.name.lower(), "—")[:22])
        if event.people:
            table.move_cursor(row=min(keep, len(event.people) - 1))

    def _current(self):
        table = self.query_one("#staff", DataTable)
        return self.people[table.cursor_row] if self.people else None

    def action_add(self) -> None:
        from tui.dialogs.prompt import PromptScreen

        def asked_name(name: str | None) -> None:
            if name:
                self.app.push_screen(PromptScreen(_("{name}'s role: cashier, manager or owner").format(name=name),
                                                  "cashier"), lambda role: role and self.change("add", name, role))

        run_approved(self, "staff.manage", lambda actor: self.app.push_screen(
            PromptScreen(_("Name of the new member of staff")), asked_name))

    def action_role(self) -> None:
        person = self._current()
        if person is not None and person.active:
            role = ROLES[(ROLES.index(person.role) + 1) % len(ROLES)]
            run_approved(self, "staff.manage", lambda actor: self.change("role", person.name, role))

    def action_retire(self) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        person = self._current()
        if person is not None and person.active:
            run_approved(self, "staff.manage", lambda actor: self.app.push_screen(ConfirmScreen(
                _("Retire {name}? Their history stays; their SSH key no longer opens Tandem.").format(name=person.name)),
                lambda yes: yes and self.change("retire", person.name)))

    @work(thread=True, exit_on_error=False, group="staff-write")
    def change(self, what: str, name: str, role: str | None = None) -> None:
        from core.audit import current_actor
        from core.roles import NotAllowed
        from core.staff import StaffError, add_staff, change_role, retire_staff

        engine, actor = self.app.engine(), current_actor()
        try:
            if what == "add":
                add_staff(engine, name, role.strip().lower(), actor)
                note = _("{name} added. Their SSH key goes in from a shell: tandem --add-staff {name} --role {role} "
                         "--ssh-key FILE.pub; or they sign in with a PIN: tandem --set-pin {name}.").format(
                    name=name, role=role.strip().lower())
            elif what == "role":
                change_role(engine, name, role, actor)
                note = _("{name} is now {role}.").format(name=name, role=_(ROLE_WORDS[role]))
            else:
                retire_staff(engine, name, actor)
                settings = getattr(self.app, "settings", None)
                if settings is not None and settings.authorized_keys.exists():
                    from core.authorized_keys import remove_staff_key

                    remove_staff_key(settings.authorized_keys, name)
                note = _("{name} retired.").format(name=name)
        except (StaffError, NotAllowed) as exc:
            self.load(_("Not changed: {reason}.").format(reason=exc), True)
        else:
            self.load(note)
