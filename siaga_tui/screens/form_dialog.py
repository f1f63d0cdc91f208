"""A small modal form for one action on a report: pick from lists, type a line or a note.

Forwarding (agency, channel, ticket number), acknowledging (referral, officer), changing
status (status, note), a note, a duplicate's original, a reason to reopen: each is some
lists and at most one text field. Enter moves on to the next field and, on the last,
saves; Ctrl+S saves from anywhere; Esc cancels. The service checks what was entered.

With ``submit`` the dialog carries the action out itself (in a worker): a refusal
(a closing note missing, a transition the rules forbid, the report changed elsewhere)
keeps the dialog open with what was typed and the reason beside the field, so the
operator corrects and saves again instead of starting over. It then returns the
sentence that confirms the action.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from siaga_tui.core.errors import SiagaError, ValidationError
from siaga_tui.core.i18n import translate


@dataclass(frozen=True)
class Choices:
    """One list to pick from: its label and (value, text shown) pairs.

    ``details``: a line shown under the list for the highlighted value (an agency's
    phone and radio); ``presets``: the value to highlight in the next list when a value
    is highlighted here (the agency's usual channel); ``empty``: what is shown in place
    of the list when it has no options (never an empty box).
    """

    label: str
    options: Sequence[tuple[str, str]]
    details: Mapping[str, str] = dataclasses.field(default_factory=dict)
    presets: Mapping[str, str] = dataclasses.field(default_factory=dict)
    empty: str | None = None


@dataclass(frozen=True)
class Answer:
    """What the operator picked in each list, in order, and what they typed."""

    picked: tuple[str, ...]
    text: str


#: Carries the action out (called in a worker thread); returns the confirming sentence.
Submit = Callable[[Answer], str]


class FormDialog(ModalScreen[Answer | str | None]):
    """Returns an ``Answer`` (or, with ``submit``, the confirming sentence once it
    succeeded), or None when the operator cancels."""

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
        submit: Submit | None = None,
        notice: str | None = None,
    ) -> None:
        super().__init__()
        self.submit = submit
        #: A line shown under the title (the agency's phone and radio, say).
        self.notice = notice
        self.title_text = title
        self.lang = lang
        self.choices = choices
        self.text_label = text_label
        self.multiline = multiline
        self.max_length = max_length

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            if self.notice:
                yield Label(self.notice, id="dialog-notice", classes="dialog-notice", markup=False)
            for index, choice in enumerate(self.choices):
                if not choice.options:
                    # Nothing to pick: say so in the list's place, not an empty box.
                    empty = choice.empty or translate("dialog_choices_empty", self.lang)
                    yield Label(empty, id=f"empty-{index}", classes="dialog-empty", markup=False)
                label = Label(choice.label, classes="dialog-label", markup=False)
                label.display = bool(choice.options)
                yield label
                options = OptionList(
                    *(Option(Content(text), id=value) for value, text in choice.options),
                    id=f"choice-{index}",
                )
                options.display = bool(choice.options)  # still answers "" for the list
                yield options
                if choice.details:
                    yield Label("", id=f"details-{index}", classes="dialog-details", markup=False)
            if self.text_label is not None:
                yield Label(self.text_label, classes="dialog-label", markup=False)
                if self.multiline:
                    yield TextArea(id="text", soft_wrap=True, compact=True)
                else:
                    yield Input(id="text", max_length=self.max_length, compact=True)
            yield Label("", id="dialog-error", classes="dialog-error", markup=False)
            yield Label(translate("dialog_hint", self.lang), classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#dialog-error").display = False
        for options in self.query(OptionList):
            options.highlighted = 0
        for field in self.query("#text"):
            field.cursor_blink = False  # type: ignore[attr-defined]
        # The first field there is something to do in (an empty list is skipped).
        usable = [f for f in self.fields if not isinstance(f, OptionList) or f.option_count]
        (usable or self.fields)[0].focus()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Show the highlighted value's details; preselect what goes with it next."""
        event.stop()
        index = int((event.option_list.id or "choice-0").removeprefix("choice-"))
        choice, value = self.choices[index], event.option.id or ""
        if choice.details:
            self.query_one(f"#details-{index}", Label).update(choice.details.get(value, ""))
        preset = choice.presets.get(value)
        if preset is not None and index + 1 < len(self.choices):
            following = self.query_one(f"#choice-{index + 1}", OptionList)
            values = [v for v, _ in self.choices[index + 1].options]
            if preset in values:
                following.highlighted = values.index(preset)

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
                if options.option_count:
                    options.focus()
                    return
                picked.append("")  # an empty list: nothing to pick from
                continue
            picked.append(options.get_option_at_index(index).id or "")
        text = ""
        for field in self.query("#text"):
            text = field.text if isinstance(field, TextArea) else field.value  # type: ignore[attr-defined]
        answer = Answer(tuple(picked), text)
        if self.submit is None:
            self.dismiss(answer)
        elif not self._saving:
            self._saving = True
            self._submit(self.submit, answer)

    _saving = False

    @work(thread=True, exclusive=True, group="dialog-submit", exit_on_error=False)
    def _submit(self, submit: Submit, answer: Answer) -> None:
        try:
            done = submit(answer)
        except SiagaError as error:
            self.app.call_from_thread(self._refused, error)
            return
        self.app.call_from_thread(self.dismiss, done)

    @on(Worker.StateChanged)
    def _submit_failed(self, event: Worker.StateChanged) -> None:
        if (
            event.state == WorkerState.ERROR
        ):  # the app says what went wrong; saving again is allowed
            self._saving = False

    def _refused(self, error: SiagaError) -> None:
        """Say why beside the field, keep everything typed, focus the field to correct."""
        self._saving = False
        message = (
            error.describe(self.lang)
            if isinstance(error, ValidationError)
            else error.message(self.lang)
        )
        label = self.query_one("#dialog-error", Label)
        label.update(message)
        label.display = True
        texts = self.query("#text")
        usable = [f for f in self.fields if not isinstance(f, OptionList) or f.option_count]
        (texts[0] if texts else (usable or self.fields)[0]).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
