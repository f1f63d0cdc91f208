"""A multi-line text area that cuts an over-long paste instead of freezing on it."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import TextArea

from siaga_tui.core.text import clean_text
from siaga_tui.widgets.bounded_input import in_order_bindings


class BoundedTextArea(TextArea):
    """A ``TextArea`` holding at most ``max_length`` characters.

    A 10 MB paste would make the document, its undo history and its wrapping work on
    all of it; only what fits is inserted, and ``Capped`` lets the form say so. Text
    that arrives otherwise (loaded, typed) is cut on change the same way. Its editing
    keys act in the order typed (``in_order_bindings``).
    """

    # F6 and F7 (select the line, select all) are left as they were.
    BINDINGS: ClassVar[list[BindingType]] = in_order_bindings(
        TextArea.BINDINGS, leave=frozenset({"f6", "f7"})
    )

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
        #: Characters typed and not yet in the document (see ``_on_key``).
        self._typed: list[str] = []

    @property
    def typed_text(self) -> str:
        """The text with every key typed so far in it (``text`` may lag a burst of keys)."""
        self.flush_typing()
        return self.text

    async def _on_key(self, event: events.Key) -> None:
        """Keys typed in a burst go in as one edit.

        Each edit re-wraps the line it is on, so with a long description every key
        costs milliseconds; 5,000 keys arriving at once (a paste the terminal sends as
        keys) kept the console from drawing anything for most of a minute, and the
        form saved before they were in. Printable keys are collected and inserted
        together once every key queued before them is read (``call_later`` runs after
        them); any other key first puts what was typed before it in place.
        """
        if self.read_only:
            return
        if event.is_printable and event.character and event.key != "enter":
            event.stop()
            event.prevent_default()
            if not self._typed:
                self.call_later(self.flush_typing)
            self._typed.append(event.character)
            return
        self.flush_typing()  # then TextArea's own handler (next in the class order)

    def action_in_order(self, action: str) -> None:
        """Run ``action`` after the keys typed before it are in the document."""

        async def act() -> None:
            self.flush_typing()
            await self.run_action(action)

        self.call_later(act)

    def flush_typing(self) -> None:
        """Insert the characters typed and not yet in the document."""
        if not self._typed:
            return
        typed = "".join(self._typed)
        self._typed.clear()
        start, end = self.selection
        self.replace(typed, start, end, maintain_selection_offset=False)

    async def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        if self.read_only or not event.text:
            return
        self.flush_typing()  # what was typed before the paste goes before it
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
