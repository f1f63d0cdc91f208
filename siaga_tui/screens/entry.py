"""Quick entry (Laporan Baru, F2): from a call to a saved report with one category key.

The screen opens with the category picker focused and a call timer running. One key
picks the category and moves to the phone; the caller's history and the category's
questions show beside the form. ``Ctrl+S`` checks the form, offers open reports that
may be the same incident, then files the report (or attaches the call). Nothing typed
is lost on a refusal or a storage error. F5–F8 log a call that is no report.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from siaga_tui.core.catalogue import Catalogue
from siaga_tui.core.errors import InvalidInput, SiagaError, ValidationError
from siaga_tui.core.fields import FIELD_LIMITS
from siaga_tui.core.i18n import translate
from siaga_tui.core.models import NON_REPORT_DISPOSITIONS
from siaga_tui.core.timeutil import Clock, as_utc
from siaga_tui.screens.base import ConsoleScreen
from siaga_tui.screens.entry_draft import EntryDraft
from siaga_tui.screens.localised import Key, key_hints
from siaga_tui.services.reports import ReportService
from siaga_tui.services.views import CallerHistory, ReportSummary
from siaga_tui.widgets.bounded_input import BoundedInput
from siaga_tui.widgets.bounded_text_area import BoundedTextArea
from siaga_tui.widgets.call_questions import CallQuestions
from siaga_tui.widgets.caller_history import CallerHistoryView
from siaga_tui.widgets.category_picker import CategoryPicker
from siaga_tui.widgets.duplicate_offer import FILE_NEW, DuplicateOffer
from siaga_tui.widgets.kelurahan_input import KelurahanInput
from siaga_tui.widgets.key_footer import KeyFooter
from siaga_tui.widgets.leave_confirm import LeaveConfirm

#: The longest a phone field holds (a number with spaces and dashes fits easily).
PHONE_LENGTH = 40
#: Pause after the last key of the phone before its history is looked up.
HISTORY_DEBOUNCE = 0.25
#: The form's fields in the order focus visits them; errors focus the first bad one.
FORM_FIELDS = ("category", "phone", "kelurahan", "address", "description")
#: The key of each call that is no report.
DISPOSITION_KEYS = dict(
    zip(("f5", "f6", "f7", "f8"), (d.value for d in NON_REPORT_DISPOSITIONS), strict=True)
)

KEYS = (
    Key("ctrl+s", "save", "entry_key_save", priority=True),
    *(
        Key(key, f"log_call('{name}')", f"entry_key_{name}")
        for key, name in DISPOSITION_KEYS.items()
    ),
    Key("f9", "pick_category", "entry_key_category", show=False),
    Key("escape", "leave", "entry_key_leave"),
)


class EntryScreen(ConsoleScreen[None]):
    """The form of one call; the services, clock and language come from the app."""

    CSS_PATH = "../styles/entry.tcss"
    KEYS = KEYS
    TITLE_KEY = "entry_title"

    def __init__(self) -> None:
        super().__init__()
        self.catalogue: Catalogue = self.console.catalogue
        self.opened_at: datetime = self.clock()
        self._busy = False

    @property
    def clock(self) -> Clock:
        return self.console.clock

    # --- Layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        t = self.lang
        yield self.status_header()
        yield CategoryPicker(self.catalogue.categories, id="category")
        yield Static(id="category-error", classes="field-error")
        with Horizontal(id="entry-body"):
            with VerticalScroll(id="entry-form", can_focus=False):
                yield from _row(
                    "phone", t, BoundedInput(id="phone", max_length=PHONE_LENGTH, compact=True)
                )
                yield from _row(
                    "kelurahan",
                    t,
                    KelurahanInput(
                        self.catalogue,
                        id="kelurahan",
                        max_length=FIELD_LIMITS["address"],
                        compact=True,
                    ),
                )
                yield Static(id="kelurahan-hint")
                yield from _row(
                    "address",
                    t,
                    BoundedInput(id="address", max_length=FIELD_LIMITS["address"], compact=True),
                )
                yield Label(translate("field_description", t), classes="field-label", markup=False)
                yield BoundedTextArea(
                    id="description",
                    max_length=FIELD_LIMITS["description"],
                    compact=True,
                    soft_wrap=True,
                )
                yield Static(id="description-error", classes="field-error")
            with VerticalScroll(id="entry-side", can_focus=False):
                yield CallerHistoryView(self.catalogue, id="history")
                yield CallQuestions(id="questions")
        yield Static(id="entry-keys")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(CategoryPicker).lang = self.lang
        for field in self.query(Input):
            field.cursor_blink = False
        self.query_one(BoundedTextArea).cursor_blink = False
        self.query_one(CallerHistoryView).show(None, self.lang)
        self.query_one(CallQuestions).show(None, self.lang)
        self.query_one("#kelurahan-hint", Static).display = False
        for error in self.query(".field-error"):
            error.display = False
        self.query_one("#entry-keys", Static).update(key_hints(self, KEYS, self.lang))
        self._show_timer()
        self.set_interval(1, self._show_timer)
        self.query_one(CategoryPicker).focus()

    def on_screen_resume(self) -> None:
        """Back on the form (F2 again): an untouched form starts the next call's timer."""
        if self.draft.is_empty:
            self.opened_at = self.clock()
            self._show_timer()

    def _show_timer(self) -> None:
        """The screen's name and how long this call has lasted, in the header."""
        seconds = max(0, int((as_utc(self.clock()) - as_utc(self.opened_at)).total_seconds()))
        minutes, seconds = divmod(seconds, 60)
        elapsed = translate("entry_timer", self.lang, elapsed=f"{minutes:02d}:{seconds:02d}")
        self.show_title(f"{translate('entry_title', self.lang)} \u00b7 {elapsed}")

    # --- The form's state --------------------------------------------------------------

    @property
    def draft(self) -> EntryDraft:
        """The form as typed, as plain data."""
        return EntryDraft(
            opened_at=self.opened_at,
            category=self.query_one(CategoryPicker).selected,
            phone=self.query_one("#phone", Input).value,
            kelurahan=self.query_one("#kelurahan", Input).value,
            address=self.query_one("#address", Input).value,
            description=self.query_one(BoundedTextArea).text,
        )

    def load_draft(self, draft: EntryDraft) -> None:
        """Put ``draft`` into the form (a clean one for the next call, or a kept one)."""
        self.opened_at = draft.opened_at
        picker = self.query_one(CategoryPicker)
        picker.selected = draft.category
        self.query_one(CallQuestions).show(picker.category, self.lang)
        self.query_one("#phone", Input).value = draft.phone
        self.query_one("#kelurahan", Input).value = draft.kelurahan
        self.query_one("#address", Input).value = draft.address
        self.query_one(BoundedTextArea).load_text(draft.description)
        for name in FORM_FIELDS:
            self._mark_field(name, None)
        self._show_timer()

    def _next_call(self) -> None:
        self.load_draft(EntryDraft(opened_at=self.clock()))
        self.query_one(CallerHistoryView).show(None, self.lang)
        self.query_one(CategoryPicker).focus()

    def _form_field(self, name: str) -> Widget:
        return self.query_one(CategoryPicker) if name == "category" else self.query_one(f"#{name}")

    def _mark_field(self, name: str, message: str | None, *, warning: bool = False) -> None:
        """Show ``message`` under field ``name`` (None clears it)."""
        if name not in FORM_FIELDS:
            return
        self._form_field(name).set_class(message is not None and not warning, "-invalid")
        label = self.query_one(f"#{name}-error", Static)
        label.set_class(warning, "-warning")
        label.update(Content(message or ""))
        label.display = message is not None

    # --- Typing --------------------------------------------------------------------------

    @on(CategoryPicker.Picked)
    def _picked(self, event: CategoryPicker.Picked) -> None:
        self._mark_field("category", None)
        self.query_one(CallQuestions).show(event.category, self.lang)

    @on(Input.Changed, "#phone")
    def _phone_changed(self, event: Input.Changed) -> None:
        self._mark_field("phone", None)
        self._look_up_caller(event.value)

    @on(Input.Changed, "#address")
    def _address_changed(self) -> None:
        self._mark_field("address", None)

    @on(Input.Changed, "#kelurahan")
    def _kelurahan_changed(self) -> None:
        self._mark_field("kelurahan", None)

    @on(BoundedTextArea.Changed)
    def _description_changed(self) -> None:
        label = self.query_one("#description-error", Static)
        if not label.has_class("-warning"):
            self._mark_field("description", None)

    @on(KelurahanInput.Candidates)
    def _candidates(self, event: KelurahanInput.Candidates) -> None:
        hint = self.query_one("#kelurahan-hint", Static)
        found = event.candidates
        hint.display = bool(found)
        if found:
            text = translate("entry_kelurahan_hint", self.lang, choice=found[0].display)
            if len(found) > 1:
                others = ", ".join(k.name for k in found[1:])
                text += "  " + translate("entry_kelurahan_more", self.lang, others=others)
            hint.update(Content(text))

    @on(BoundedInput.Capped)
    @on(BoundedTextArea.Capped)
    def _capped(self, event: BoundedInput.Capped | BoundedTextArea.Capped) -> None:
        message = translate("entry_capped", self.lang, limit=event.limit)
        name = event.control.id or ""
        if name in FORM_FIELDS:
            self._mark_field(name, message, warning=True)
        self.notify(message, severity="warning", markup=False)

    @work(thread=True, exclusive=True, group="entry-history", exit_on_error=False)
    def _look_up_caller(self, phone: str) -> None:
        """The caller's history, once typing pauses (a newer key cancels this one)."""
        time.sleep(HISTORY_DEBOUNCE)
        if get_current_worker().is_cancelled:
            return
        history = self.console.calls.caller_history(phone)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_history, history)

    def _show_history(self, history: CallerHistory | None) -> None:
        self.query_one(CallerHistoryView).show(history, self.lang)

    # --- Saving --------------------------------------------------------------------------

    def action_save(self) -> None:
        if not self._busy:
            self._busy = True
            self._check_form(self.draft)

    @work(thread=True, exclusive=True, group="entry-save", exit_on_error=False)
    def _check_form(self, draft: EntryDraft) -> None:
        """Validate, then offer possible duplicates or file the report."""
        reports = self.console.reports
        try:
            cleaned = reports.validate_new_report(draft.to_report())
            found = reports.possible_duplicates(
                cleaned["category"].code, cleaned["kelurahan"].code, cleaned["phone"]
            )
        except SiagaError as error:
            self.app.call_from_thread(self._show_refusal, error)
            return
        if found:
            self.app.call_from_thread(self._offer_duplicates, draft, found)
        else:
            self._file_report(draft, reports)

    def _offer_duplicates(self, draft: EntryDraft, found: Sequence[ReportSummary]) -> None:
        numbers = {report.id: report.number for report in found}

        def chosen(choice: int | None) -> None:
            if choice is None:
                self._busy = False
            elif choice == FILE_NEW:
                self._file_new(draft)
            else:
                self._attach_call(draft, choice, numbers[choice])

        self.app.push_screen(
            DuplicateOffer(found, catalogue=self.catalogue, now=self.clock(), lang=self.lang),
            callback=chosen,
        )

    @work(thread=True, exclusive=True, group="entry-save", exit_on_error=False)
    def _file_new(self, draft: EntryDraft) -> None:
        self._file_report(draft, self.console.reports)

    def _file_report(self, draft: EntryDraft, reports: ReportService) -> None:
        """File ``draft`` (runs in a save worker's thread)."""
        try:
            saved = reports.create_report(draft.to_report())
        except SiagaError as error:
            self.app.call_from_thread(self._show_refusal, error)
            return
        self.app.call_from_thread(
            self._after_save, translate("entry_saved", self.lang, number=saved.number)
        )

    @work(thread=True, exclusive=True, group="entry-save", exit_on_error=False)
    def _attach_call(self, draft: EntryDraft, report_id: int, number: str) -> None:
        try:
            self.console.reports.attach_call(
                report_id, phone=draft.phone or None, answered_at=draft.opened_at
            )
        except SiagaError as error:
            self.app.call_from_thread(self._show_refusal, error)
            return
        self.app.call_from_thread(
            self._after_save, translate("entry_attached", self.lang, number=number)
        )

    def _after_save(self, message: str) -> None:
        self._busy = False
        self.notify(message, markup=False)
        self._next_call()

    def _show_refusal(self, error: SiagaError) -> None:
        """Mark the bad fields, or say why nothing was saved; the form stays as typed."""
        self._busy = False
        errors = error.errors if isinstance(error, InvalidInput) else [error]
        fields = [e for e in errors if isinstance(e, ValidationError) and e.field in FORM_FIELDS]
        for item in fields:
            reason = (
                translate("entry_category_none", self.lang)
                if item.field == "category"
                else item.message(self.lang)
            )
            self._mark_field(item.field, reason)
        if fields:
            first = min(fields, key=lambda e: FORM_FIELDS.index(e.field))
            self._form_field(first.field).focus()
            self.notify(translate("entry_fix_fields", self.lang), severity="error", markup=False)
        others = [e for e in errors if e not in fields]
        for other in others:
            reason = (
                other.describe(self.lang)
                if isinstance(other, ValidationError)
                else other.message(self.lang)
            )
            self.notify(
                translate("entry_not_saved", self.lang, reason=reason),
                severity="error",
                markup=False,
                timeout=10,
            )

    @on(Worker.StateChanged)
    def _save_failed(self, event: Worker.StateChanged) -> None:
        """A failure no service foresaw (the console says so); the form is untouched."""
        if event.state == WorkerState.ERROR and event.worker.group == "entry-save":
            self._busy = False

    # --- Other keys ------------------------------------------------------------------------

    def action_log_call(self, disposition: str) -> None:
        if not self._busy:
            self._busy = True
            self._log_call(disposition, self.draft)

    @work(thread=True, exclusive=True, group="entry-save", exit_on_error=False)
    def _log_call(self, disposition: str, draft: EntryDraft) -> None:
        try:
            self.console.calls.log_call(
                disposition, phone=draft.phone or None, answered_at=draft.opened_at
            )
        except SiagaError as error:
            self.app.call_from_thread(self._show_refusal, error)
            return
        name = translate(f"disposition_{disposition}", self.lang)
        self.app.call_from_thread(
            self._after_save, translate("entry_call_logged", self.lang, disposition=name)
        )

    def action_pick_category(self) -> None:
        self.query_one(CategoryPicker).focus()

    def action_leave(self) -> None:
        if self.draft.is_empty:
            self.dismiss()
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.dismiss()

        self.app.push_screen(LeaveConfirm(self.lang), callback=answered)


def _row(name: str, lang: str, field: Widget) -> ComposeResult:
    """A labelled one-line field with its error line below."""
    with Horizontal(classes="field-row"):
        yield Label(translate(f"field_{name}", lang), classes="field-label", markup=False)
        yield field
    yield Static(id=f"{name}-error", classes="field-error")
