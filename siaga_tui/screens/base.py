"""What every console screen shares: the app's services and language, the header, keys.

A screen lists its keys as data (``KEYS``); they go to the footer in the operator's
language and the help screen reads the same list. A worker that fails on a screen
ends in one calm notice from the app, never a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar

from textual import on, work
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from siaga_tui.core.errors import SiagaError
from siaga_tui.core.i18n import translate
from siaga_tui.screens.localised import Key, localise_bindings
from siaga_tui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from siaga_tui.app import SiagaApp

ResultType = TypeVar("ResultType")

#: Seconds between two looks at the change feed (re-armed after each look).
WATCH_INTERVAL: Final = 1.0
#: After a failed look, wait longer before the next one.
WATCH_RETRY: Final = 5.0


class ConsoleScreen(Screen[ResultType], Generic[ResultType]):
    """A full screen of the console with the status header and localised keys."""

    KEYS: ClassVar[tuple[Key, ...]] = ()
    #: Message key of the screen's name in the header.
    TITLE_KEY: ClassVar[str] = ""

    @property
    def console(self) -> SiagaApp:
        return self.app  # type: ignore[return-value]

    @property
    def lang(self) -> str:
        return self.console.lang

    def status_header(self) -> StatusHeader:
        app = self.console
        return StatusHeader(operator=app.operator, database=app.db.describe(), clock=app.clock, lang=app.lang)

    def on_mount(self) -> None:
        from siaga_tui.app import GLOBAL_KEYS

        # The F-keys first, so the footer shows them even on a narrow terminal.
        localise_bindings(self, (*GLOBAL_KEYS, *self.KEYS), self.lang)

    def show_title(self, title: str) -> None:
        """The screen's title with its live counts, in the header."""
        self.query_one(StatusHeader).title = title

    # --- Live: following other workstations' changes ---------------------------------

    def look_for_changes(self) -> Any:
        """In a worker thread: what changed since the screen last looked (override)."""
        raise NotImplementedError

    def changes_seen(self, found: Any) -> None:
        """On the UI thread: show what ``look_for_changes`` found (override)."""

    def watch_changes(self, delay: float = WATCH_INTERVAL) -> None:
        """Look again after ``delay``; each look arms the next, so looks never pile up."""
        if self.is_attached:
            self.set_timer(delay, self._watch)

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self) -> None:
        try:
            found = self.look_for_changes()
        except SiagaError as error:
            self.app.call_from_thread(self._watch_failed, error)
            return
        self.app.call_from_thread(self._watched, found)

    def _watched(self, found: Any) -> None:
        if getattr(self, "_not_live", False):
            self._not_live = False
            self.notify(translate("console_live_again", self.lang), markup=False)
        self.changes_seen(found)
        self.watch_changes()

    def _watch_failed(self, error: SiagaError) -> None:
        """Say once that the screen is not live; keep trying, a little slower."""
        if not getattr(self, "_not_live", False):
            self._not_live = True
            self.notify(
                translate("console_not_live", self.lang, reason=error.message(self.lang)),
                severity="error",
                markup=False,
                timeout=10,
            )
        self.watch_changes(WATCH_RETRY)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.console.show_error(event.worker.error)
