"""A multi-line text area that cuts an over-long paste instead of freezing on it."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from siaga_tui.core.text import clean_text


class BoundedTextArea(TextArea):
    """A ``TextArea`` holding at most ``max_length`` characters.

    A 10 MB paste would make the document, its undo history and its wrapping work on
    all of it; only what fits is inserted, and ``Capped`` lets the form say so. Text
    that arrives otherwise (loaded, typed) is cut on change the same way.
    """

    class Capped(Message):
        """Text was cut to the field's limit."""

        def __init__(self, field: BoundedTextArea, limit: int) -> None:
            super().__init__()
            self.field = field
            self.limit = limit

        @property
        def control(self) -> BoundedTextArea:
            return self.field

    def __init__(self, text: str = "", *, max_length: int, **kwargs: object) -> None:
        super().__init__(text, **kwargs)  # type: ignore[arg-type]
        self.max_length = max_length

    async def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        if self.read_only or not event.text:
            return
        start, end = sorted(self.selection)
        selected = len(self.get_text_range(start, end))
        room = self.max_length - (len(self.text) - selected)
        # Cleaned like stored text: no escapes, controls or bidi overrides reach the screen.
        text = clean_text(event.text.replace("\r\n", "\n").replace("\r", "\n"), multiline=True)
        if len(text) > room:
            text = text[: max(room, 0)]
            self.post_message(self.Capped(self, self.max_length))
        if text and (result := self.replace(text, start, end)):
            self.move_cursor(result.end_location)

    def _on_text_area_changed(self, event: TextArea.Changed) -> None:
        if len(self.text) > self.max_length:
            self.load_text(self.text[: self.max_length])
            self.move_cursor(self.document.end)
            self.post_message(self.Capped(self, self.max_length))
