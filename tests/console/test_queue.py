"""The queue: order, timer marks, filters and search, paging, Enter, live updates."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.catalogue import load_catalogue
from siaga_tui.core.db import Database
from siaga_tui.core.models import REPORT
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.screens.category_filter import CategoryFilterDialog
from siaga_tui.screens.detail import DetailScreen
from siaga_tui.screens.queue import TICK_SLACK, QueueScreen
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.services.views import ReportSummary
from siaga_tui.widgets.queue_table import QueueTable, timer_changes_at
from siaga_tui.widgets.status_header import StatusHeader
from tests.conftest import FROZEN_NOW, MutableClock
from tests.console.conftest import OPERATOR, column, notices, settle

SIZE = (120, 40)
#: The most a live change may take to show, generously above the 2 s promised.
LIVE_BOUND = 6.0


def queue(app: SiagaApp) -> QueueScreen:
    screen = app.screen
    assert isinstance(screen, QueueScreen)
    return screen


def title(app: SiagaApp) -> str:
    return app.screen.query_one(StatusHeader).title


async def test_emergencies_first_then_oldest_with_marks_and_counts(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = queue(pilot.app)
        assert [row.category for row in screen.rows] == [
            "kebakaran",
            "kecelakaan",
            "kesehatan",
            "penerangan-jalan",
            "sampah",
        ]  # the 4-hour-old street light waits behind the 4-minute-old emergency
        assert column(pilot.app, "age") == ["1h35m", "30m", "4m", "4h00m", "20m"]
        assert column(pilot.app, "category")[0] == "● Kebakaran"
        assert column(pilot.app, "category")[3].strip() == "Penerangan Jalan Umum"
        # No caller number in the queue (it is personal data, shown on the detail
        # screen): at 120 columns the agencies handling each report fit instead.
        table = screen.query_one("#queue-table")
        assert "caller" not in [key.value for key in table.columns]
        widths = [column.get_render_width(table) for column in table.columns.values()]
        keys = [key.value for key in table.columns]
        assert sum(widths[: keys.index("agencies") + 1]) <= table.scrollable_content_region.width
        assert column(pilot.app, "place")[0] == "Paal Dua (Paal Dua)"
        # fire: 3 min target, 95 min waiting -> alarmed; the others per their targets
        marks = column(pilot.app, "mark")
        assert marks[0] == "!!"
        assert (
            title(pilot.app)
            == f"Antrian · {marks.count('!!')} alarm · {marks.count('!')} lewat target"
        )
        assert str(screen.query_one("#queue-bar").render()).startswith("5 dari 5 laporan terbuka")


async def test_ages_tick_and_a_report_becomes_overdue_then_alarmed(seeded_db: Database) -> None:
    clock = MutableClock(FROZEN_NOW)
    app = make_app(seeded_db, operator=OPERATOR, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = queue(pilot.app)
        health = screen.rows[2]
        target = app.catalogue.category(health.category).forward_target
        waited = FROZEN_NOW - health.created_at
        clock.now = health.created_at + target - timedelta(seconds=1)
        screen._tick()
        assert column(pilot.app, "mark")[2] == ""
        clock.now = health.created_at + target + timedelta(seconds=1)
        screen._tick()
        assert column(pilot.app, "mark")[2] == "!"
        clock.now = health.created_at + 2 * target + timedelta(seconds=1)
        screen._tick()
        assert column(pilot.app, "mark")[2] == "!!"
        assert column(pilot.app, "age")[2] != str(waited)


async def test_kind_status_category_filters_and_escape(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = queue(pilot.app)
        await pilot.press("e")
        await settle(pilot)
        assert [r.kind for r in screen.rows] == ["darurat"] * 3
        assert "saring: Darurat" in str(screen.query_one("#queue-bar").render())
        await pilot.press("e")
        await settle(pilot)
        assert len(screen.rows) == 5
        await pilot.press("n")
        await settle(pilot)
        assert [r.category for r in screen.rows] == ["penerangan-jalan", "sampah"]
        await pilot.press("escape")
        await settle(pilot)
        assert len(screen.rows) == 5
        await pilot.press("s")
        await settle(pilot)
        assert screen.filters.status == "menunggu" and len(screen.rows) == 5
        await pilot.press("s")
        await settle(pilot)
        assert screen.filters.status == "ditangani" and screen.rows == []
        assert "0 dari 0" in str(screen.query_one("#queue-bar").render())
        await pilot.press("s", "k")
        await settle(pilot)
        assert isinstance(pilot.app.screen, CategoryFilterDialog)
        categories = [c.code for c in console_app.catalogue.categories]
        await pilot.press(*["down"] * (categories.index("sampah") + 1), "enter")
        await settle(pilot)
        assert [r.category for r in screen.rows] == ["sampah"]
        await pilot.press("k", "enter")  # first option: every category
        await settle(pilot)
        assert len(screen.rows) == 5


async def test_search_by_place_phone_number_and_text(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = queue(pilot.app)
        for needle, expected in (
            ("Tikala Baru", ["kecelakaan"]),
            ("0853", []),
            ("0852", ["penerangan-jalan"]),
            ("112-2026-000005", ["sampah"]),
            ("ambulans", ["kesehatan"]),
        ):
            await pilot.press("slash")
            search = screen.query_one("#queue-search")
            assert search.has_focus
            search.value = ""  # type: ignore[attr-defined]
            await pilot.press(*needle, "enter")
            await settle(pilot)
            assert [r.category for r in screen.rows] == expected, needle
        await pilot.press("escape")
        await settle(pilot)
        assert len(screen.rows) == 5
        assert not screen.query_one("#queue-search").display


async def test_enter_opens_the_highlighted_report(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        expected = queue(pilot.app).rows[1]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, DetailScreen)
        assert pilot.app.screen.report_id == expected.id
        assert (
            pilot.app.screen.detail is not None
            and pilot.app.screen.detail.number == expected.number
        )


async def test_a_long_queue_loads_a_window_and_fetches_more_when_paging(db: Database) -> None:
    service = ReportService(
        db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW - timedelta(hours=1))
    )
    for index in range(230):
        service.create_report(
            NewReport(category="sampah", kelurahan="Sario", description=f"laporan {index}")
        )
    app = make_app(db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = queue(pilot.app)
        table = screen.query_one("#queue-table")
        assert len(screen.rows) == 100 and table.row_count == 100  # type: ignore[attr-defined]
        assert str(screen.query_one("#queue-bar").render()).startswith("100 dari 230")
        await pilot.press("end")
        await settle(pilot)
        assert len(screen.rows) == 200
        table.scroll_end(animate=False)  # type: ignore[attr-defined]  # the wheel, not the cursor
        await settle(pilot)
        assert len(screen.rows) == 230 and screen.next_after is None
        assert len({r.id for r in screen.rows}) == 230


async def wait_until(pilot: object, condition: object, bound: float = LIVE_BOUND) -> bool:
    """Poll ``condition()`` with short pauses until it holds or ``bound`` seconds pass."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    return bool(condition())  # type: ignore[operator]


