"""The one way outside text reaches the screen.

A customer's name, a product title, a POS catalog line, a setting, what staff paste into a box:
any of it may hold Textual markup (`[@click=app.quit]`), Rich styles, or terminal control
sequences (ESC, OSC 52 clipboard writes, bidi overrides). Shown as markup, a checkout form could
make staff's console run an action; written to the terminal, a sequence could clear the screen
or set the clipboard. So outside text is shown only through the functions here:

- `visible(value)`: the text with every control character turned into a visible symbol (ESC
  shows as ␛, so staff see that something odd came in), one character for one, so a name keeps its
  length and its styles' positions;
- `plain(value)`: that text as a Rich `Text`, which no widget reads as markup;
- `styled(template, **values)`: the console's own markup (a translated template such as
  "[b]Sale {number}[/b]") with the values put in as plain text after the markup is read.

The stored value is never changed: this happens at display only.
"""

from __future__ import annotations

from string import Formatter

from rich.text import Text
from textual.content import Content

from core.plaintext import visible

def sentence(text: object) -> str:
    """A message as the start of a sentence: its first letter a capital, the rest as written
    (str.capitalize would lower a product's or a customer's own capitals)."""
    text = str(text)
    return text[:1].upper() + text[1:]


def plain(value: object, style: str = "", *, justify=None, lines: bool = False) -> Text:
    """Outside text as a Rich Text: shown as it is, never read as markup."""
    return Text(visible(value, lines=lines), style=style, justify=justify)


def cleaned(text: Text) -> Text:
    """A Text made elsewhere with its control characters shown as symbols, its styles kept."""
    safe = visible(text.plain, lines=True)
    if safe == text.plain:
        return text
    copy = text.copy()
    copy.plain = safe  # one character for one: the spans still fit
    return copy


_FIELDS = Formatter()


def styled(template: str, **values: object) -> Content:
    """The console's own markup with `{name}` fields filled with values as plain text.

    The values go in after the markup is read (Textual's template variables), so a value cannot
    open, close or add a tag, whatever brackets or backslashes it holds. A value that is itself
    Content (a piece already styled) is put in as it is; its field must not sit inside a tag."""
    pieces: list[Content] = []
    markup: list[str] = []
    for literal, field, spec, conversion in _FIELDS.parse(template):
        markup.append(literal.replace("$", "$$"))
        if field is None:
            continue
        if spec or conversion or not field.isidentifier():
            raise ValueError(f"styled() takes plain {{name}} fields only, not {{{field}}}")
        value = values[field]
        if isinstance(value, Content):
            pieces += [_read(markup, values), value]
            markup = []
        else:
            markup.append("${" + field + "}")
    pieces.append(_read(markup, values))
    return Content("").join(pieces)


def _read(markup: list[str], values: dict[str, object]) -> Content:
    # Never an empty set of variables: with none, Textual would leave the template's "$$" as it is.
    variables = {"_unused": ""} | {name: visible(value, lines=True) for name, value in values.items()
                                   if not isinstance(value, Content)}
    return Content.from_markup("".join(markup), **variables)


def joined(*parts: Content | str, separator: str = "") -> Content:
    """Content pieces one after the other; a str among them is outside text, shown plain."""
    pieces = [part if isinstance(part, Content) else Content(visible(part, lines=True)) for part in parts]
    return Content(separator).join(pieces) if separator else Content("").join(pieces)
