"""The quick entry form's text fields: phone, kelurahan, address, description, name.

The left column of the entry screen (the category picker sits above it, the helps for
the call taker beside it). It lays the fields out with their labels and error lines,
hands over what was typed as plain values, puts a draft back, shows a field's error
or warning, offers the kelurahan candidates under that field and says which phone call
the form is for. Where Tab goes from a field is decided here too (``next_field``), as
names, so the screen only moves focus.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from siaga_tui.core.catalogue import Catalogue
from siaga_tui.core.fields import FIELD_LIMITS
from siaga_tui.core.i18n import translate
from siaga_tui.widgets.bounded_input import BoundedInput
from siaga_tui.widgets.bounded_text_area import BoundedTextArea
from siaga_tui.widgets.kelurahan_input import KelurahanInput
from siaga_tui.widgets.phone_input import PhoneInput

#: The longest a phone field holds (a number with spaces and dashes fits easily).
PHONE_LENGTH: Final = 40
#: The form's fields in the order focus visits them; errors focus the first bad one.
#: Each is also the id of its widget (the category picker's is ``category``).
FORM_FIELDS: Final = ("category", "phone", "kelurahan", "address", "description", "caller_name")
#: The text fields a category key moves on to: the first still empty.
TYPED_FIELDS: Final = FORM_FIELDS[1:5]
#: The fields this widget holds (all but the category picker).
TEXT_FIELDS: Final = FORM_FIELDS[1:]


def next_field(current: str, *, picked: bool, empty: Sequence[str]) -> str:
    """Where Tab (or Enter) goes from field ``current``.

    From the category picker to the first text field still empty (``empty``, in the
    form's order), from the phone back to the picker while no category is ``picked``,
    otherwise to the next field, round to the first.
    """
    if current == "category":
        return empty[0] if empty else FORM_FIELDS[1]
    if current == FORM_FIELDS[1] and not picked:
        return "category"
    return FORM_FIELDS[(FORM_FIELDS.index(current) + 1) % len(FORM_FIELDS)]


def previous_field(current: str) -> str:
    """Where Shift+Tab goes from field ``current``: the one before, round to the last."""
    return FORM_FIELDS[(FORM_FIELDS.index(current) - 1) % len(FORM_FIELDS)]


def show_mark(field: Widget, label: Static, message: str | None, *, warning: bool) -> None:
    """Show ``message`` in ``label`` under ``field`` (None clears it); an error, unlike a
    warning, marks the field itself as invalid."""
    field.set_class(message is not None and not warning, "-invalid")
    label.set_class(warning, "-warning")
    label.update(Content(message or ""))
    label.display = message is not None


class EntryFields(VerticalScroll):
    """The labelled text fields of one call, each with its error line below it."""

    def __init__(self, catalogue: Catalogue, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id, can_focus=False)
        self.catalogue = catalogue
        self.lang = lang

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Static(id="phone-call", markup=False)
        yield from _row(
            "phone", lang, PhoneInput(id="phone", max_length=PHONE_LENGTH, compact=True)
        )
        yield from _row(
            "kelurahan",
            lang,
            KelurahanInput(
                self.catalogue, id="kelurahan", max_length=FIELD_LIMITS["address"], compact=True
            ),
        )
        yield Static(id="kelurahan-hint")
        yield from _row(
            "address",
            lang,
            BoundedInput(id="address", max_length=FIELD_LIMITS["address"], compact=True),
        )
        yield Label(translate("field_description", lang), classes="field-label", markup=False)
        yield BoundedTextArea(
            id="description",
            max_length=FIELD_LIMITS["description"],
            compact=True,
            soft_wrap=True,
        )
        yield Static(id="description-error", classes="field-error")
        yield from _row(
            "caller_name",
            lang,
            BoundedInput(id="caller_name", max_length=FIELD_LIMITS["caller_name"], compact=True),
        )

    def set_up(self) -> None:
        """Quiet fields (no blinking cursor), typing that adds to a field, nothing shown
        under them yet (the screen calls this once it is mounted)."""
        for field in self.query(Input):
            field.cursor_blink = False
            # Typing goes on where focus lands: a key after Tab or after the number's
            # first key adds to the field, never replaces what is in it.
            field.select_on_focus = False
        self.query_one(BoundedTextArea).cursor_blink = False
        self.query_one("#kelurahan-hint", Static).display = False
        self.query_one("#phone-call", Static).display = False
        for error in self.query(".field-error"):
            error.display = False

    # --- What is typed -----------------------------------------------------------------

    def typed(self) -> dict[str, str]:
        """Every text field's value by name, as typed."""
        return {name: self.value(name) for name in TEXT_FIELDS}

    def value(self, name: str) -> str:
        """One text field's value (the description as typed, every key of it)."""
        field = self.query_one(f"#{name}")
        if isinstance(field, Input):
            return field.value
        if isinstance(field, BoundedTextArea):
            return field.typed_text
        return ""

    def load(self, values: dict[str, str]) -> None:
        """Put ``values`` (by field name) into the fields; the call line goes away."""
        self.query_one("#phone-call", Static).display = False
        for name in ("phone", "kelurahan", "address", "caller_name"):
            self.query_one(f"#{name}", Input).value = values[name]
        self.query_one(BoundedTextArea).load_text(values["description"])

    def mark(self, name: str, message: str | None, *, warning: bool = False) -> None:
        """Show ``message`` under text field ``name`` (None clears it)."""
        label = self.query_one(f"#{name}-error", Static)
        show_mark(self.query_one(f"#{name}"), label, message, warning=warning)

    def is_warned(self, name: str) -> bool:
        """Whether field ``name`` shows a warning (a cut paste), not an error."""
        return self.query_one(f"#{name}-error", Static).has_class("-warning")

    # --- The phone call --------------------------------------------------------------

    def show_call(self, text: Content, *, ended: bool) -> None:
        """Say which call the form is for, or that its caller hung up (``ended``)."""
        label = self.query_one("#phone-call", Static)
        label.update(text)
        label.set_class(ended, "-ended")
        label.display = True

    # --- Reacting to typing ----------------------------------------------------------

    @on(KelurahanInput.Candidates)
    def _candidates(self, event: KelurahanInput.Candidates) -> None:
        hint = self.query_one("#kelurahan-hint", Static)
        found = event.candidates
        hint.display = bool(found)
        if found:
            chosen = found[event.chosen]
            text = Content(translate("entry_kelurahan_hint", self.lang, choice=chosen.display))
            others = [k.name for k in found if k is not chosen]
            if others:
                more = translate("entry_kelurahan_more", self.lang, others=", ".join(others))
                text = text + Content("  ") + Content.styled(more, "dim")
            hint.update(text)

    @on(BoundedInput.Capped)
    @on(BoundedTextArea.Capped)
    def _capped(self, event: BoundedInput.Capped | BoundedTextArea.Capped) -> None:
        message = translate("entry_capped", self.lang, limit=event.limit)
        name = event.control.id or ""
        if name in TEXT_FIELDS:
            self.mark(name, message, warning=True)
        self.notify(message, severity="warning", markup=False)


def _row(name: str, lang: str, field: Widget) -> ComposeResult:
    """A labelled one-line field with its error line below."""
    with Horizontal(classes="field-row"):
        yield Label(translate(f"field_{name}", lang), classes="field-label", markup=False)
        yield field
    yield Static(id=f"{name}-error", classes="field-error")
