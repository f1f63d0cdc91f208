"""The console under random keys, failing storage and load.

- Hundreds (thousands with SIAGA_RELIABILITY_HEAVY=1) of seeded-random keys (every bound key, printable characters, Esc,
  Enter, Tab, F-keys) leave the console running, with no unhandled error, and the
  database consistent (every report equals the replay of its events).
- A save that fails because the database became read-only or the disk is full says so
  on screen and keeps the form exactly as typed; the next save, once storage is back,
  files it.
- Four processes file while the console polls: the queue ends showing every report,
  and key presses keep being answered (their longest round trip is reported).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from siaga_tui.core.db import Database
from siaga_tui.core.models import EVENT, REPORT
from siaga_tui.screens.entry import EntryScreen
from siaga_tui.screens.entry_draft import EntryDraft
from siaga_tui.screens.queue import QueueScreen
from siaga_tui.services.events import replay
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import FROZEN_NOW, MutableClock
from tests.reliability.test_console import assert_screen_safe, console, settle
from tests.reliability.test_load import PER_WORKSTATION, WORKSTATIONS, Workstations

#: Keys pressed at random; SIAGA_RELIABILITY_HEAVY=1 presses 4,800 (CI: 400).
RANDOM_KEYS = 400 * (12 if os.environ.get("SIAGA_RELIABILITY_HEAVY") else 1)
SPECIAL_KEYS = [
    "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "escape", "enter", "tab",
    "shift+tab", "up", "down", "left", "right", "pageup", "pagedown", "home", "end", "backspace",
    "delete", "space", "ctrl+s", "ctrl+p", "slash", "left_square_bracket", "right_square_bracket",
]  # fmt: skip
PRINTABLE = list("abcdefghijklmnopqrstuvwxyz0123456789 .,-/@=+")


def assert_consistent(db: Database) -> int:
    """Every report equals the replay of its events; returns how many there are."""
    with db.read() as conn:
        rows = conn.execute(sa.select(REPORT)).mappings().all()
        for row in rows:
            events = conn.execute(
                sa.select(EVENT.c.kind, EVENT.c.at, EVENT.c.details)
                .where(EVENT.c.report_id == row["id"])
                .order_by(EVENT.c.id)
            ).all()
            state = replay([tuple(e) for e in events])
            assert (state.status, state.version, state.duplicate_of, state.closed_at) == (
                row["status"],
                row["version"],
                row["duplicate_of"],
                row["closed_at"],
            )
    return len(rows)


async def test_random_keys_leave_the_console_running_and_the_data_consistent(
    db: Database, figures: dict[str, Any]
) -> None:
    clock = MutableClock(FROZEN_NOW)
    desk = ReportService(db, operator="rel", clock=clock)
    for n, place in enumerate(("Bahu", "Paal IV", "Kleak")):
        saved = desk.create_report(
            NewReport(category="kebakaran", kelurahan=place, description=f"api [/] {n}")
        )
        if n:
            desk.forward(saved.id, "damkar")
    rng = random.Random(112)
    keys = [
        rng.choice(SPECIAL_KEYS) if rng.random() < 0.45 else rng.choice(PRINTABLE)
        for _ in range(RANDOM_KEYS)
    ]
    app = console(db, clock)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        for start in range(0, len(keys), 40):
            await pilot.press(*keys[start : start + 40])
            clock.advance(seconds=7)
            assert app.is_running, f"stopped after key {start + 40}: {keys[start : start + 40]}"
        await settle(pilot)
        assert_screen_safe(app)
    assert app.return_code in (None, 0)
    reports = assert_consistent(db)
    figures.update(keys=len(keys), reports_after=reports)


async def _failed_save_keeps_the_form(
    db: Database, break_storage: Callable[[], None], expected: str
) -> None:
    clock = MutableClock(FROZEN_NOW)
    app = console(db, clock)
    typed = EntryDraft(
        opened_at=FROZEN_NOW,
        category="kebakaran",
        phone="0812 3456 7890",
        kelurahan="Bahu",
        # Long enough to need new pages in the file (the full disk refuses them).
        address="Jl. Babe Palar",
        description="Api besar [/] di dapur\n" + "Dua orang terjebak. " * 300,
    )
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EntryScreen)
        screen.load_draft(typed)
        break_storage()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.is_running and app.screen is screen
        assert screen.draft == typed  # nothing typed is lost
        messages = [n.message for n in app._notifications]
        assert any(expected in m for m in messages), messages
        assert_screen_safe(app)
        with db.read() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar_one() == 0
        db.engine.dispose()
        event.remove(db.engine, "connect", _LISTENERS.pop())
        await pilot.press("ctrl+s")  # storage is back: the same form is filed
        await settle(pilot)
        with db.read() as conn:
            assert conn.execute(sa.select(REPORT.c.description)).scalars().all() == [
                typed.description.rstrip()
            ]


_LISTENERS: list[Any] = []


def _listen(db: Database, on_connect: Callable[[Any, Any], None]) -> None:
    db.engine.dispose()
    event.listen(db.engine, "connect", on_connect)
    _LISTENERS.append(on_connect)


async def test_a_save_on_a_read_only_database_keeps_the_form_as_typed(db: Database) -> None:
    from siaga_tui.core.i18n import translate

    def read_only() -> None:
        _listen(db, lambda dbapi, _record: dbapi.execute("PRAGMA query_only = 1"))

    await _failed_save_keeps_the_form(
        db, read_only, translate("db_read_only_now", "id").split("(")[0].strip()
    )


async def test_a_save_on_a_full_disk_keeps_the_form_as_typed(db: Database) -> None:
    from siaga_tui.core.i18n import translate

    def full(dbapi: Any, _record: Any) -> None:
        # No free page left inside the file either (a migration that rebuilt a table
        # leaves some), and the file cannot grow.
        if dbapi.execute("PRAGMA freelist_count").fetchone()[0]:
            dbapi.execute("VACUUM")
        pages = dbapi.execute("PRAGMA page_count").fetchone()[0]
        dbapi.execute(f"PRAGMA max_page_count = {pages}")

    await _failed_save_keeps_the_form(
        db, lambda: _listen(db, full), translate("db_full", "id").split(";")[0]
    )


async def test_console_keeps_answering_while_four_processes_file(
    db: Database, db_path: Path, tmp_path: Path, figures: dict[str, Any]
) -> None:
    app = console(db, MutableClock(FROZEN_NOW))
    workstations = Workstations(db_path, tmp_path)
    round_trips: list[float] = []
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        workstations.start()
        while workstations.is_alive():
            began = time.perf_counter()
            await pilot.press("down")
            round_trips.append(time.perf_counter() - began)
            await pilot.pause(0.05)
        if workstations.error is not None:
            raise workstations.error
        deadline = time.monotonic() + 30
        filed = len(workstations.numbers)
        while queue.total != filed and time.monotonic() < deadline:
            await pilot.pause(0.2)  # the queue's poll picks the last ones up
        shown = queue.total
        assert app.is_running
    with db.read() as conn:
        found = conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar_one()
    figures.update(
        workstations=WORKSTATIONS,
        written=filed,
        found=found,
        shown=shown,
        lost=filed - found,
        key_presses=len(round_trips),
        max_key_round_trip_ms=round(max(round_trips) * 1000, 1),
    )
    assert filed == WORKSTATIONS * PER_WORKSTATION == found == shown
