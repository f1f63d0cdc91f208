"""Open reports the call may be about, shown beside the form while it is typed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from siaga_tui.core.catalogue import Catalogue
from siaga_tui.core.errors import NotFound
from siaga_tui.core.i18n import translate
from siaga_tui.core.text import safe_cell
from siaga_tui.core.timeutil import as_utc, format_age
from siaga_tui.services.views import ReportSummary

#: Reports listed beside the form (the offer, ^g, lists up to nine).
SHOWN: int = 3


class PossibleDuplicates(Static):
    """Same category and kelurahan lately, or the same caller: a repeat call is joined early."""

    DEFAULT_CSS = """
    PossibleDuplicates {
        height: auto;
        padding: 0 1;
        margin-bottom: 1;
        display: none;
        &.-found { border-left: thick $warning; display: block; }
    }
    """

    def __init__(self, catalogue: Catalogue, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.catalogue = catalogue
        self.reports: tuple[ReportSummary, ...] = ()

    def show(self, reports: Sequence[ReportSummary], lang: str, now: datetime) -> None:
        """List ``reports`` (none: the panel hides, taking no room from the form's help)."""
        self.reports = tuple(reports)
        self.set_class(bool(self.reports), "-found")
        if not self.reports:
            self.update("")
            return
        lines = [
            Content.styled(translate("entry_live_duplicates_title", lang), "bold $text-warning"),
            Content.styled(translate("entry_live_duplicates_hint", lang), "dim"),
        ]
        for report in self.reports[:SHOWN]:
            age = format_age(as_utc(now) - as_utc(report.created_at))
            lines.append(
                Content.assemble(
                    (report.number, "bold"),
                    f" {translate('entry_duplicate_row_age', lang, age=age)} · {self._place(report, lang)}",
                )
            )
            lines.append(Content.styled(f"  {safe_cell(report.description, width=44)}", "italic"))
        if len(self.reports) > SHOWN:
            lines.append(Content.styled(f"+{len(self.reports) - SHOWN}", "dim"))
        self.update(Content("\n").join(lines))

    def _place(self, report: ReportSummary, lang: str) -> str:
        try:
            category = self.catalogue.category(report.category).label(lang)
        except NotFound:
            category = safe_cell(report.category, width=20)
        try:
            place = self.catalogue.kelurahan_by_code(report.kelurahan_code).name
        except NotFound:
            place = safe_cell(report.kelurahan_code, width=20)
        return f"{category} · {place}"
