"""Asks how a call-back made by hand went: reached, no answer, busy."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from siaga_tui.core.i18n import translate

#: The keys of the outcomes, in the order they are offered.
OUTCOME_KEYS = {"1": "reached", "2": "no_answer", "3": "busy"}


class CallbackOutcome(ModalScreen[str | None]):
    """``1`` reached, ``2`` no answer, ``3`` busy; Esc records nothing (None)."""

    DEFAULT_CSS = """
    CallbackOutcome {
        align: center middle;
        & > Vertical {
            width: 60;
            max-width: 100%;
            height: auto;
            border: thick $primary;
            background: $surface;
            padding: 1 2;
        }
        #outcome-title { text-style: bold; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, f"choose('{name}')", show=False) for key, name in OUTCOME_KEYS.items()),
        Binding("escape", "cancel", show=False),
    ]

    def __init__(self, number: str, lang: str) -> None:
        super().__init__()
        self.number = number
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                translate("callback_manual_title", self.lang, number=self.number),
                id="outcome-title",
                markup=False,
            )
            for key, name in OUTCOME_KEYS.items():
                label = translate(f"callback_outcome_{name}", self.lang)
                yield Static(f"{key}  {label}", markup=False)
            yield Static(translate("callback_manual_cancel", self.lang), markup=False)

    def action_choose(self, outcome: str) -> None:
        self.dismiss(outcome)

    def action_cancel(self) -> None:
        self.dismiss(None)
