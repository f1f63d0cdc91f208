"""Offers the open reports a new call may be about, before a duplicate is filed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from siaga_tui.core.catalogue import Catalogue
from siaga_tui.core.errors import NotFound
from siaga_tui.core.i18n import translate
from siaga_tui.core.text import safe_cell
from siaga_tui.core.timeutil import as_utc, format_age
from siaga_tui.services.views import ReportSummary

#: What the offer returns: a report's id to attach the call to, FILE_NEW, or None (back).
FILE_NEW = 0


class DuplicateOffer(ModalScreen[int | None]):
    """``1``–``9`` attach the call to that report; ``b`` files a new one; Esc goes back."""

    DEFAULT_CSS = """
    DuplicateOffer {
        align: center middle;
        & > Vertical {
            width: 90%;
            max-width: 110;
            height: auto;
            max-height: 90%;
            border: thick $warning;
            background: $surface;
            padding: 0 1;
        }
        #duplicate-title { text-style: bold; color: $text-warning; }
        #duplicate-list { margin: 1 0; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "file_new", show=False),
        Binding("escape", "back", show=False),
    ]

    def __init__(
        self,
        reports: Sequence[ReportSummary],
        *,
        catalogue: Catalogue,
        now: datetime,
        lang: str,
    ) -> None:
        super().__init__()
        self.reports = tuple(reports)[:9]
        self.catalogue = catalogue
        self.now = now
        self.lang = lang

    def compose(self) -> ComposeResult:
        t = self.lang
        with Vertical():
            yield Static(translate("entry_duplicate_title", t), id="duplicate-title", markup=False)
            yield Static(translate("entry_duplicate_body", t), markup=False)
            yield Static(
                Content("\n").join(self._row(n, r) for n, r in enumerate(self.reports, 1)),
                id="duplicate-list",
            )
            yield Static(translate("entry_duplicate_new", t), markup=False)
            yield Static(translate("entry_duplicate_back", t), markup=False)

    def _row(self, index: int, report: ReportSummary) -> Content:
        try:
            category = self.catalogue.category(report.category).label(self.lang)
        except NotFound:
            category = report.category
        try:
            place = self.catalogue.kelurahan_by_code(report.kelurahan_code).name
        except NotFound:
            place = report.kelurahan_code
        age = format_age(as_utc(self.now) - as_utc(report.created_at))
        return Content.assemble(
            (f" {index} ", "reverse bold"),
            " ",
            (report.number, "bold"),
            f"  {translate('entry_duplicate_row_age', self.lang, age=age)}  {category} · {place}\n     ",
            (safe_cell(report.description, width=70), "italic"),
        )

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit():
            index = int(event.character)
            if 1 <= index <= len(self.reports):
                event.stop()
                self.dismiss(self.reports[index - 1].id)

    def action_file_new(self) -> None:
        self.dismiss(FILE_NEW)

    def action_back(self) -> None:
        self.dismiss(None)
