"""The phone field: a letter typed after a whole number starts the next field."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Input

from siaga_tui.widgets.bounded_input import BoundedInput

#: Digits a number needs before a letter typed after it moves on (a Manado number
#: without its area code has six).
WHOLE_NUMBER_DIGITS: int = 6


class PhoneInput(BoundedInput):
    """A phone number holds no letters: one typed after a number is the next field's.

    The operator types the number and goes straight on with the kelurahan ("0812 3456
    7890Tikala"): the first letter moves focus to the next field and is typed there,
    with every key that follows it. A letter in a short number stays (the form then
    marks the number), so a slip is seen, never moved away silently.
    """

    class HandedOn(Message):
        """Typing left the phone for ``target`` with a letter."""

        def __init__(self, field: PhoneInput, target: Input) -> None:
            super().__init__()
            self.field = field
            self.target = target

        @property
        def control(self) -> PhoneInput:
            return self.field

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        #: Where keys still queued here go once a letter moved on (None: here).
        self._handing_to: Input | None = None

    def on_focus(self, event: events.Focus) -> None:
        self._handing_to = None

    async def _on_key(self, event: events.Key) -> None:
        target = self._handing_to
        if target is None and self._starts_next_field(event):
            self.screen.focus_next()
            focused = self.screen.focused
            if isinstance(focused, Input) and focused is not self:
                target = self._handing_to = focused
                self.post_message(self.HandedOn(self, focused))
        if target is None:
            return  # Input's own handler (next in the class order) types the key here
        # Keys typed before the focus moved were queued here: they go on, in order.
        event.stop()
        event.prevent_default()
        if event.is_printable and event.character:
            target.insert_text_at_cursor(event.character)
        elif event.key == "backspace":
            target.action_delete_left()

    def _starts_next_field(self, event: events.Key) -> bool:
        character = event.character or ""
        if not (event.is_printable and character.isalpha()):
            return False
        return sum(c.isdigit() for c in self.value) >= WHOLE_NUMBER_DIGITS