async def test_a_report_filed_at_another_workstation_appears_without_a_key(
    seeded_db: Database,
) -> None:
    app = make_app(seeded_db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        other = ReportService(seeded_db, operator="Meja Dua", clock=fixed_clock(FROZEN_NOW))
        other.create_report(
            NewReport(category="kebakaran", kelurahan="Sario", description="dari meja dua")
        )
        assert await wait_until(pilot, lambda: len(queue(pilot.app).rows) == 6)
        assert "Meja Dua" in column(pilot.app, "operator")
        assert pilot.app.screen.query_one("#queue-table").row_count == 6


async def test_a_report_filed_by_another_process_appears(
    db_path: Path, seeded_db: Database
) -> None:
    app = make_app(seeded_db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        env = {**os.environ, "SIAGA112_OPERATOR": "Proses Lain"}
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
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert await wait_until(pilot, lambda: len(queue(pilot.app).rows) == 6)
        assert "Gudang terbakar" in column(pilot.app, "description")


async def test_a_change_elsewhere_updates_the_row_in_place(seeded_db: Database) -> None:
    app = make_app(seeded_db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = queue(pilot.app).rows[0]
        other = ReportService(seeded_db, operator="Meja Dua", clock=fixed_clock(FROZEN_NOW))
        other.forward(first.id, "damkar")
        assert await wait_until(pilot, lambda: "Damkar" in column(pilot.app, "agencies"))
        row = next(r for r in queue(pilot.app).rows if r.id == first.id)
        assert row.status == "ditangani"


async def test_hostile_caller_text_shows_literally(seeded_db: Database) -> None:
    paste = "[bold]x[/ [@click=app.quit] \x1b[31mred\x1b[0m " + "a" * 100_000
    with seeded_db.write() as conn:  # an old database may hold what the form no longer takes
        conn.execute(
            sa.update(REPORT)
            .where(REPORT.c.number == "112-2026-000001")
            .values(description=paste, address="[/]")
        )
    app = make_app(seeded_db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = column(pilot.app, "description")[0]
        assert shown.startswith("[bold]x[/ [@click=app.quit] red aaa")
        assert "\x1b" not in shown and len(shown) <= 200
        await pilot.press("enter")
        await settle(pilot)
        view = pilot.app.screen.query_one("#detail-fields")
        text = str(view.render())
        assert "[bold]x[/ [@click=app.quit] red " in text
        assert "\x1b" not in text
        assert "[/]" in text
        assert isinstance(pilot.app.screen, DetailScreen)  # nothing quit, nothing crashed
        assert pilot.app.is_running


async def test_storage_failures_are_told_once_and_the_queue_recovers(
    seeded_db: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from siaga_tui import live
    from siaga_tui.core.errors import StorageError
    from siaga_tui.screens import base
    from siaga_tui.screens import queue as queue_module
    from siaga_tui.services.queue import ChangeSignal

    for module in (live, base, queue_module):
        monkeypatch.setattr(module, "WATCH_RETRY", 0.05)
    from siaga_tui.services.queue import QueueService

    real_open, real_read = QueueService.open_reports, ChangeSignal.read
    broken = {"open": True, "changes": False}

    def open_reports(*args, **kwargs):  # type: ignore[no-untyped-def]
        if broken["open"]:
            raise StorageError("db_locked")
        return real_open(*args, **kwargs)

    # Broken from the start: the rows read before the console runs fail too.
    monkeypatch.setattr(QueueService, "open_reports", open_reports)
    app = make_app(seeded_db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    real_changes = app.queue.changes_since

    def changes_since(seq: int):  # type: ignore[no-untyped-def]
        if broken["changes"]:
            raise StorageError("db_locked")
        return real_changes(seq)

    def read(signal: ChangeSignal):  # type: ignore[no-untyped-def]
        if broken["changes"]:  # the database as a whole: the live watch's reads fail too
            raise StorageError("db_locked")
        return real_read(signal)

    monkeypatch.setattr(app.queue, "changes_since", changes_since)
    monkeypatch.setattr(ChangeSignal, "read", read)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        locked = StorageError("db_locked").message("id")
        assert notices(pilot.app)[0] == locked  # one calm line, no traceback
        assert pilot.app.is_running and queue(pilot.app).rows == []
        broken["open"] = False
        assert await wait_until(pilot, lambda: len(queue(pilot.app).rows) == 5)
        broken["changes"] = True
        assert await wait_until(
            pilot, lambda: any("tidak diperbarui" in n for n in notices(pilot.app))
        )
        await pilot.pause(0.3)
        assert (
            sum("tidak diperbarui" in n for n in notices(pilot.app)) == 1
        )  # said once, not every retry
        broken["changes"] = False
        assert await wait_until(pilot, lambda: "Layar diperbarui lagi." in notices(pilot.app))


# --- An idle queue: ticks only when a cell changes, one watch, no piled-up looks ----------


async def test_ages_tick_when_the_next_one_changes_each_second_for_a_fresh_report(
    seeded_db: Database,
) -> None:
    clock = MutableClock(FROZEN_NOW + timedelta(seconds=30))
    app = make_app(seeded_db, operator=OPERATOR, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = queue(pilot.app)
        table = screen.query_one(QueueTable)
        # Ages of whole minutes and thirty seconds: the next change is in thirty seconds,
        # drawn at the latest a sixth of a minute later (close changes share one repaint).
        assert table.next_redraw() == clock() + timedelta(seconds=40)
        assert screen._tick_timer is not None and screen._tick_timer._interval == pytest.approx(
            40 + TICK_SLACK
        )
        ages, marks = column(pilot.app, "age"), column(pilot.app, "mark")
        clock.advance(seconds=20)
        assert not table.update_ages(screen.rows, clock())  # nothing due: no cell worked out
        assert (column(pilot.app, "age"), column(pilot.app, "mark")) == (ages, marks)
        clock.advance(seconds=10)  # due, but another change may still come to share the repaint
        screen._tick()
        assert column(pilot.app, "age") == ages
        clock.advance(seconds=10)
        screen._tick()
        assert column(pilot.app, "age") == ["1h36m", "31m", "5m", "4h01m", "21m"]
        other = ReportService(
            seeded_db, operator="Meja Dua", clock=fixed_clock(clock() - timedelta(seconds=10))
        )
        other.create_report(
            NewReport(category="kebakaran", kelurahan="Sario", description="baru saja")
        )
        assert await wait_until(pilot, lambda: len(screen.rows) == 6)
        assert screen._tick_timer._interval == pytest.approx(
            1 + TICK_SLACK
        )  # a fresh report: each second
        fresh = [row.id for row in screen.rows].index(max(row.id for row in screen.rows))
        clock.advance(seconds=1)
        screen._tick()
        assert column(pilot.app, "age")[fresh] == "11s"


async def test_a_clock_set_back_redraws_every_age(seeded_db: Database) -> None:
    clock = MutableClock(FROZEN_NOW + timedelta(seconds=10))
    app = make_app(seeded_db, operator=OPERATOR, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        clock.now = FROZEN_NOW - timedelta(hours=2)
        queue(pilot.app)._tick()
        assert column(pilot.app, "age") == ["0s", "0s", "0s", "2h00m", "0s"]


async def test_one_watch_thread_for_the_app_and_none_after_it(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the detail follows changes too
        await settle(pilot)
        assert isinstance(pilot.app.screen, DetailScreen) and pilot.app.screen.following_changes
        assert [thread.name for thread in threading.enumerate()].count("siaga-live") == 1
    assert "siaga-live" not in [thread.name for thread in threading.enumerate()]


async def test_wakes_during_a_look_lead_to_one_more_look_not_a_pile(
    console_app: SiagaApp, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    async with console_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert console_app._live is not None
        console_app._live.stop()  # only this test's wakes from here on
        await settle(pilot)
        screen = queue(pilot.app)
        gate, looks = threading.Event(), []
        real = screen.look_for_changes

        def look():  # type: ignore[no-untyped-def]
            looks.append(1)
            gate.wait(LIVE_BOUND)
            return real()

        monkeypatch.setattr(screen, "look_for_changes", look)
        for _ in range(5):
            screen.database_moved()
        await pilot.pause()
        gate.set()
        await settle(pilot)
        assert len(looks) == 2


async def test_a_failed_look_is_told_once_retried_and_the_queue_catches_up(
    seeded_db: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from siaga_tui.core.errors import StorageError
    from siaga_tui.screens import base

    monkeypatch.setattr(base, "WATCH_RETRY", 0.05)
    app = make_app(seeded_db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    real_changes, broken = app.queue.changes_since, [True]

    def changes_since(seq: int):  # type: ignore[no-untyped-def]
        if broken[0]:
            raise StorageError("db_locked")
        return real_changes(seq)

    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        monkeypatch.setattr(app.queue, "changes_since", changes_since)
        other = ReportService(seeded_db, operator="Meja Dua", clock=fixed_clock(FROZEN_NOW))
        other.create_report(
            NewReport(category="kebakaran", kelurahan="Sario", description="dari meja dua")
        )
        assert await wait_until(
            pilot, lambda: any("tidak diperbarui" in n for n in notices(pilot.app))
        )
        await pilot.pause(0.3)  # several retries, all failing
        assert sum("tidak diperbarui" in n for n in notices(pilot.app)) == 1
        broken[0] = False
        assert await wait_until(pilot, lambda: len(queue(pilot.app).rows) == 6)
        # A notice is a message to the app, taken in at its next turn (not at once).
        assert await wait_until(pilot, lambda: "Layar diperbarui lagi." in notices(pilot.app))


def summary(category: str, status: str, age: timedelta) -> ReportSummary:
    created = FROZEN_NOW - age
    return ReportSummary(
        id=1,
        number="112-2026-000001",
        category=category,
        kind="darurat",
        priority=1,
        status=status,
        caller_phone=None,
        kelurahan_code="",
        kecamatan_code="",
        address="",
        description="",
        operator="x",
        created_at=created,
        updated_at=created,
        version=1,
        duplicate_of=None,
        first_forwarded_at=None,
        closed_at=None,
    )


def test_when_a_rows_age_or_mark_changes_and_by_when_it_is_drawn() -> None:
    catalogue = load_catalogue()
    now = FROZEN_NOW
    # Under a minute: each second, on time.
    assert timer_changes_at(
        summary("sampah", "menunggu", timedelta(seconds=42.5)), catalogue, now
    ) == (now + timedelta(seconds=0.5), now + timedelta(seconds=0.5))
    # Days old: the next hour, drawn within ten minutes of it.
    due, by = timer_changes_at(
        summary("sampah", "ditangani", timedelta(days=2, minutes=20)), catalogue, now
    )
    assert (due, by) == (now + timedelta(minutes=40), now + timedelta(minutes=50))
    # A waiting fire 2 minutes old: its mark at the 3-minute target comes before the next minute is drawn.
    fire = summary("kebakaran", "menunggu", timedelta(minutes=2, seconds=50))
    assert timer_changes_at(fire, catalogue, now) == (
        now + timedelta(seconds=10),
        now + timedelta(seconds=10),
    )
    fire = summary("kebakaran", "menunggu", timedelta(minutes=2, seconds=30))
    assert timer_changes_at(fire, catalogue, now) == (
        now + timedelta(seconds=30),
        now + timedelta(seconds=30),
    )
    # Past twice the target: no mark is coming, only the age.
    fire = summary("kebakaran", "menunggu", timedelta(minutes=7, seconds=30))
    assert timer_changes_at(fire, catalogue, now) == (
        now + timedelta(seconds=30),
        now + timedelta(seconds=40),
    )


# --- The first window ----------------------------------------------------------------


async def test_the_queue_reads_its_first_rows_once_and_the_count_follows(
    seeded_db: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from siaga_tui.services.queue import QueueService

    app = make_app(seeded_db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    # Filed after the console was made and before it ran: in its first rows.
    ReportService(seeded_db, operator="meja dua", clock=fixed_clock(FROZEN_NOW)).create_report(
        NewReport(category="kebakaran", kelurahan="Sario", description="setelah dibuat")
    )
    loads: list[str] = []
    real_first = QueueService.first_window

    def first_window(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        loads.append("read")
        return real_first(self, *args, **kwargs)

    monkeypatch.setattr(QueueService, "first_window", first_window)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = queue(pilot.app)
        assert len(screen.rows) == 6
        assert loads == ["read"]
        assert await wait_until(
            pilot,
            lambda: str(screen.query_one("#queue-bar").render()).startswith(
                "6 dari 6 laporan terbuka"
            ),
        )


async def test_counts_the_live_watch_and_the_phone_start_after_the_first_rows_are_shown(
    console_app: SiagaApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first paint waits for nothing but the first rows (B1): the header's counts,
    following changes and the phone start after it, and then all of them do."""
    at_first_rows: list[tuple[bool, bool, bool]] = []
    real_show = QueueScreen._show_window

    def show(self: QueueScreen, *args: object) -> None:
        real_show(self, *args)  # type: ignore[arg-type]
        if not at_first_rows:
            app = self.console
            at_first_rows.append((self.late is None, app._live is None, self.following_changes))

    monkeypatch.setattr(QueueScreen, "_show_window", show)
    async with console_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = console_app.screen
        assert isinstance(screen, QueueScreen)
        assert at_first_rows == [(True, True, False)]  # nothing else started yet
        assert screen.late is not None and screen.backlog is not None  # then all of it
        assert console_app._live is not None
        assert screen.following_changes
