"""Panggil balik (F10): abandoned and silent calls to call back, newest first.

Each row: when, why (abandoned before the answer, or silent), the number in national
format (or the caller id as given), what the center knows of the number, and the
call-backs tried so far. ``c`` calls the selected caller back through this position's
softphone (the outcome is recorded when the phone knows it); ``m`` records a call-back
made by hand. A call-back that reaches the caller opens the entry form for the report
it leads to. The list follows the database live.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from siaga_tui.core.errors import SiagaError
from siaga_tui.core.i18n import translate
from siaga_tui.core.timeutil import format_local
from siaga_tui.screens.base import ConsoleScreen
from siaga_tui.screens.localised import Key
from siaga_tui.services.telephony import CallbackItem, TelephonyService
from siaga_tui.widgets.callback_outcome import CallbackOutcome
from siaga_tui.widgets.key_footer import KeyFooter

KEYS = (
    Key("c", "call_back", "callback_key_call"),
    Key("m", "record_manual", "callback_key_manual"),
    Key("escape", "close", "callback_key_close"),
)


class CallbacksScreen(ConsoleScreen[None]):
    """The call-back list, read in a worker, refreshed when the database moves."""

    TITLE_KEY = "callback_title"
    KEYS = KEYS

    def __init__(self) -> None:
        super().__init__()
        self._items: list[CallbackItem] = []

    def compose(self) -> ComposeResult:
        yield self.status_header()
        yield Static(id="callback-empty", markup=False)
        yield DataTable(id="callback-list", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.lang
        table = self.query_one("#callback-list", DataTable)
        for key in ("at", "kind", "number", "history", "tries"):
            table.add_column(Text(translate(f"callback_col_{key}", t)), key=key)
        self.query_one("#callback-empty", Static).display = False
        self.show_title(translate("callback_title", t))
        self.run_worker(self._read_first, thread=True, group="callbacks", exit_on_error=False)

    @property
    def telephony(self) -> TelephonyService:
        app = self.console
        return TelephonyService(app.db, operator=app.operator, clock=app.clock)

    def _read_first(self) -> None:
        try:
            items = self.telephony.callback_list()
        except SiagaError as error:
            self.app.call_from_thread(self.console.show_error, error)
            return
        self.app.call_from_thread(self._show, items)
        self.app.call_from_thread(self.watch_changes)

    def look_for_changes(self) -> Any:
        return self.telephony.callback_list()

    def changes_seen(self, found: Any) -> None:
        self._show(found)

    def _show(self, items: list[CallbackItem]) -> None:
        t = self.lang
        self._items = items
        table = self.query_one("#callback-list", DataTable)
        selected = self._selected()
        table.clear()
        for item in items:
            history = translate(
                "callback_history",
                t,
                calls=item.earlier_calls,
                reports=item.reports,
                pranks=item.pranks,
            )
            tries = (
                translate(
                    "callback_tries",
                    t,
                    count=item.attempts,
                    last=translate(f"callback_outcome_{item.last_outcome}", t),
                )
                if item.attempts and item.last_outcome
                else "–"
            )
            table.add_row(
                Text(format_local(item.at, "%d/%m %H:%M")),
                Text(translate(f"callback_kind_{item.kind}", t)),
                Text(item.number_shown or translate("phone_withheld", t)),
                Text(history),
                Text(tries),
                key=item.key,
            )
        if selected is not None:
            for index, item in enumerate(items):
                if item.key == selected.key:
                    table.move_cursor(row=index)
        empty = self.query_one("#callback-empty", Static)
        empty.display = not items
        empty.update(translate("callback_empty", t))
        self.show_title(f"{translate('callback_title', t)} · {len(items)}")

    def _selected(self) -> CallbackItem | None:
        table = self.query_one("#callback-list", DataTable)
        if not self._items or table.cursor_row < 0 or table.cursor_row >= len(self._items):
            return None
        return self._items[table.cursor_row]

    # --- Keys --------------------------------------------------------------------------

    def action_call_back(self) -> None:
        item = self._selected()
        if item is not None:
            self.console.phone_desk.call_back(item)

    def action_record_manual(self) -> None:
        item = self._selected()
        if item is None:
            return

        def chosen(outcome: str | None) -> None:
            if outcome is not None:
                self._record(item, outcome)

        self.app.push_screen(CallbackOutcome(item.number_shown, self.lang), callback=chosen)

    def _record(self, item: CallbackItem, outcome: str) -> None:
        def work() -> None:
            try:
                callback_id = self.telephony.record_callback(item.key, outcome)
            except SiagaError as error:
                self.app.call_from_thread(self.console.show_error, error)
                return
            self.app.call_from_thread(self._recorded, item, outcome, callback_id)

        self.run_worker(work, thread=True, group="callbacks", exit_on_error=False)

    def _recorded(self, item: CallbackItem, outcome: str, callback_id: int) -> None:
        label = translate(f"callback_outcome_{outcome}", self.lang)
        self.notify(translate("callback_recorded", self.lang, outcome=label), markup=False)
        if outcome == "reached":
            self.app.call_later(self.console.take_callback, item, callback_id)
        else:
            self.database_moved()

    def action_close(self) -> None:
        self.dismiss()
