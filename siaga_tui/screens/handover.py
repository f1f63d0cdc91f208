"""Shift handover in the console: the outgoing shift's summary, notes, and acceptance.

The outgoing operator sees what is still open (overdue ones marked), what waits for an
agency's acknowledgement and the shift's calls and reports, types the notes and
records the handover (Ctrl+S, then a confirmation: the notes, or "no notes" ticked, and
a word when the shift already has a handover). F5 does nothing here: in the entry form
it marks a prank call, and a reflex must not record a handover. The incoming operator
sees the newest handover nobody has accepted yet, exactly as it was recorded, and
accepts it (F6). Both land in the audit log; the audit head (its entry number and hash)
is shown for the paper shift log. Everything is read and written in workers; F7 reads
again.
"""

from __future__ import annotations

from typing import Final

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Label, Static, TextArea

from siaga_tui.core.i18n import translate
from siaga_tui.core.timeutil import format_local, format_moment
from siaga_tui.screens.base import ConsoleScreen
from siaga_tui.screens.handover_confirm import HandoverConfirm
from siaga_tui.screens.localised import Key
from siaga_tui.services.audit import AuditHead, audit_head
from siaga_tui.services.handover import (
    NOTES_LIMIT,
    HandoverService,
    HandoverView,
    ShiftSummary,
    overdue_text,
    summary_lines,
)
from siaga_tui.widgets.key_footer import KeyFooter

COLUMNS: Final = ("number", "time", "category", "status", "agencies")
#: The columns whose text can be long, at a fixed width: what does not fit wraps onto
#: more lines of its row. The table then fits 120 columns with every date whole, also
#: one with its year ("24/10/2025 05:00"), instead of running past the screen's edge.
#: The other columns are as wide as their longest cell.
WRAPPED_WIDTHS: Final = {"category": 20, "agencies": 14, "overdue": 24}


