"""A small modal form for one action on a report: pick from lists, type a line or a note.

Forwarding (agency, channel, ticket number), acknowledging (referral, officer), changing
status (status, note), a note, a duplicate's original, a reason to reopen: each is some
lists and at most one text field. Enter moves on to the next field and, on the last,
saves; Ctrl+S saves from anywhere; Esc cancels. The service checks what was entered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from siaga_tui.core.i18n import translate


@dataclass(frozen=True)
class Choices:
    """One list to pick from: its label and (value, text shown) pairs."""

    label: str
    options: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Answer:
    """What the operator picked in each list, in order, and what they typed."""

    picked: tuple[str, ...]
    text: str


class FormDialog(ModalScreen[Answer | None]):
    """Returns an ``Answer``, or None when the operator cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", show=False, priority=True),
        Binding("escape", "cancel", show=False),
    ]

    def __init__(
        self,
        title: str,
        lang: str,
        *,
        choices: Sequence[Choices] = (),
        text_label: str | None = None,
        multiline: bool = False,
        max_length: int = 0,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.lang = lang
        self.choices = choices
        self.text_label = text_label
        self.multiline = multiline
        self.max_length = max_length

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            for index, choice in enumerate(self.choices):
                yield Label(choice.label, classes="dialog-label", markup=False)
                yield OptionList(
                    *(Option(Content(text), id=value) for value, text in choice.options),
                    id=f"choice-{index}",
                )
            if self.text_label is not None:
                yield Label(self.text_label, classes="dialog-label", markup=False)
                if self.multiline:
                    yield TextArea(id="text", soft_wrap=True, compact=True)
                else:
                    yield Input(id="text", max_length=self.max_length, compact=True)
            yield Label(translate("dialog_hint", self.lang), classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        for options in self.query(OptionList):
            options.highlighted = 0
        for field in self.query("#text"):
            field.cursor_blink = False  # type: ignore[attr-defined]
        self.fields[0].focus()

    @property
    def fields(self) -> list[Widget]:
        return [*self.query(OptionList), *self.query("#text")]

    @on(OptionList.OptionSelected)
    def _next_field(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        fields = self.fields
        position = fields.index(event.option_list)
        if position + 1 < len(fields):
            fields[position + 1].focus()
        else:
            self.action_save()

    @on(Input.Submitted, "#text")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        picked = []
        for options in self.query(OptionList):
            index = options.highlighted
            if index is None:
                options.focus()
                return
            picked.append(options.get_option_at_index(index).id or "")
        text = ""
        for field in self.query("#text"):
            text = field.text if isinstance(field, TextArea) else field.value  # type: ignore[attr-defined]
        self.dismiss(Answer(tuple(picked), text))

    def action_cancel(self) -> None:
        self.dismiss(None)
