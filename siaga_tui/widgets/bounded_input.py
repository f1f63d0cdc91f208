"""A one-line input that cuts an over-long paste instead of refusing it."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Input

from siaga_tui.core.text import clean_text


class BoundedInput(Input):
    """An ``Input`` holding at most ``max_length`` characters.

    Textual's ``Input`` drops a paste that would pass ``max_length`` altogether; an
    operator pasting a long address would lose all of it without a word. This one keeps
    what fits and posts ``Capped`` so the form can say the text was cut.
    """

    class Capped(Message):
        """Text was cut to the field's limit."""

        def __init__(self, field: BoundedInput, limit: int) -> None:
            super().__init__()
            self.field = field
            self.limit = limit

        @property
        def control(self) -> BoundedInput:
            return self.field

    def _on_paste(self, event: events.Paste) -> None:
        if not self.max_length or not event.text:
            super()._on_paste(event)
            return
        # Pasted text is cleaned like stored text (no escapes, controls or bidi overrides:
        # the field shows it on the operator's terminal); its first line is kept.
        line = clean_text(event.text, multiline=True).split("\n", 1)[0].replace("\t", " ")
        start, end = sorted(self.selection)
        room = self.max_length - (len(self.value) - (end - start))
        if len(line) > room:
            line = line[: max(room, 0)]
            self.post_message(self.Capped(self, self.max_length))
        if line:
            self.replace(line, start, end)
        event.stop()
        event.prevent_default()  # Input's own handler would insert the whole line again