class HandoverScreen(ConsoleScreen[None]):
    """The handover of the outgoing shift, and the one waiting to be accepted."""

    CSS_PATH = "../styles/handover.tcss"
    TITLE_KEY = "handover_screen_title"
    # Priority: the notes field (a TextArea) has its own F6/F7 (select line / all).
    KEYS = (
        Key("ctrl+s", "record", "handover_key_record", priority=True),
        Key("f6", "accept", "handover_key_accept", priority=True),
        Key("f7", "reload", "handover_key_reload", priority=True),
    )

    def __init__(self) -> None:
        super().__init__()
        self.pending: HandoverView | None = None
        self.summary: ShiftSummary | None = None
        #: Handovers already recorded for the outgoing shift.
        self.earlier: tuple[HandoverView, ...] = ()

    def _t(self, key: str, **params: object) -> str:
        return translate(key, self.lang, **params)

    def compose(self) -> ComposeResult:
        yield self.status_header()
        with VerticalScroll(id="handover-body"):
            yield Static(id="handover-pending")
            yield Label("", id="handover-earlier", markup=False)
            yield Label("", id="handover-shift", classes="handover-section", markup=False)
            yield Label("", id="handover-open", classes="handover-section", markup=False)
            yield DataTable(id="handover-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="handover-lines")
            yield Label(self._t("handover_notes"), classes="handover-section", markup=False)
            yield TextArea(id="handover-notes", soft_wrap=True, compact=True)
            yield Label("", id="handover-head", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.show_title(self._t(self.TITLE_KEY))
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(
                self._t(f"cli_col_{column}"), key=column, width=WRAPPED_WIDTHS.get(column)
            )
        table.add_column(
            self._t("handover_col_overdue"), key="overdue", width=WRAPPED_WIDTHS["overdue"]
        )
        notes = self.query_one(TextArea)
        notes.cursor_blink = False
        # Focused without scrolling to it: the screen opens on the summary. Scrolled
        # into view now, the field moved down once the summary loaded, and whether the
        # screen followed it depended on which came first.
        notes.focus(scroll_visible=False)
        self.action_reload()

    # --- Reading ----------------------------------------------------------------------

    @on(TextArea.Changed, "#handover-notes")
    def _keep_notes_in_view(self) -> None:
        """The screen opens on the summary; what the operator types is shown as typed."""
        self.query_one("#handover-notes", TextArea).scroll_visible(animate=False)

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="handover-load", exit_on_error=False)
    def _load(self) -> None:
        service = self._service()
        summary = service.preview()
        pending = service.pending()
        earlier = tuple(service.for_shift())
        head = audit_head(self.console.db)
        self.app.call_from_thread(self._show, summary, pending, earlier, head)

    def _service(self) -> HandoverService:
        app = self.console
        return HandoverService(
            app.db, operator=app.operator, clock=app.clock, catalogue=app.catalogue
        )

    def _show(
        self,
        summary: ShiftSummary,
        pending: HandoverView | None,
        earlier: tuple[HandoverView, ...],
        head: AuditHead,
    ) -> None:
        self.pending, self.summary, self.earlier = pending, summary, earlier
        catalogue = self.console.catalogue
        recorded = self.query_one("#handover-earlier", Label)
        recorded.display = bool(earlier)
        if earlier:
            last = earlier[-1]
            recorded.update(
                self._t(
                    "handover_already",
                    count=len(earlier),
                    id=last.id,
                    at=format_local(last.created_at, "%H:%M"),
                    outgoing=last.outgoing,
                )
            )
        self.query_one("#handover-shift", Label).update(
            self._t(
                "handover_title", start=format_local(summary.start), end=format_local(summary.end)
            )
        )
        self.query_one("#handover-open", Label).update(
            self._t("handover_open", count=summary.open_total)
        )
        table = self.query_one(DataTable)
        table.clear()
        for item in summary.open_items:
            category = catalogue.category(item.category)
            table.add_row(
                Text(item.number),
                Text(format_moment(item.created_at, summary.generated_at)),
                Text(("! " if category.is_emergency else "  ") + category.label(self.lang)),
                Text(self._t(f"status_{item.status}")),
                Text(", ".join(item.agencies)),
                Text(overdue_text(item, self.lang), style="bold" if item.overdue else ""),
                key=item.number,
                height=None,  # as many lines as its longest wrapped cell
            )
        lines = summary_lines(summary, self.lang, catalogue)
        hidden = summary.open_total - len(summary.open_items)
        if hidden > 0:
            lines.insert(0, (False, self._t("handover_open_more", count=hidden)))
        self.query_one("#handover-lines", Static).update(
            Content("\n").join(
                Content.styled(text, "bold" if heading else "") for heading, text in lines
            )
        )
        self._show_pending(pending)
        self.query_one("#handover-head", Label).update(
            self._t("handover_head", id=head.id, hash=head.hash)
        )
        self.refresh_bindings()

    def _show_pending(self, pending: HandoverView | None) -> None:
        box = self.query_one("#handover-pending", Static)
        box.set_class(pending is not None, "-pending")
        if pending is None:
            box.update(Content(self._t("handover_nothing_pending")))
            return
        summary = pending.summary
        box.update(
            Content("\n").join(
                [
                    Content.styled(
                        self._t(
                            "handover_pending",
                            id=pending.id,
                            outgoing=pending.outgoing,
                            at=format_local(pending.created_at, "%H:%M"),
                        ),
                        "bold",
                    ),
                    Content(
                        self._t(
                            "handover_pending_counts",
                            open=summary.open_total,
                            overdue=len(summary.overdue),
                            awaiting=len(summary.awaiting_ack),
                        )
                    ),
                    Content(pending.notes or self._t("handover_no_notes")),
                ]
            )
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "accept":
            return self.pending is not None
        return True

    # --- Writing ----------------------------------------------------------------------

    def action_record(self) -> None:
        """Ask first (the notes, or "no notes"; a second handover for the shift), then record."""
        if self.summary is None:
            return  # still reading the shift
        notes = self.query_one(TextArea).text[: NOTES_LIMIT + 1]

        def confirmed(record: bool | None) -> None:
            if record:
                self._record(notes)
            else:
                self.query_one(TextArea).focus()

        self.app.push_screen(
            HandoverConfirm(self.summary, notes, self.earlier, self.lang), confirmed
        )

    @work(thread=True, exclusive=True, group="handover-write", exit_on_error=False)
    def _record(self, notes: str) -> None:
        view = self._service().create(notes)
        self.app.call_from_thread(self._recorded, view)

    def _recorded(self, view: HandoverView) -> None:
        self.query_one(TextArea).text = ""
        self.notify(
            self._t("handover_created", id=view.id)
            + " "
            + self._t("audit_head_line", id=view.audit_head_id or "?", hash=view.audit_head),
            markup=False,
            timeout=15,
        )
        self.action_reload()

    def action_accept(self) -> None:
        if self.pending is not None:
            self._accept(self.pending.id)

    @work(thread=True, exclusive=True, group="handover-write", exit_on_error=False)
    def _accept(self, handover_id: int) -> None:
        view = self._service().acknowledge(handover_id)
        self.app.call_from_thread(self._accepted, view)

    def _accepted(self, view: HandoverView) -> None:
        self.notify(
            self._t("handover_acknowledged", id=view.id, incoming=view.incoming or ""), markup=False
        )
        self.action_reload()
