"""The console's one watch on the database: a thread that says when something moved.

Every ``WATCH_INTERVAL`` it reads a cheap mark (``QueueService.change_signal``: on
SQLite a counter that moves with every commit by anyone) and calls ``wake`` only when
the mark moved, when the database fails (once per outage, then it retries every
``WATCH_RETRY``) and when it reads again after failing. An idle console therefore
does nothing on its UI thread; the screens that follow changes look at what changed
only when woken. UI-free: the console passes a ``wake`` that posts a message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Final, Protocol

from siaga_tui.core.errors import SiagaError

#: Seconds between two reads of the mark.
WATCH_INTERVAL: Final = 1.0
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
        name: str = "siaga-live",
    ) -> None:
        self.signal = signal
        self.wake = wake
        self.interval = WATCH_INTERVAL if interval is None else interval
        self.retry = WATCH_RETRY if retry is None else retry
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """End the thread (it closes the signal's connection itself) and wait for it."""
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(STOP_WAIT_SECONDS)

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
        while not self._stopping.wait(delay):
            try:
                now = self.signal.read()
            except SiagaError as error:
                if not failing and not self._tell(error):
                    return
                failing, delay = True, self.retry
                continue
            if (failing or now != mark) and not self._tell(None):
                return
            mark, failing, delay = now, False, self.interval

    def _tell(self, error: SiagaError | None) -> bool:
        """Wake the listener; False (stop watching) once it is gone."""
        if self._stopping.is_set():
            return False
        try:
            return self.wake(error)
        except RuntimeError:  # the console's event loop is closed
            return False


_UNREAD: Final = object()
