"""What the center knows of the caller's number, shown while the phone is typed."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from siaga_tui.core.catalogue import Catalogue
from siaga_tui.core.errors import NotFound
from siaga_tui.core.i18n import translate
from siaga_tui.core.phones import format_phone
from siaga_tui.core.text import safe_cell
from siaga_tui.core.timeutil import format_local
from siaga_tui.services.views import CallerHistory

#: Earlier reports and calls listed; the counts line covers the rest.
SHOWN: int = 4


class CallerHistoryView(Static):
    """Earlier reports and calls of one number, with a warning for a repeat prank caller."""

    DEFAULT_CSS = """
    CallerHistoryView {
        height: auto;
        padding: 0 1;
        &.-prank { border-left: thick $error; }
    }
    """

    def __init__(self, catalogue: Catalogue, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.catalogue = catalogue
        self.lang = "id"
        self.history: CallerHistory | None = None

    def show(self, history: CallerHistory | None, lang: str) -> None:
        """Show ``history`` (None: no full number typed yet)."""
        self.history, self.lang = history, lang
        self.set_class(bool(history and history.repeat_prank), "-prank")
        self.update(self._content())

    def _content(self) -> Content:
        t = self.lang
        lines = [Content.styled(translate("entry_history_title", t), "bold")]
        history = self.history
        if history is None:
            lines.append(Content.styled(translate("entry_history_empty", t), "dim"))
            return Content("\n").join(lines)
        lines[0] = lines[0] + Content(f"  {format_phone(history.phone)}")
        if history.repeat_prank:
            lines.append(
                Content.styled(
                    translate("entry_history_prank_warning", t, count=history.prank_count),
                    "bold $text-error on $error-muted",
                )
            )
        if not history.is_known:
            lines.append(Content.styled(translate("entry_history_unknown", t), "dim"))
            return Content("\n").join(lines)
        summary = ", ".join(
            f"{translate(f'disposition_{name}', t)} {count}"
            for name, count in sorted(history.dispositions.items(), key=lambda kv: -kv[1])
        )
        lines.append(Content(translate("entry_history_counts", t, summary=summary)))
        if history.reports:
            lines.append(Content.styled(translate("entry_history_reports", t), "underline"))
            for report in history.reports[:SHOWN]:
                status = translate(f"status_{report.status}", t)
                lines.append(
                    Content.assemble(
                        (f"{_when(report.created_at)} ", "dim"),
                        (report.number, "bold"),
                        f" {self._category(report.category)} · {status}",
                    )
                )
        calls = [c for c in history.calls if c.report_id is None]
        if calls:
            lines.append(Content.styled(translate("entry_history_calls", t), "underline"))
            for call in calls[:SHOWN]:
                lines.append(
                    Content.assemble(
                        (f"{_when(call.answered_at)} ", "dim"),
                        translate(f"disposition_{call.disposition}", t),
                        (f" {safe_cell(call.note, width=30)}" if call.note else "", "italic"),
                    )
                )
        return Content("\n").join(lines)

    def _category(self, code: str) -> str:
        try:
            return self.catalogue.category(code).label(self.lang)
        except NotFound:  # a code the catalogue no longer has (old data)
            return safe_cell(code, width=20)


def _when(moment: datetime) -> str:
    return format_local(moment, "%d/%m %H:%M")
