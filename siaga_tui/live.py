"""The console's one watch on the database: a thread that says when something moved.

It reads a cheap mark (``QueueService.change_signal``: on SQLite a counter that moves
with every commit by anyone) and calls ``wake`` only when the mark moved, when the
database fails (once per outage, then it retries every ``WATCH_RETRY``) and when it
reads again after failing. An idle console therefore does nothing on its UI thread; the
screens that follow changes look at what changed only when woken.

When it is given the database's files (SQLite) it does not look on a fixed rhythm:
the operating system tells it when one of them is written (``FileNudges``: inotify on
Linux, through watchdog), and it looks then, and again on ``interval``'s rhythm for
``FOLLOW_SECONDS`` (a commit becomes visible a moment after its last write), and
otherwise only every ``WATCHED_INTERVAL``. An idle console then wakes once in that
while instead of five times a second. Where files cannot be watched it looks every
``interval``. UI-free: the console passes a ``wake`` that posts a message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

from siaga_tui.core.errors import SiagaError

#: Seconds between two reads of the mark.
WATCH_INTERVAL: Final = 1.0
#: With the files watched: how long after a write the watch keeps its rhythm…
FOLLOW_SECONDS: Final = 1.0
#: …and how long it waits without any write (a safety net: nothing is expected then).
WATCHED_INTERVAL: Final = 5.0
#: After a failed read, wait longer before the next one.
WATCH_RETRY: Final = 5.0
#: How long ``stop`` waits for the thread to end (a read may wait on a busy file).
STOP_WAIT_SECONDS: Final = 3.0


class Signal(Protocol):
    def read(self) -> Hashable: ...

    def close(self) -> None: ...


#: Called on the watch's thread with None (the database moved, or reads again) or the
#: error that stopped the reads; returns False when nobody listens any more.
Wake = Callable[[SiagaError | None], bool]


class LiveWatch:
    """One daemon thread reading ``signal`` and calling ``wake`` when it matters."""

    def __init__(
        self,
        signal: Signal,
        wake: Wake,
        *,
        interval: float | None = None,
        retry: float | None = None,
        files: Sequence[Path] = (),
        name: str = "siaga-live",
    ) -> None:
        self.signal = signal
        self.wake = wake
        self.interval = WATCH_INTERVAL if interval is None else interval
        self.retry = WATCH_RETRY if retry is None else retry
        self._stopping = threading.Event()
        self._nudged = threading.Event()
        self._written_at = 0.0  # time.monotonic() of the last write seen, 0: none
        self._files = FileNudges(files, self.nudge) if files else None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def watching_files(self) -> bool:
        """True while the operating system tells the watch of every write."""
        return self._files is not None and self._files.watching

    def start(self) -> None:
        if self._files is not None:
            self._files.start()
        self._thread.start()

    def stop(self) -> None:
        """End the thread (it closes the signal's connection itself) and wait for it."""
        self._stopping.set()
        self._nudged.set()
        if self._files is not None:
            self._files.stop()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(STOP_WAIT_SECONDS)

    def nudge(self) -> None:
        """Something was written: look now (any thread)."""
        self._written_at = time.monotonic()
        self._nudged.set()

    def _run(self) -> None:
        try:
            self._watch()
        finally:
            self.signal.close()

    def _watch(self) -> None:
        # The first read always wakes: whatever was committed between a screen's first
        # load and this read is then looked at, not taken as the starting point.
        mark: Hashable = _UNREAD
        failing = False
        delay = 0.0
        while not self._sleep(delay):
            try:
                now = self.signal.read()
            except SiagaError as error:
                if not failing and not self._tell(error):
                    return
                failing, delay = True, self.retry
                continue
            if (failing or now != mark) and not self._tell(None):
                return
            mark, failing, delay = now, False, self._next_look()

    def _sleep(self, delay: float) -> bool:
        """Wait ``delay`` seconds or until nudged; True when the watch is to end."""
        if delay > 0:
            self._nudged.wait(delay)
        # A write after this clear is seen by the read that follows or nudges again.
        self._nudged.clear()
        return self._stopping.is_set()

    def _next_look(self) -> float:
        if not self.watching_files:
            return self.interval
        if time.monotonic() - self._written_at < FOLLOW_SECONDS:
            return self.interval
        return WATCHED_INTERVAL

    def _tell(self, error: SiagaError | None) -> bool:
        """Wake the listener; False (stop watching) once it is gone."""
        if self._stopping.is_set():
            return False
        try:
            return self.wake(error)
        except RuntimeError:  # the console's event loop is closed
            return False


class FileNudges:
    """Calls ``nudge`` whenever one of ``files`` is written, created, deleted or moved.

    It watches their folders (a database's ``-wal`` file comes and goes) through
    watchdog's native observer. ``watching`` is False when that cannot be had (no
    inotify, its watch limit reached): the watch then keeps its rhythm.
    """

    def __init__(self, files: Sequence[Path], nudge: Callable[[], None]) -> None:
        self.files = frozenset(str(path.absolute()) for path in files)
        self.nudge = nudge
        self._observer: Any = None

    @property
    def watching(self) -> bool:
        return self._observer is not None and self._observer.is_alive()

    def start(self) -> None:
        try:
            self._observe()
        except (ImportError, OSError):  # no watchdog or no inotify here, or its limits
            self._observer = None  # reached: the watch keeps its rhythm instead

    def _observe(self) -> None:
        from watchdog.events import (
            FileCreatedEvent,
            FileDeletedEvent,
            FileModifiedEvent,
            FileMovedEvent,
            FileSystemEvent,
            FileSystemEventHandler,
        )
        from watchdog.observers import Observer

        files, nudge = self.files, self.nudge

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if _text(event.src_path) in files or _text(event.dest_path) in files:
                    nudge()

        kinds = [FileModifiedEvent, FileCreatedEvent, FileDeletedEvent, FileMovedEvent]
        # The observer's own thread wakes once in this while when nothing happens.
        observer = Observer(timeout=WATCHED_INTERVAL)
        for folder in sorted({str(Path(path).parent) for path in files}):
            observer.schedule(Handler(), folder, event_filter=kinds)
        observer.daemon = True
        observer.start()
        self._observer = observer

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(STOP_WAIT_SECONDS)


def _text(path: str | bytes) -> str:
    return path.decode(errors="replace") if isinstance(path, bytes) else path


_UNREAD: Final = object()
