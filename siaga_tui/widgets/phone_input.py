"""The phone field: a letter typed after a whole number starts the next field."""

from __future__ import annotations

import string

from textual.binding import Binding, BindingsMap
from textual.widgets import Input

from siaga_tui.textual_private import add_node_bindings
from siaga_tui.widgets.bounded_input import BoundedInput

#: Digits a number needs before a letter typed after it moves on (a Manado number
#: without its area code has six).
WHOLE_NUMBER_DIGITS: int = 6
#: The keys the field types itself, by key name: what a number is written with, and
#: the letters (which end it).
TYPED_KEYS: dict[str, str] = {
    **{c: c for c in string.digits + string.ascii_letters},
    "plus": "+", "minus": "-", "space": " ", "full_stop": ".", "slash": "/",
    "left_parenthesis": "(", "right_parenthesis": ")",
}  # fmt: skip


class PhoneInput(BoundedInput):
    """A phone number holds no letters: one typed after a number is the next field's.

    The operator types the number and goes straight on with the kelurahan ("0812 3456
    7890Tikala"): the first letter moves focus to the next field and is typed there,
    with every key that follows it. A letter in a short number stays (the form then
    marks the number), so a slip is seen, never moved away silently.

    The field types its keys as priority bindings, in the app's own key handling: the
    number is always whole when the next key is read, so the letter's decision holds
    for a burst of keys too (a key queued behind it would land in the wrong field).
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        keys = BindingsMap(
            Binding(key, f"type_key({character!r})", show=False, priority=True)
            for key, character in TYPED_KEYS.items()
        )
        add_node_bindings(self, keys)

    async def action_in_order(self, action: str) -> None:
        """The number's own keys are typed at once (above), so its editing keys act at
        once too: queued, Backspace would run after the digits typed behind it."""
        await self.run_action(action)

    def action_type_key(self, character: str) -> None:
        if character.isalpha() and sum(c.isdigit() for c in self.value) >= WHOLE_NUMBER_DIGITS:
            self.screen.focus_next()
            target = self.screen.focused
            if isinstance(target, Input) and target is not self:
                target.insert_text_at_cursor(character)
                return
        if self.selection.is_empty:
            self.insert_text_at_cursor(character)
        else:
            self.replace(character, *self.selection)
