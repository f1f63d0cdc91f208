"""A one-line input that cuts an over-long paste instead of refusing it, and whose
editing keys act in the order they were typed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

from siaga_tui.core.text import clean_text


def in_order_bindings(
    bindings: Iterable[BindingType], *, leave: frozenset[str] = frozenset()
) -> list[BindingType]:
    """Priority copies of a text field's own editing keys (Backspace, Delete, the
    cursor keys…) that call ``in_order(action)``, except the keys in ``leave``.

    A letter goes into the focused field from its message queue, while a key bound to
    an action (Backspace) runs only once it has bubbled back up to the app: in a burst
    ("Atlantis", eight Backspaces, "tikala b") the letters typed after it overtook it
    ("Atltikal"). A priority binding runs when the app reads the key, before the keys
    after it are handed on; ``in_order`` then queues the action behind the keys before.
    Screen and app priority keys still come first, as they did.
    """
    ordered: list[BindingType] = []
    for binding in Binding.make_bindings(bindings):
        keys = [key for key in binding.key.split(",") if key.strip() not in leave]
        if keys:
            ordered.append(
                Binding(
                    ",".join(keys),
                    f"in_order({binding.action!r})",
                    binding.description,
                    show=False,
                    priority=True,
                )
            )
    return ordered


class BoundedInput(Input):
    """An ``Input`` holding at most ``max_length`` characters.

    Textual's ``Input`` drops a paste that would pass ``max_length`` altogether; an
    operator pasting a long address would lose all of it without a word. This one keeps
    what fits and posts ``Capped`` so the form can say the text was cut. Its editing
    keys act in the order typed (``in_order_bindings``).
    """

    # Enter stays the form's (it moves on).
    BINDINGS: ClassVar[list[BindingType]] = in_order_bindings(
        Input.BINDINGS, leave=frozenset({"enter"})
    )

    class Capped(Message):
        """Text was cut to the field's limit."""

        def __init__(self, field: BoundedInput, limit: int) -> None:
            super().__init__()
            self.field = field
            self.limit = limit

        @property
        def control(self) -> BoundedInput:
            return self.field

    async def action_in_order(self, action: str) -> None:
        """Run this field's ``action`` after the keys typed before it are in."""
        self.call_later(self.run_action, action)

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
