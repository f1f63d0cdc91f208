"""The live watch (one thread reading a change mark) and the change signal it reads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Hashable, Iterable
from pathlib import Path

import pytest

from siaga_tui.core.db import Database
from siaga_tui.core.errors import SiagaError, StorageError
from siaga_tui.live import LiveWatch
from siaga_tui.services.calls import CallService
from siaga_tui.services.queue import ChangeSignal, QueueService
from siaga_tui.services.reports import NewReport, ReportService

#: Generous: only a broken watch ever waits this long.
BOUND = 10.0
LOCKED = StorageError("db_locked")


class ScriptedSignal:
    """Reads the scripted marks (an exception is raised), then the last mark for ever."""

    def __init__(self, script: Iterable[Hashable | SiagaError]) -> None:
        self.script = list(script)
        self.done = threading.Event()
        self.closed = False
        self.last: Hashable = None

    def read(self) -> Hashable:
        if not self.script:
            self.done.set()
            return self.last
        step = self.script.pop(0)
        if isinstance(step, SiagaError):
            raise step
        self.last = step
        return step

    def close(self) -> None:
        self.closed = True


def watch(
    script: Iterable[Hashable | SiagaError],
) -> tuple[list[SiagaError | None], ScriptedSignal]:
    """Run a watch over ``script`` until it is used up; what it woke the listener with."""
    signal = ScriptedSignal(script)
    woken: list[SiagaError | None] = []

    def wake(error: SiagaError | None) -> bool:
        woken.append(error)
        return True

    live = LiveWatch(signal, wake, interval=0.001, retry=0.001)
    live.start()
    assert signal.done.wait(BOUND)
    live.stop()
    assert not live.running and signal.closed
    return woken, signal


def test_the_first_read_wakes_then_only_a_moved_mark() -> None:
    woken, _ = watch([1, 1, 1, 2, 2, 3, 3, 3])
    assert woken == [None, None, None]


def test_a_failure_is_told_once_and_the_read_after_it_wakes() -> None:
    woken, _ = watch([1, LOCKED, LOCKED, LOCKED, 1, 1])
    assert woken == [None, LOCKED, None]


def test_the_watch_ends_when_nobody_listens_any_more() -> None:
    signal = ScriptedSignal([1, 2])
    calls: list[SiagaError | None] = []

    def wake(error: SiagaError | None) -> bool:
        calls.append(error)
        return False  # the console is closing

    live = LiveWatch(signal, wake, interval=0.001)
    live.start()
    live._thread.join(BOUND)
    assert not live.running and signal.closed and calls == [None]


def test_the_watch_ends_when_the_event_loop_is_gone() -> None:
    signal = ScriptedSignal([1])

    def wake(error: SiagaError | None) -> bool:
        raise RuntimeError("Event loop is closed")

    live = LiveWatch(signal, wake, interval=0.001)
    live.start()
    live._thread.join(BOUND)
    assert not live.running and signal.closed


def test_stop_ends_a_waiting_watch_at_once() -> None:
    signal = ScriptedSignal([])
    live = LiveWatch(signal, lambda error: True, interval=3600)
    live.start()
    assert signal.done.wait(BOUND)  # it read once and now waits an hour
    live.stop()
    assert not live.running and signal.closed


# --- The change signal ---------------------------------------------------------------


def test_the_signal_moves_with_every_commit_and_only_then(any_db: Database) -> None:
    signal = QueueService(any_db).change_signal()
    try:
        first = signal.read()
        assert signal.read() == first
        ReportService(any_db, operator="Meja Dua").create_report(
            NewReport(category="kebakaran", kelurahan="Sario", description="api")
        )
        second = signal.read()
        assert second != first and signal.read() == second
        CallService(any_db, operator="Meja Dua").log_call("iseng")  # a call alone moves it too
        assert signal.read() != second
    finally:
        signal.close()


def test_the_sqlite_signal_sees_another_process(db: Database, db_path: Path) -> None:
    signal = ChangeSignal(db)
    try:
        before = signal.read()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "siaga_tui",
                "--db",
                str(db_path),
                "add",
                "-c",
                "kebakaran",
                "-k",
                "paal 4",
                "-d",
                "Gudang terbakar",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "SIAGA112_OPERATOR": "Proses Lain"},
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert signal.read() != before
    finally:
        signal.close()


def test_a_database_file_that_is_gone_is_a_storage_error_not_a_new_file(
    db: Database, db_path: Path
) -> None:
    signal = ChangeSignal(db)
    db.dispose()
    moved = db_path.with_name("elsewhere.db")
    db_path.rename(moved)
    try:
        with pytest.raises(StorageError):
            signal.read()
        assert not db_path.exists()
    finally:
        signal.close()
        moved.rename(db_path)
    assert isinstance(signal.read(), int)  # back: read again on a fresh connection
    signal.close()


# --- Told of writes instead of looking on a rhythm (SQLite) ---------------------------


class CountingSignal:
    """Counts its reads; the mark is whatever ``mark`` holds."""

    def __init__(self) -> None:
        self.reads = 0
        self.mark = 0
        self.read_again = threading.Event()

    def read(self) -> Hashable:
        self.reads += 1
        self.read_again.set()
        return self.mark

    def close(self) -> None:
        pass


def test_a_watch_told_of_writes_looks_when_the_file_is_written_and_rarely_otherwise(
    tmp_path: Path,
) -> None:
    watched = tmp_path / "siaga.db"
    watched.write_bytes(b"")
    signal = CountingSignal()
    woken = threading.Event()
    # An hour between looks when nothing is written: only a write can bring a look.
    live = LiveWatch(signal, lambda error: woken.set() or True, interval=3600, files=[watched])
    live.start()
    try:
        assert live.watching_files
        assert woken.wait(BOUND)  # the first read always wakes
        woken.clear()
        signal.read_again.clear()
        (tmp_path / "other.txt").write_text("x")  # another file of the folder: no look
        assert not signal.read_again.wait(0.5)
        signal.mark = 1
        watched.with_name("siaga.db-wal").write_bytes(b"frame")  # a commit writes the -wal
        assert woken.wait(BOUND)
    finally:
        live.stop()
    assert not live.running


def test_without_watchable_files_the_watch_keeps_its_rhythm(tmp_path: Path) -> None:
    gone = tmp_path / "no such folder" / "siaga.db"
    signal = CountingSignal()
    live = LiveWatch(signal, lambda error: True, interval=0.01, files=[gone])
    live.start()
    try:
        assert not live.watching_files
        for _ in range(3):  # it reads again and again without any write
            signal.read_again.clear()
            assert signal.read_again.wait(BOUND)
    finally:
        live.stop()


def test_the_console_watches_its_sqlite_files(db: Database, db_path: Path) -> None:
    assert db.files() == (
        db_path,
        db_path.with_name(db_path.name + "-wal"),
        db_path.with_name(db_path.name + "-journal"),
    )


def test_without_watchdog_the_watch_keeps_its_rhythm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A console whose watchdog cannot be imported still follows changes (it opened on
    an error and never counted its queue)."""
    monkeypatch.setitem(sys.modules, "watchdog.observers", None)  # import fails
    signal = CountingSignal()
    live = LiveWatch(signal, lambda error: True, interval=0.01, files=[tmp_path / "siaga.db"])
    live.start()
    try:
        assert not live.watching_files
        for _ in range(3):
            signal.read_again.clear()
            assert signal.read_again.wait(BOUND)
    finally:
        live.stop()
