"""A manager's approval at the same terminal: their name and PIN, for one action, or a person's
sign-in when the console was not opened by an SSH key (name and PIN, as the shop prefers)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from core.i18n import _
from tui.actions import bindings
from tui.plain import styled
from tui.widgets.line import Line
from tui.widgets.text_box import TextBox


class ApprovalScreen(ModalScreen):
    """Dismissed with the actor approved for `permission`, or None (Esc)."""

    BINDINGS = bindings("approval")

    def __init__(self, actor, permission: str | None, question: str):
        super().__init__()
        self.actor, self.permission, self.question = actor, permission, question

    def compose(self) -> ComposeResult:
        with Vertical(id="approval"):
            yield Line(styled("[b]{question}[/b]", question=self.question))
            yield TextBox(placeholder=_("Name"), id="approval-name")
            yield TextBox(placeholder=_("PIN"), password=True, id="approval-pin")
            yield Line("", id="approval-said", classes="empty")
            yield Line(_("Enter approve · Esc cancel") if self.permission else _("Enter sign in"), id="approval-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = self.query_one("#approval-name", TextBox).value.strip()
        pin = self.query_one("#approval-pin", TextBox).value
        if event.input.id == "approval-name" and name:
            self.query_one("#approval-pin", TextBox).focus()
        elif name and pin:
            self.check(name, pin)

    @work(thread=True, exclusive=True, exit_on_error=False, description="PIN check")  # never the PIN in a log
    def check(self, name: str, pin: str) -> None:
        from core.staff import StaffError, approve, check_pin

        try:
            engine = self.app.engine()
            person = (approve(engine, self.actor, self.permission, name, pin) if self.permission
                      else check_pin(engine, name, pin))
        except StaffError as exc:
            self.app.call_from_thread(self._refused, str(exc))
        else:
            self.app.call_from_thread(self.dismiss, person)

    def _refused(self, reason: str) -> None:
        said = self.query_one("#approval-said", Line)
        said.update(reason)
        said.remove_class("empty")
        pin = self.query_one("#approval-pin", TextBox)
        pin.value = ""
        pin.focus()

    def action_dismiss_none(self) -> None:
        if self.permission:
            self.dismiss(None)
        else:
            self.app.exit()  # signing in is the way in: Esc leaves Tandem


def run_approved(screen, permission: str, start, what: str | None = None) -> None:
    """Run `start(actor)` as the person at the console, once a manager approved it if their role
    does not allow `permission` alone; an owner's action cannot be approved, only refused."""
    from core.audit import current_actor
    from core.roles import NEEDS, OWNER, NotAllowed, allowed

    actor = current_actor()
    if allowed(actor, permission):
        start(actor)
        return
    if NEEDS[permission][0] == OWNER:
        screen.app.notify(str(NotAllowed(permission, actor)), severity="warning", timeout=8)
        return
    question = _("A manager's approval, to {what}").format(what=what or _(NEEDS[permission][1]))
    screen.app.push_screen(ApprovalScreen(actor, permission, question),
                           lambda approved: approved is not None and start(approved))
