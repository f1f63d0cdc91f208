"""The queue under a backlog: today's work first, the backlog apart, the header counting
every open report in the database, and the bell once per alarmed report (issue 13)."""

from __future__ import annotations

import gc
from datetime import timedelta

import pytest

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.db import Database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.screens.queue import QueueScreen
from siaga_tui.services.demo import build_demo
from siaga_tui.services.queue import (
    QueueFilter,
    QueueService,
    backlog_cutoff,
    backlog_line_moves_at,
)
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.widgets.status_header import StatusHeader
from tests.conftest import FROZEN_NOW, MutableClock
from tests.console.conftest import OPERATOR, settle

SIZE = (120, 40)


def queue(app: SiagaApp) -> QueueScreen:
    screen = app.screen
    assert isinstance(screen, QueueScreen)
    return screen


def title(app: SiagaApp) -> str:
    return app.screen.query_one(StatusHeader).title


def bar(app: SiagaApp) -> str:
    return str(app.screen.query_one("#queue-bar").render())


def file_backlog(db: Database, count: int) -> None:
    """``count`` open reports filed 10 to 40 days before the frozen clock (not archived)."""
    for n in range(count):
        at = FROZEN_NOW - timedelta(days=10 + n % 30, hours=n % 24)
        ReportService(db, operator="x", clock=fixed_clock(at)).create_report(
            NewReport(category="sampah", kelurahan="Sario", description=f"lama {n}")
        )


async def test_a_fresh_emergency_is_on_the_first_screen_whatever_the_backlog(db: Database) -> None:
    """The demo (2019 archived as history, and a live today) with a backlog of open
    reports from the last weeks. Today's work alone is shown first; the backlog is
    counted in the header and one key away, and 2019's open reports are in neither."""
    build_demo(db, clock=fixed_clock(FROZEN_NOW))
    file_backlog(db, 150)
    app = make_app(db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    cutoff = backlog_cutoff(FROZEN_NOW, 7)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = queue(pilot.app)
        table = screen.query_one("#queue-table")
        assert screen.rows and all(row.created_at >= cutoff for row in screen.rows)
        # Every report of today fits on the first screen, the fires among them.
        assert len(screen.rows) <= table.scrollable_content_region.height
        assert "kebakaran" in [row.category for row in screen.rows]
        backlog = QueueService(db).open_count(QueueFilter(cutoff=cutoff, backlog=True))
        assert backlog == 150  # 2019's 555 open reports are archived history
        assert f"tunggakan {backlog} (b)" in title(pilot.app)
        await pilot.press("b")
        await settle(pilot)
        assert screen.filters.backlog
        assert screen.rows and all(
            row.created_at < cutoff and row.created_at.year == 2026 for row in screen.rows
        )
        assert title(pilot.app).startswith("Tunggakan")
        assert bar(pilot.app).startswith(
            f"Tunggakan: 100 dari {backlog} laporan terbuka yang dicatat sebelum 21-11-2026"
        )
        await pilot.press("b")
        await settle(pilot)
        assert not screen.filters.backlog and all(row.created_at >= cutoff for row in screen.rows)
        # Escape from the backlog goes back to today's work too.
        await pilot.press("b", "escape")
        await settle(pilot)
        assert not screen.filters.backlog


async def test_the_backlog_age_is_configurable(db: Database) -> None:
    build_demo(db, clock=fixed_clock(FROZEN_NOW))
    file_backlog(db, 3)
    app = make_app(db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW), backlog_days=3000)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = queue(pilot.app)
        # Nothing is old enough to be set apart: the weeks-old reports are today's work.
        old = [row for row in screen.rows if row.created_at < backlog_cutoff(FROZEN_NOW, 7)]
        assert len(old) == 3 and all(row.created_at.year == 2026 for row in screen.rows)
        assert "tunggakan" not in title(pilot.app)


