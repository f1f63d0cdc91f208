"""Quick entry (Laporan Baru, F2): from a call to a saved report with one category key.

The screen opens with the category picker focused and a call timer running. One key
picks the category and moves to the phone; a number can be typed first too (it starts
with 0 or +). Tab and Enter move on (accepting the kelurahan offered), and a letter
typed after a whole number starts the kelurahan. The caller's history, the open
reports the call may be about (``Ctrl+G`` joins one) and the category's questions show
beside the form. ``Ctrl+S`` checks the form, offers open reports that may be the same
incident, then files the report (or attaches the call, with what this caller said).
Nothing typed is lost on a refusal or a storage error, and no key typed before a save
is left out of it. F5–F8 log a call that is no report.

Keys that move between fields are priority bindings: they run in the app's own key
handling, before the next key is read, so a burst of keys ("0812…⇥tikala…") lands
in the fields in the order it was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from textual import events, on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from siaga_tui.core.catalogue import Catalogue
from siaga_tui.core.errors import SiagaError
from siaga_tui.core.i18n import translate
from siaga_tui.core.models import CallOutcome
from siaga_tui.core.phones import format_phone
from siaga_tui.core.timeutil import Clock, as_utc, format_local
from siaga_tui.screens.base import ConsoleScreen
from siaga_tui.screens.entry_draft import EntryDraft
from siaga_tui.screens.entry_keys import ENTRY_KEYS
from siaga_tui.screens.entry_refusal import explain_refusal
from siaga_tui.screens.localised import key_hints
from siaga_tui.services.reports import ReportService
from siaga_tui.services.telephony import CallbackItem, PhoneCallView
from siaga_tui.services.views import ReportSummary
from siaga_tui.widgets.bounded_text_area import BoundedTextArea
from siaga_tui.widgets.call_aids import CallAids
from siaga_tui.widgets.category_picker import NUMBER_STARTS, CategoryPicker
from siaga_tui.widgets.duplicate_offer import FILE_NEW, DuplicateOffer
from siaga_tui.widgets.entry_fields import (
    FORM_FIELDS,
    TYPED_FIELDS,
    EntryFields,
    next_field,
    previous_field,
    show_mark,
)
from siaga_tui.widgets.kelurahan_input import KelurahanInput
from siaga_tui.widgets.key_footer import KeyFooter
from siaga_tui.widgets.leave_confirm import LeaveConfirm
from siaga_tui.widgets.phone_input import PhoneInput


class EntryScreen(ConsoleScreen[None]):
    """The form of one call; the services, clock and language come from the app."""

    CSS_PATH = "../styles/entry.tcss"
    KEYS = ENTRY_KEYS
    KEY_LINE = True  # its keys are on its own line; the footer has the F-keys
    TITLE_KEY = "entry_title"

    def __init__(self) -> None:
        super().__init__()
        self.catalogue: Catalogue = self.console.catalogue
        self.opened_at: datetime = self.clock()
        self._busy = False
        #: Open reports this call may be about, as last read while typing.
        #: The phone call this form is for (answered here), and the call-back it came from.
        self._phone_call_id: int | None = None
        #: The phone system's id of that call (its row may not be written yet).
        self._phone_system_id: str | None = None
        self._answered_at: datetime | None = None
        self._callback_id: int | None = None

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
            yield EntryFields(self.catalogue, t, id="entry-form")
            yield CallAids(
                self.catalogue,
                lang=t,
                clock=self.clock,
                # Read when asked: the app builds its services when first used, anew
                # after a sign-in.
                find_possible=lambda *asked: self.console.reports.possible_duplicates(*asked),  # noqa: PLW0108
                find_history=lambda phone: self.console.calls.caller_history(phone),  # noqa: PLW0108
                id="entry-side",
            )
        yield Static(id="entry-keys")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(CategoryPicker).lang = self.lang
        self.form.set_up()
        self.aids.show_history(None)
        self.aids.show_questions(None)
        self.query_one("#category-error", Static).display = False
        self.query_one("#entry-keys", Static).update(key_hints(self, ENTRY_KEYS, self.lang))
        self._show_timer()
        self.set_interval(1, self._show_timer)
        if self.focused is None:  # keys typed right after F2 may have moved on already
            self.set_focus(self.query_one(CategoryPicker))

    def on_key(self, event: events.Key) -> None:
        """A key typed before the form had focus (F2 and straight on): it goes to the form.

        While the screen is being built nothing is focused, so the keys reach the screen
        itself; they are handled here in the order typed, as the form would have.
        """
        character = event.character
        if not (event.is_printable and character) or event.key == "enter":
            return
        event.stop()
        picker = self.query_one(CategoryPicker)
        if self.focused is None:
            self.set_focus(picker)
        focused = self.focused
        if focused is picker:
            category = self.catalogue.category_by_hotkey(character)
            if category is not None:
                picker.action_pick(category.code)
            elif character in NUMBER_STARTS.values():
                picker.action_start_number(character)
            else:
                picker.post_message(CategoryPicker.Missed(picker, character))
        elif isinstance(focused, PhoneInput):
            focused.action_type_key(character)
        elif isinstance(focused, Input):
            focused.insert_text_at_cursor(character)
        elif isinstance(focused, BoundedTextArea):
            focused.insert(character)

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
    def aids(self) -> CallAids:
        """What helps beside the form: possible duplicates, the caller, the questions."""
        return self.query_one(CallAids)

    @property
    def possible(self) -> tuple[ReportSummary, ...]:
        """Open reports this call may be about, as last read while typing."""
        found = self.query(CallAids)
        return found.first().possible if found else ()

    @property
    def form(self) -> EntryFields:
        """The text fields (the category picker is above them)."""
        return self.query_one(EntryFields)

    @property
    def draft(self) -> EntryDraft:
        """The form as typed, as plain data."""
        return EntryDraft(
            opened_at=self.opened_at,
            category=self.query_one(CategoryPicker).selected,
            **self.form.typed(),
            phone_call_id=self._phone_call_id,
            answered_at=self._answered_at,
            callback_id=self._callback_id,
        )

    def load_draft(self, draft: EntryDraft) -> None:
        """Put ``draft`` into the form (a clean one for the next call, or a kept one)."""
        self.opened_at = draft.opened_at
        self._phone_call_id = draft.phone_call_id
        self._phone_system_id = None
        self._answered_at = draft.answered_at
        self._callback_id = draft.callback_id
        picker = self.query_one(CategoryPicker)
        picker.selected = draft.category
        self.aids.show_questions(picker.category)
        self.form.load(
            {
                "phone": draft.phone,
                "kelurahan": draft.kelurahan,
                "address": draft.address,
                "description": draft.description,
                "caller_name": draft.caller_name,
            }
        )
        for name in FORM_FIELDS:
            self._mark_field(name, None)
        self._show_timer()
        self._look_for_duplicates()
        if draft.category is not None:
            # A kept draft goes on where it stopped; the picker folds to show its choice.
            self.set_focus(picker)
            self.focus_next()

    # --- The phone -----------------------------------------------------------------------

    def take_phone_call(self, call: PhoneCallView, *, callback_id: int | None = None) -> None:
        """The call answered here: its number and the phone's answer time in the form.

        A caller id that is no phone number (``anonymous``, ``sip:…``) is shown as given
        beside the form and the phone field stays empty: nothing to refuse at saving.
        """
        answered = call.answered_at or self.clock()
        phone = format_phone(call.caller_phone) if call.caller_phone else ""
        self.load_draft(
            EntryDraft(
                opened_at=answered,
                phone=phone,
                phone_call_id=call.id,
                answered_at=call.answered_at,
                callback_id=callback_id,
            )
        )
        self._phone_system_id = call.system_call_id
        text = translate("entry_phone_call", self.lang, time=format_local(answered, "%H:%M:%S"))
        if not call.caller_phone:
            shown = call.caller_id or translate("phone_withheld", self.lang)
            text += "  " + translate("entry_phone_caller_id", self.lang, caller_id=shown)
        self.form.show_call(Content(text), ended=False)
        self.query_one(CategoryPicker).focus()

    def take_callback(self, item: CallbackItem, callback_id: int) -> None:
        """A call-back reached the caller: the form for the report it leads to."""
        self.load_draft(
            EntryDraft(
                opened_at=self.clock(),
                phone=format_phone(item.phone) if item.phone else "",
                callback_id=callback_id,
            )
        )
        text = translate("entry_callback_call", self.lang, number=item.number_shown)
        self.form.show_call(Content(text), ended=False)
        self.query_one(CategoryPicker).focus()

    def caller_hung_up(self, call: PhoneCallView) -> None:
        """This form's call ended (the caller hung up, or the line or the softphone was
        lost: dropped): the form stays, marked so."""
        if not self._is_for(call):
            return
        dropped = call.outcome == CallOutcome.DROPPED
        key = "entry_call_dropped" if dropped else "entry_caller_hung_up"
        self.form.show_call(Content(translate(key, self.lang)), ended=True)

    def phone_call_recorded(self, call: PhoneCallView) -> None:
        """This form's call is in the database now (it was answered before): filed linked."""
        if self._is_for(call) and self._phone_call_id is None:
            self._phone_call_id = call.id

    def _is_for(self, call: PhoneCallView) -> bool:
        if self._phone_system_id is not None:
            return call.system_call_id == self._phone_system_id
        return call.id is not None and call.id == self._phone_call_id

    def _next_call(self) -> None:
        self.load_draft(EntryDraft(opened_at=self.clock()))
        self.aids.show_history(None)
        self.query_one(CategoryPicker).focus()

    # --- Moving between fields ----------------------------------------------------------

    def _fields(self) -> list[Widget]:
        return [self._form_field(name) for name in FORM_FIELDS]

    def focus_next(self, selector: str | type[Widget] = "*") -> Widget | None:
        """The form's own order: a category key goes to the first field still empty,
        the phone goes back to the picker while no category is picked."""
        fields = self._fields()
        current = self.focused
        if current not in fields:
            return super().focus_next(selector)
        form = self.form
        name = FORM_FIELDS[fields.index(current)]
        empty = [n for n in TYPED_FIELDS if not form.value(n).strip()] if name == "category" else []
        picked = self.query_one(CategoryPicker).selected is not None
        target = self._form_field(next_field(name, picked=picked, empty=empty))
        self.set_focus(target)
        return target

    def focus_previous(self, selector: str | type[Widget] = "*") -> Widget | None:
        fields = self._fields()
        current = self.focused
        if current not in fields:
            return super().focus_previous(selector)
        target = self._form_field(previous_field(FORM_FIELDS[fields.index(current)]))
        self.set_focus(target)
        return target

    def action_next_field(self, key: str) -> None:
        """Tab, and Enter in a one-line field: on to the next field.

        On the kelurahan, the candidate offered is taken first, once the keys typed
        before this one are in the field (``call_later`` runs after them).
        """
        focused = self.focused
        if key == "enter" and (
            focused is None or isinstance(focused, (BoundedTextArea, CategoryPicker))
        ):
            raise SkipAction()  # a new line in the description; nothing on the picker
        if isinstance(focused, KelurahanInput):
            focused.call_later(focused.accept)
        self.focus_next()

    def action_previous_field(self) -> None:
        self.focus_previous()

    def _after_typing(self, then: Callable[[], object]) -> None:
        """Run ``then`` once every field has taken the keys typed before now.

        Keys reach a field as messages in its queue, and a save key runs before the
        field has read them; a callback queued behind them in every field comes after.
        """
        fields = [f for f in self._fields() if f.is_attached]

        def step(index: int) -> None:
            if index >= len(fields):
                then()
            else:
                fields[index].call_later(step, index + 1)

        step(0)

    def _form_field(self, name: str) -> Widget:
        return self.query_one(CategoryPicker) if name == "category" else self.query_one(f"#{name}")

    def _mark_field(self, name: str, message: str | None, *, warning: bool = False) -> None:
        """Show ``message`` under field ``name`` (None clears it)."""
        if name == "category":
            label = self.query_one("#category-error", Static)
            show_mark(self.query_one(CategoryPicker), label, message, warning=warning)
        elif name in FORM_FIELDS:
            self.form.mark(name, message, warning=warning)

    # --- Typing --------------------------------------------------------------------------

    @on(CategoryPicker.Picked)
    def _picked(self, event: CategoryPicker.Picked) -> None:
        self._mark_field("category", None)
        self.aids.show_questions(event.category)
        self._look_for_duplicates()

    @on(CategoryPicker.Missed)
    def _missed(self, event: CategoryPicker.Missed) -> None:
        self._mark_field(
            "category",
            translate("entry_category_missed", self.lang, key=event.character),
            warning=True,
        )

    @on(Input.Changed, "#phone")
    def _phone_changed(self, event: Input.Changed) -> None:
        self._mark_field("phone", None)
        self.aids.look_up_caller(event.value)
        self._look_for_duplicates()

    @on(Input.Changed, "#address")
    def _address_changed(self) -> None:
        self._mark_field("address", None)

    @on(Input.Changed, "#caller_name")
    def _name_changed(self) -> None:
        self._mark_field("caller_name", None)

    @on(Input.Changed, "#kelurahan")
    def _kelurahan_changed(self) -> None:
        self._mark_field("kelurahan", None)
        self._look_for_duplicates()

    @on(BoundedTextArea.Changed)
    def _description_changed(self) -> None:
        if not self.form.is_warned("description"):
            self._mark_field("description", None)

    def _look_for_duplicates(self) -> None:
        """Ask for the open reports this call may be about, with what is typed now."""
        form = self.form
        self.aids.look_for_duplicates(
            self.query_one(CategoryPicker).selected, form.value("kelurahan"), form.value("phone")
        )

    @on(CallAids.PossibleChanged)
    def _possible_changed(self) -> None:
        self.refresh_bindings()  # Ctrl+G is offered while there is one to join

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "attach":
            return True if self.possible else None  # shown dimmed until there is one
        return True

    def action_attach(self) -> None:
        """Join this call to one of the open reports listed beside the form."""
        if self._busy or not self.possible:
            return
        self._busy = True
        self._after_typing(lambda: self._offer_duplicates(self.draft, self.possible))

    # --- Saving --------------------------------------------------------------------------

    def action_save(self) -> None:
        if not self._busy:
            self._busy = True
            self._after_typing(lambda: self._check_form(self.draft))

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
        """Join the call to the report, with what this caller said."""
        try:
            self.console.reports.attach_call(
                report_id,
                phone=draft.phone or None,
                caller_name=draft.caller_name,
                address=draft.address,
                description=draft.description,
                answered_at=draft.answered_at or draft.opened_at,
                phone_call_id=draft.phone_call_id,
                callback_id=draft.callback_id,
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
        refusal = explain_refusal(error, self.lang)
        for name, reason in refusal.fields.items():
            self._mark_field(name, reason)
        if refusal.first_field is not None:
            self._form_field(refusal.first_field).focus()
        if refusal.fix_fields is not None:
            self.notify(refusal.fix_fields, severity="error", markup=False)
        for reason in refusal.not_saved:
            self.notify(reason, severity="error", markup=False, timeout=10)

    @on(Worker.StateChanged)
    def _save_failed(self, event: Worker.StateChanged) -> None:
        """A failure no service foresaw (the console says so); the form is untouched."""
        if event.state == WorkerState.ERROR and event.worker.group == "entry-save":
            self._busy = False

    # --- Other keys ------------------------------------------------------------------------

    def action_log_call(self, disposition: str) -> None:
        if not self._busy:
            self._busy = True
            self._after_typing(lambda: self._log_call(disposition, self.draft))

    @work(thread=True, exclusive=True, group="entry-save", exit_on_error=False)
    def _log_call(self, disposition: str, draft: EntryDraft) -> None:
        try:
            self.console.calls.log_call(
                disposition,
                phone=draft.phone or None,
                answered_at=draft.answered_at or draft.opened_at,
                phone_call_id=draft.phone_call_id,
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
