"""The help panel: Tandem's questions and answers in English and French, searched as you type."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, OptionList
from textual.widgets.option_list import Option

from core import faq
from core.i18n import _, language
from tui.widgets.text_box import TextBox
from tui.actions import bindings, key, key_list
from tui.widgets.key_bar import KeyBar
from tui.plain import plain, styled
from tui.widgets.line import Line

KEYS_OPTION = "keys"


class FaqScreen(Screen):
    BINDINGS = bindings("faq")

    def __init__(self, context: str = "home", topic: str | None = None, keys_for: str = "home", opened_on=None):
        super().__init__()
        self.context, self.topic, self.keys_for = context, topic, keys_for
        self.opened_on = opened_on  # the screen help was opened on: its key list is what it offers now
        self.entries: list[faq.Entry] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        yield TextBox(placeholder="", id="faq-search")
        yield OptionList(id="faq-questions")
        # A long answer scrolls: PgUp/PgDn from anywhere, and Tab into it for ↑↓ Home End.
        with VerticalScroll(id="faq-answer-box"):
            yield Line("", id="faq-answer")
        yield Line("", id="faq-hint")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#faq-search", Input).focus()
        self.show(initial=True)

    def action_back(self) -> None:
        self.app.pop_screen()

    @property
    def language(self) -> str:
        return language()

    def language_changed(self) -> None:
        self.query_one("#faq-search", Input).focus()
        self.show()

    def answer_box(self) -> VerticalScroll:
        return self.query_one("#faq-answer-box", VerticalScroll)

    def action_next(self) -> None:
        if self.answer_box().has_focus:
            self.answer_box().scroll_down(animate=False)
        else:
            self.query_one("#faq-questions", OptionList).action_cursor_down()

    def action_previous(self) -> None:
        if self.answer_box().has_focus:
            self.answer_box().scroll_up(animate=False)
        else:
            self.query_one("#faq-questions", OptionList).action_cursor_up()

    def action_answer_page(self, direction: int) -> None:
        box = self.answer_box()
        (box.scroll_page_down if direction > 0 else box.scroll_page_up)(animate=False)

    @on(Input.Changed, "#faq-search")
    def searched(self) -> None:
        self.show()

    def show(self, initial: bool = False) -> None:
        query = self.query_one("#faq-search", Input).value
        if query.strip():
            self.entries = faq.search(query, self.language)
        else:
            # This screen's questions first, then the rest.
            mine = faq.for_screen(self.context)
            self.entries = mine + [e for e in faq.ENTRIES if e not in mine]
        self.sub_title = _("Help")
        self.query_one("#faq-search", Input).placeholder = _("Search: refund, gift card, supplier, e-commerce…")
        self.query_one("#faq-hint", Line).update(
            _("Type to search · ↑↓ choose · PgUp PgDn scroll the answer, Tab into it (↑↓ Home End) · "
              "{language} {other} · {back} back").format(
                language=key("language"), other=_("français"), back=key("faq.back")))
        options = self.query_one("#faq-questions", OptionList)
        options.clear_options()
        for entry in self.entries:
            options.add_option(Option(plain(entry.text(self.language)[0]), id=entry.topic))
        keys_wanted = all(word in faq.fold(_("Keys on this screen") + " keys touches shortcuts raccourcis")
                          for word in faq.fold(query).split())
        if keys_wanted:
            # Last, so the screen's own questions come first: every key of the screen help was opened on.
            options.add_option(Option(_("Keys on this screen"), id=KEYS_OPTION))
        if not self.entries and keys_wanted:
            options.highlighted = 0
            return
        if not self.entries:
            self.query_one("#faq-answer", Line).update(
                _("No question matches."))
            return
        start = 0
        if initial and self.topic:
            start = next((i for i, e in enumerate(self.entries) if e.topic == self.topic), 0)
        options.highlighted = start
        self.answer(self.entries[start])

    @on(OptionList.OptionHighlighted, "#faq-questions")
    def highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id == KEYS_OPTION:
            self.query_one("#faq-answer", Line).update(styled("[b]{title}[/b]\n\n", title=_("Keys on this screen"))
                                                       + key_list(self.keys_for, self.opened_on))
            return
        entry = next((e for e in self.entries if e.topic == event.option.id), None)
        if entry:
            self.answer(entry)

    def answer(self, entry: faq.Entry) -> None:
        question, text = entry.text(self.language)
        self.query_one("#faq-answer", Line).update(styled("[b]{question}[/b]\n\n{text}", question=question, text=text))
        self.answer_box().scroll_home(animate=False)

    @property
    def topics(self) -> list[str]:
        return [entry.topic for entry in self.entries]