async def test_header_counts_every_open_report_whatever_is_loaded_or_filtered(
    seeded_db: Database,
) -> None:
    # 130 waiting fires 10 minutes old (alarmed): more than one window of rows.
    service = ReportService(
        seeded_db, operator="meja dua", clock=fixed_clock(FROZEN_NOW - timedelta(minutes=10))
    )
    for n in range(130):
        service.create_report(
            NewReport(category="kebakaran", kelurahan="Sario", description=f"api {n}")
        )
    app = make_app(seeded_db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = queue(pilot.app)
        assert len(screen.rows) == 100  # one window loaded
        expected = "Antrian · 132 alarm · 1 lewat target"
        assert title(pilot.app) == expected
        for key in ("n", "s", "s"):  # non-emergencies only; then waiting; then in handling (none)
            await pilot.press(key)
            await settle(pilot)
            assert title(pilot.app) == expected, key
        assert screen.rows == []


async def test_counts_follow_the_clock_and_the_bell_rings_once_per_alarmed_report(
    seeded_db: Database,
) -> None:
    clock = MutableClock(FROZEN_NOW)
    app = make_app(seeded_db, operator=OPERATOR, clock=clock)
    rings: list[int] = []
    app.bell = lambda: rings.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = queue(pilot.app)
        assert title(pilot.app) == "Antrian · 2 alarm · 1 lewat target"
        assert len(rings) == 1  # two alarmed reports on arrival: the operator hears it
        # The street light has waited exactly its 4-hour target: overdue a moment later.
        assert screen.late is not None and screen.late.next_change == FROZEN_NOW
        clock.now = FROZEN_NOW + timedelta(seconds=1)
        screen._count_due()
        await settle(pilot)
        assert title(pilot.app) == "Antrian · 2 alarm · 2 lewat target"
        assert len(rings) == 1  # overdue does not ring
        health = next(row for row in screen.rows if row.category == "kesehatan")
        target = app.catalogue.category(health.category).forward_target
        assert screen.late.next_change == health.created_at + 2 * target
        clock.now = health.created_at + 2 * target + timedelta(seconds=1)
        screen._count_due()
        await settle(pilot)
        assert title(pilot.app) == "Antrian · 3 alarm · 1 lewat target"
        assert len(rings) == 2
        assert "!!" in [str(c) for c in screen.query_one("#queue-table").get_column("mark")]
        screen._recount()  # counting again rings for no report twice
        await settle(pilot)
        assert len(rings) == 2


async def test_the_bell_can_be_turned_off(seeded_db: Database) -> None:
    app = make_app(seeded_db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW), bell=False)
    rings: list[int] = []
    app.bell = lambda: rings.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "2 alarm" in title(pilot.app)
        assert rings == []


async def test_a_change_to_an_old_report_counts_the_backlog_again(db: Database) -> None:
    old = ReportService(db, operator="x", clock=fixed_clock(FROZEN_NOW - timedelta(days=30)))
    first = old.create_report(NewReport(category="sampah", kelurahan="Sario", description="lama"))
    old.create_report(NewReport(category="sampah", kelurahan="Sario", description="lama juga"))
    app = make_app(db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "tunggakan 2 (b)" in title(pilot.app)
        now = ReportService(db, operator="meja dua", clock=fixed_clock(FROZEN_NOW))
        now.change_status(first.id, "selesai", note="sudah diangkut")
        queue(pilot.app).database_moved()
        await settle(pilot)
        assert "tunggakan 1 (b)" in title(pilot.app)


def test_the_backlog_line_next_moves_at_the_coming_local_midnight() -> None:
    # 02:00 UTC is 10:00 in Manado (WITA, UTC+8): the line moves at 16:00 UTC.
    moves = backlog_line_moves_at(FROZEN_NOW)
    assert moves == FROZEN_NOW + timedelta(hours=14)
    for days in (0, 1, 7, 3000):
        assert backlog_cutoff(moves, days) != backlog_cutoff(FROZEN_NOW, days)
        assert backlog_cutoff(moves - timedelta(microseconds=1), days) == backlog_cutoff(
            FROZEN_NOW, days
        )


async def test_an_idle_queue_does_not_count_again_until_something_is_due(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the default week of today's work, the counts' timer waits for midnight (or
    the next level change), not a quarter of a second again and again: that loop cost
    an idle console 0.5 % of a core (benchmark B6)."""
    build_demo(db, clock=fixed_clock(FROZEN_NOW))
    woken: list[object] = []
    real_count_due = QueueScreen._count_due

    def count_due(screen: QueueScreen) -> None:
        woken.append(screen)
        real_count_due(screen)

    monkeypatch.setattr(QueueScreen, "_count_due", count_due)
    app = make_app(db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert queue(pilot.app).late is not None
        await pilot.pause(1.2)
        assert woken == []


async def test_a_shift_console_freezes_what_its_start_up_built_once_it_is_over(
    console_app: SiagaApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `siaga112 tui` asks for it: the collector's full passes then skip the start-up's
    # objects (31 ms on the UI thread at 1 M reports, at random moments of a shift).
    # The freeze is counted, not done: what a test process freezes is never collected.
    freezes: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(len(freezes)))
    console_app.freeze_after_start = True
    async with console_app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert freezes == [0]  # the phone-number rules are loaded by then
        await settle(pilot)
        assert freezes == [0]  # once, not on every later look


async def test_a_console_not_asked_to_freeze_its_start_up_does_not(
    console_app: SiagaApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run many consoles in one process: frozen objects would never be collected.
    freezes: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(len(freezes)))
    async with console_app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert freezes == []
