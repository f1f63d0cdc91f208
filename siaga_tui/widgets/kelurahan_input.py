"""The kelurahan field: completes names and aliases from the catalogue."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from siaga_tui.core.catalogue import Catalogue, Kelurahan
from siaga_tui.widgets.bounded_input import BoundedInput

#: Candidates offered under the field.
OFFERED: int = 3


class KelurahanInput(BoundedInput):
    """Typing offers the matching kelurahan (aliases too); Tab or Enter takes the first.

    The candidates come from the catalogue in memory (``complete_kelurahan``), so no
    database call happens while typing. ``Candidates`` reports them for the hint line.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "accept", show=False),
        Binding("enter", "accept", show=False),
    ]

    class Candidates(Message):
        def __init__(self, field: KelurahanInput, candidates: list[Kelurahan]) -> None:
            super().__init__()
            self.field = field
            self.candidates = candidates

        @property
        def control(self) -> KelurahanInput:
            return self.field

    def __init__(self, catalogue: Catalogue, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.catalogue = catalogue
        self.candidates: list[Kelurahan] = []

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        found = self.catalogue.complete_kelurahan(value, limit=OFFERED)
        if found and found[0].display == value.strip():
            found = []  # already the full name: nothing to offer
        self.candidates = found
        self.post_message(self.Candidates(self, found))

    def action_accept(self) -> None:
        """Take the first candidate; with none, Tab moves on as usual."""
        if self.candidates:
            self.value = self.candidates[0].display
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()
