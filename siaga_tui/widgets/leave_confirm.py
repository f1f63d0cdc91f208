"""Asks before the quick entry form is left with something typed in it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from siaga_tui.core.i18n import translate


class LeaveConfirm(ModalScreen[bool]):
    """``y`` leaves (True); ``n`` or Esc goes back to the form (False)."""

    DEFAULT_CSS = """
    LeaveConfirm {
        align: center middle;
        & > Vertical {
            width: 60;
            max-width: 100%;
            height: auto;
            border: thick $warning;
            background: $surface;
            padding: 1 2;
        }
        #leave-title { text-style: bold; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "leave", show=False),
        Binding("n,escape", "stay", show=False),
    ]

    def __init__(self, lang: str, *, about: str = "leave") -> None:
        """``about``: ``leave`` (the form) or ``quit`` (the console; the draft is kept)."""
        super().__init__()
        self.lang = lang
        self.about = about

    def compose(self) -> ComposeResult:
        t, about = self.lang, self.about
        with Vertical():
            yield Static(translate(f"entry_{about}_title", t), id="leave-title", markup=False)
            yield Static(translate(f"entry_{about}_body", t), markup=False)
            yield Static(translate(f"entry_{about}_yes", t), markup=False)
            yield Static(translate(f"entry_{about}_no", t), markup=False)

    def action_leave(self) -> None:
        self.dismiss(True)

    def action_stay(self) -> None:
        self.dismiss(False)
