"""Beside the quick entry form: what helps the call taker while the call is typed.

The open reports this call may be about (same category and kelurahan lately, or the
same caller), the caller's history and the category's questions. The history and the
open reports are looked up once typing pauses, in workers (a newer key cancels the
look-up running: latest wins); the look-ups are the screen's, handed in as functions,
so this column only asks and shows. ``PossibleChanged`` tells the screen when the open
reports listed changed (its Ctrl+G joins the call to one of them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Final

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.worker import get_current_worker

from siaga_tui.core.catalogue import Catalogue, Category
from siaga_tui.core.errors import NotFound, ValidationError
from siaga_tui.services.views import CallerHistory, ReportSummary
from siaga_tui.widgets.call_questions import CallQuestions
from siaga_tui.widgets.caller_history import CallerHistoryView
from siaga_tui.widgets.possible_duplicates import PossibleDuplicates

#: Pause after the last key of the phone before its history is looked up.
HISTORY_DEBOUNCE: Final = 0.25
#: Pause after the last change before the open reports the call may be about are read.
DUPLICATES_DEBOUNCE: Final = 0.3
#: Digits of a phone number that are enough to look for the same caller's open reports.
PHONE_DIGITS_ENOUGH: Final = 6

#: The open reports a call may be about: (category code, kelurahan code or None, phone).
FindPossible = Callable[[str, str | None, str], list[ReportSummary]]
#: The caller's history by the phone as typed (None: nothing to show).
FindHistory = Callable[[str], CallerHistory | None]


class CallAids(VerticalScroll):
    """The possible duplicates, the caller's history and the category's questions."""

    class PossibleChanged(Message):
        """The open reports listed as possibly the same incident changed."""

        def __init__(self, aids: CallAids, reports: tuple[ReportSummary, ...]) -> None:
            super().__init__()
            self.aids = aids
            self.reports = reports

        @property
        def control(self) -> CallAids:
            return self.aids

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        lang: str,
        clock: Callable[[], datetime],
        find_possible: FindPossible,
        find_history: FindHistory,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, can_focus=False)
        self.catalogue = catalogue
        self.lang = lang
        self.clock = clock
        self.find_possible = find_possible
        self.find_history = find_history
        #: Open reports this call may be about, as last read while typing.
        self.possible: tuple[ReportSummary, ...] = ()
        self._duplicates_query: tuple[str, str | None, str] | None = None

    def compose(self) -> ComposeResult:
        yield PossibleDuplicates(self.catalogue, id="possible")
        yield CallerHistoryView(self.catalogue, id="history")
        yield CallQuestions(id="questions")

    # --- The caller's history ----------------------------------------------------------

    def show_history(self, history: CallerHistory | None) -> None:
        """Show ``history`` (None: the hint to type the number)."""
        self.query_one(CallerHistoryView).show(history, self.lang)

    @work(thread=True, exclusive=True, group="entry-history", exit_on_error=False)
    def look_up_caller(self, phone: str) -> None:
        """The caller's history, once typing pauses (a newer key cancels this one)."""
        time.sleep(HISTORY_DEBOUNCE)
        if get_current_worker().is_cancelled:
            return
        history = self.find_history(phone)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_history, history)

    # --- The category's questions ------------------------------------------------------

    def show_questions(self, category: Category | None) -> None:
        self.query_one(CallQuestions).show(category, self.lang)

    # --- Open reports the call may be about --------------------------------------------

    def look_for_duplicates(self, category: str | None, kelurahan: str, phone: str) -> None:
        """Read the open reports this call may be about, once enough is typed to tell:
        a category and a kelurahan the catalogue knows, or most of a phone number."""
        try:
            place = self.catalogue.resolve_kelurahan(kelurahan).code
        except (ValidationError, NotFound):
            place = None
        digits = "".join(c for c in phone if c.isdigit())
        query = (category or "", place if category else None, digits)
        if query == self._duplicates_query:
            return  # the same question as the last key's (a letter of the address, say)
        self._duplicates_query = query
        if (category and place) or len(digits) >= PHONE_DIGITS_ENOUGH:
            self._read_duplicates(category or "", place if category else None, phone)
        else:
            self._show_duplicates(())

    @work(thread=True, exclusive=True, group="entry-duplicates", exit_on_error=False)
    def _read_duplicates(self, category: str, place: str | None, phone: str) -> None:
        time.sleep(DUPLICATES_DEBOUNCE)
        if get_current_worker().is_cancelled:
            return
        found = self.find_possible(category, place, phone)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_duplicates, tuple(found))

    def _show_duplicates(self, found: tuple[ReportSummary, ...]) -> None:
        if found == self.possible:
            return  # most keys change nothing here: no repaint, no footer rebuild (B7)
        self.possible = found
        self.query_one(PossibleDuplicates).show(found, self.lang, self.clock())
        self.post_message(self.PossibleChanged(self, found))
