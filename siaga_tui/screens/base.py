"""What every console screen shares: the app's services and language, the header, keys.

A screen lists its keys as data (``KEYS``); they go to the footer in the operator's
language and the help screen reads the same list. A worker that fails on a screen
ends in one calm notice from the app, never a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from textual import on, work
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from siaga_tui.core.errors import SiagaError
from siaga_tui.live import WATCH_RETRY
from siaga_tui.screens.localised import GLOBAL_KEYS, Key, localise_bindings, phone_keys
from siaga_tui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from siaga_tui.app import SiagaApp

ResultType = TypeVar("ResultType")


class ConsoleScreen(Screen[ResultType], Generic[ResultType]):
    """A full screen of the console with the status header and localised keys."""

    KEYS: ClassVar[tuple[Key, ...]] = ()
    #: Message key of the screen's name in the header.
    TITLE_KEY: ClassVar[str] = ""
    #: The screen shows its own keys on a line of its own (``key_hints``): the footer
    #: then shows the keys that work everywhere, not the same keys twice.
    KEY_LINE: ClassVar[bool] = False

    @property
    def console(self) -> SiagaApp:
        return self.app  # type: ignore[return-value]

    @property
    def lang(self) -> str:
        return self.console.lang

    def status_header(self) -> StatusHeader:
        app = self.console
        return StatusHeader(
            operator=app.operator, database=app.db.describe(), clock=app.clock, lang=app.lang
        )

    _keys_bound: bool = False

    def on_mount(self) -> None:
        self.bind_keys()
        self.console.phone_desk.show_on(self)

    def bind_keys(self) -> None:
        """Give the screen its keys in the operator's language (once). The footer asks
        for them as it is composed, before the screen mounts, so that it is composed
        once, with them, not again after the first refresh (B1)."""
        if self._keys_bound:
            return
        self._keys_bound = True
        # The F-keys first, so the footer shows them even on a narrow terminal.
        phone = phone_keys(self.console.phone_desk.address is not None)
        localise_bindings(self, (*GLOBAL_KEYS, *phone, *self.KEYS), self.lang)

    def footer_bindings(self) -> list[Binding]:
        """The keys the footer will show: the F-keys, then the screen's own."""
        own = () if self.KEY_LINE else self.KEYS
        return [key.binding(self.lang) for key in (*GLOBAL_KEYS, *own) if key.show]

    def show_title(self, title: str) -> None:
        """The screen's title with its live counts, in the header."""
        self.query_one(StatusHeader).title = title

    # --- Live: following other workstations' changes ---------------------------------
    #
    # The app's one live watch (``siaga_tui.live``) wakes the screens that follow changes
    # when the database moved; each then looks, in a worker, at what changed for it. A
    # wake during a look (or before the first load is shown) is kept for one more look
    # after it, so looks never pile up and none is missed.

    _following: bool = False
    _looking: bool = False
    _look_again: bool = False

    @property
    def following_changes(self) -> bool:
        return self._following

    def look_for_changes(self) -> Any:
        """In a worker thread: what changed since the screen last looked (override)."""
        raise NotImplementedError

    def changes_seen(self, found: Any) -> None:
        """On the UI thread: show what ``look_for_changes`` found (override)."""

    def look_failed(self, error: SiagaError) -> None:
        """On the UI thread: a look failed and will be tried again (override to say so
        on the screen; the app has already said once that the screens are not live)."""

    def watch_changes(self) -> None:
        """Follow changes from now on (call once the screen shows its first load)."""
        self._following = True
        self.console.follow_changes()
        if self._look_again:
            self.database_moved()

    def database_moved(self) -> None:
        """The live watch saw the database move: look now, or right after the look running."""
        if not self._following or self._looking:
            self._look_again = True
            return
        self._look_again = False
        self._looking = True
        self._watch()

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self) -> None:
        try:
            found = self.look_for_changes()
        except SiagaError as error:
            self.app.call_from_thread(self._watch_failed, error)
            return
        self.app.call_from_thread(self._watched, found)

    def _watched(self, found: Any) -> None:
        self._looking = False
        if not self.is_attached:
            return
        self.console.live_again()
        self.changes_seen(found)
        if self._look_again:
            self.database_moved()

    def _watch_failed(self, error: SiagaError) -> None:
        """Say once that the screens are not live; look again a little later."""
        self._looking = False
        if self.is_attached:
            self.console.live_failed(error)
            self.look_failed(error)
            self.set_timer(WATCH_RETRY, self.database_moved)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            if event.worker.group == "watch":  # an unexpected failure must not stop the looks
                self._looking = False
            self.console.show_error(event.worker.error)
