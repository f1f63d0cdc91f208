"""Asks before a shift handover is recorded: it goes into the audit log for good.

Recording needs the outgoing operator's notes, or an explicit "no notes" ticked here;
a second handover for the same shift is allowed but said so. Ctrl+S (or the Record
button) records, Esc goes back to the notes with nothing written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Static

from siaga_tui.core.i18n import translate
from siaga_tui.core.timeutil import format_local
from siaga_tui.services.handover import HandoverView, ShiftSummary

#: The notes shown in the dialog: the first lines, as typed.
PREVIEW_LINES = 4


class HandoverConfirm(ModalScreen[bool]):
    """True: record the handover; False: go back to the notes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "record", show=False, priority=True),
        Binding("escape", "back", show=False),
    ]

    def __init__(
        self, summary: ShiftSummary, notes: str, earlier: Sequence[HandoverView], lang: str
    ) -> None:
        super().__init__()
        self.summary = summary
        self.notes = notes
        self.earlier = tuple(earlier)
        self.lang = lang

    def _t(self, key: str, **params: object) -> str:
        return translate(key, self.lang, **params)

    def compose(self) -> ComposeResult:
        s = self.summary
        with Vertical(classes="dialog", id="handover-confirm"):
            yield Label(
                self._t(
                    "handover_confirm_title",
                    start=format_local(s.start, "%H:%M"),
                    end=format_local(s.end, "%H:%M"),
                ),
                classes="dialog-title",
                markup=False,
            )
            yield Label(
                self._t(
                    "handover_confirm_counts",
                    open=s.open_total,
                    overdue=len(s.overdue),
                    awaiting=len(s.awaiting_ack),
                ),
                markup=False,
            )
            for view in self.earlier:
                yield Label(
                    self._t(
                        "handover_confirm_again",
                        id=view.id,
                        at=format_local(view.created_at, "%H:%M"),
                        outgoing=view.outgoing,
                    ),
                    classes="dialog-warning",
                    markup=False,
                )
            yield Label(self._t("handover_notes"), classes="dialog-label", markup=False)
            if self.notes.strip():
                lines = self.notes.strip().splitlines()
                shown = "\n".join(lines[:PREVIEW_LINES]) + (
                    "\n…" if len(lines) > PREVIEW_LINES else ""
                )
                yield Static(Content(shown), id="confirm-notes")
            else:
                yield Checkbox(self._t("handover_confirm_no_notes"), id="no-notes", compact=True)
                yield Label("", id="confirm-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    self._t("handover_confirm_record"), id="record", variant="primary", compact=True
                )
                yield Button(self._t("handover_confirm_back"), id="back", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no-notes" if not self.notes.strip() else "#record").focus()

    @on(Button.Pressed, "#record")
    def action_record(self) -> None:
        if not self.notes.strip() and not self.query_one("#no-notes", Checkbox).value:
            self.query_one("#confirm-error", Label).update(self._t("handover_confirm_needs_notes"))
            self.query_one("#no-notes", Checkbox).focus()
            return
        self.dismiss(True)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss(False)
