"""A small dialog: narrow the queue to one category (or show them all again).

The category's one-key code picks it at once, the same key as in the entry form
(``3`` kebakaran, ``b`` penerangan jalan, …); arrows and Enter work too.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from siaga_tui.core.catalogue import Catalogue
from siaga_tui.core.i18n import translate


class CategoryFilterDialog(ModalScreen[str | None]):
    """Returns a category code, ``""`` for every category, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", show=False)]

    def __init__(self, catalogue: Catalogue, lang: str) -> None:
        super().__init__()
        self.catalogue = catalogue
        self.lang = lang

    def compose(self) -> ComposeResult:
        options = [Option(Content(translate("queue_all_categories", self.lang)), id="")]
        for category in self.catalogue.categories:
            kind = translate(f"kind_{category.kind}", self.lang)
            options.append(
                Option(
                    Content.assemble(
                        (category.hotkey, "bold $accent"), f"  {category.label(self.lang)} · {kind}"
                    ),
                    id=category.code,
                )
            )
        with Vertical(classes="dialog"):
            yield Label(
                translate("queue_pick_category", self.lang), classes="dialog-title", markup=False
            )
            yield OptionList(*options, id="categories")

    def on_key(self, event: Key) -> None:
        """A category's one-key code (as in the entry form) picks it."""
        category = (
            self.catalogue.category_by_hotkey(event.character or "") if event.is_printable else None
        )
        if category is not None:
            event.stop()
            event.prevent_default()
            self.dismiss(category.code)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id or "")

    def action_cancel(self) -> None:
        self.dismiss(None)
