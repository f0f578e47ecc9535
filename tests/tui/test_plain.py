"""The one way outside text is shown: symbols for control characters, values never read as markup."""

from rich.text import Text
from textual.content import Content

from core.plaintext import visible
from tui.plain import cleaned, plain, styled


def test_control_characters_become_visible_symbols_one_for_one():
    hostile = "a\x1b[2J\x07\x00\x7f\x9b\u202e\u200d\ufeffz"
    shown = visible(hostile)
    assert shown == "a␛[2J␇␀␡\ufffd\ufffd\ufffd\ufffdz"
    assert len(shown) == len(hostile), "one character for one: styles keep their places"


def test_newlines_and_tabs_only_where_the_text_may_hold_lines():
    assert visible("one\ntwo\tthree") == "one two three"
    assert visible("one\ntwo\tthree", lines=True) == "one\ntwo\tthree"
    assert visible(None) == ""


def test_styled_reads_the_consoles_markup_and_puts_values_in_as_text():
    content = styled("[b]Sale {number}[/b] for {name}", number="[/b]#1001\\", name="[@click=app.quit]Q[/] $x ${y}")
    assert content.plain == "Sale [/b]#1001\\ for [@click=app.quit]Q[/] $x ${y}"
    bold = [span for span in content.spans if span.style == "b"]
    assert [(span.start, span.end) for span in bold] == [(0, len("Sale [/b]#1001\\"))], "the value closed no tag"
    assert not any("@click" in str(span.style) for span in content.spans)


def test_styled_keeps_a_dollar_of_the_template_and_splices_styled_pieces():
    content = styled("Paid $5 · {state}", state=styled("[b]ON[/b]"))
    assert content.plain == "Paid $5 · ON"
    assert any(span.style == "b" and content.plain[span.start:span.end] == "ON" for span in content.spans)
    assert isinstance(content, Content)


def test_plain_and_cleaned_give_text_that_holds_no_control_character():
    assert plain("[b]x\x1b").plain == "[b]x␛"
    bold = cleaned(Text("a\x1bb", style="bold"))
    assert bold.plain == "a␛b" and bold.style == "bold"
