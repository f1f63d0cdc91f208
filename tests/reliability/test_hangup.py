"""The terminal closes in the middle of a call: the form is kept and offered again.

``siaga112 tui`` runs in a real terminal (tmux); the operator opens the entry form and
types; the tmux session is killed, which hangs up the terminal (SIGHUP) before the
periodic save could run. The next start shows the form as it was typed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from siaga_tui.app import make_app
from siaga_tui.core.db import Database
from siaga_tui.drafts import DraftStore
from siaga_tui.screens.entry import EntryScreen
from siaga_tui.screens.entry_draft import EntryDraft
from tests.conftest import FROZEN_NOW, MutableClock
from tests.reliability.test_console import settle

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


#: A tmux server of the test's own, started with the test's (hermetic) environment.
SOCKET = f"siaga-test-{os.getpid()}"


def tmux(*args: str, check: bool = False) -> str:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=check
    ).stdout


def wait_for(session: str, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared:\n{screen}")


def test_sighup_in_the_middle_of_the_form_keeps_the_draft_for_the_next_start(
    db: Database, db_path: Path, figures: dict[str, Any]
) -> None:
    session = f"siaga-hangup-{os.getpid()}"
    state = os.environ["XDG_STATE_HOME"]
    command = f"env XDG_STATE_HOME={state} {sys.executable} -m siaga_tui --db {db_path} --operator rel --lang id tui"
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command, check=True)
    try:
        wait_for(session, "Antrian")
        tmux("send-keys", "-t", session, "F2")
        wait_for(session, "Laporan Baru")
        tmux("send-keys", "-t", session, "3")  # Kebakaran: focus moves to the phone
        tmux("send-keys", "-t", session, "-l", "0812 3456 7890")
        wait_for(session, "0812 3456 7890")
        pane_pid = int(tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip())
        tmux("kill-session", "-t", session)  # the terminal goes away: SIGHUP
        deadline = time.monotonic() + 30  # generous: CI machines are busy
        while time.monotonic() < deadline and _alive(pane_pid):
            time.sleep(0.05)
        ended = not _alive(pane_pid)
        if not ended:
            os.kill(pane_pid, signal.SIGKILL)
    finally:
        tmux("kill-server")

    stored = DraftStore.for_entry(db.describe(), "rel").load()
    assert stored is not None, "no draft was kept"
    draft = EntryDraft.from_dict(stored)
    assert (draft.category, draft.phone) == ("kebakaran", "0812 3456 7890")
    assert ended, "the console did not end on hang-up"
    figures.update(draft_kept=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_kept_draft_is_offered_at_the_next_start_and_forgotten_once_saved(
    db: Database,
) -> None:
    clock = MutableClock(FROZEN_NOW)
    store = DraftStore.for_entry(db.describe(), "rel")
    typed = EntryDraft(
        opened_at=FROZEN_NOW,
        category="kebakaran",
        phone="0812 3456 7890",
        kelurahan="Bahu",
        address="Jl. Babe Palar [/]",
        description="Api besar\ndi dapur",
    )
    store.save(typed.to_dict())
    app = make_app(db, operator="rel", lang="id", clock=clock)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EntryScreen)
        assert screen.draft == typed
        assert any("dipulihkan" in n.message for n in app._notifications)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.draft.is_empty  # saved: the form is ready for the next call
        app.keep_draft()
    assert store.load() is None
