"""The kelurahan field: offers names and aliases from the catalogue, and near misses."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from siaga_tui.core.catalogue import Catalogue, Kelurahan
from siaga_tui.widgets.bounded_input import BoundedInput

#: Candidates offered under the field.
OFFERED: int = 3


class KelurahanInput(BoundedInput):
    """Typing offers the matching kelurahan (aliases and close spellings too).

    ↓ and ↑ choose among the candidates; ``accept`` (the form's Tab or Enter) puts the
    chosen one in the field. Nothing is ever taken without that key. The candidates come
    from the catalogue in memory, so no database call happens while typing.
    ``Candidates`` reports them, with the chosen one, for the hint line.
    """

    # Priority keys: read in the order typed with the form's Tab ("malalayng↓⇥" takes the
    # second candidate), and acted on once the letters before them are in the field.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "choose(1)", show=False, priority=True),
        Binding("up", "choose(-1)", show=False, priority=True),
    ]

    class Candidates(Message):
        def __init__(self, field: KelurahanInput, candidates: list[Kelurahan], chosen: int) -> None:
            super().__init__()
            self.field = field
            self.candidates = candidates
            self.chosen = chosen

        @property
        def control(self) -> KelurahanInput:
            return self.field

    def __init__(self, catalogue: Catalogue, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.catalogue = catalogue
        self.candidates: list[Kelurahan] = []
        self.chosen = 0

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        found = self.catalogue.suggest_kelurahan(value, limit=OFFERED)
        if found and found[0].display == value.strip():
            found = []  # already the full name: nothing to offer
        self.candidates = found
        self.chosen = 0
        self.post_message(self.Candidates(self, found, 0))

    def action_choose(self, step: int) -> None:
        """Move the choice to the next (1) or previous (-1) candidate."""
        self.call_later(self._choose, step)  # after the keys typed before this one

    def _choose(self, step: int) -> None:
        if self.candidates:
            self.chosen = (self.chosen + step) % len(self.candidates)
            self.post_message(self.Candidates(self, self.candidates, self.chosen))

    def accept(self) -> bool:
        """Put the chosen candidate in the field; False when there was none to take."""
        if not self.candidates:
            return False
        self.value = self.candidates[self.chosen].display
        self.cursor_position = len(self.value)
        return True
