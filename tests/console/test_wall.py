"""The wall board (``siaga112 board``, one per browser with ``--serve``) started while its
database file is not there: it says so and counts once the file is back, creating nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import siaga_tui.wall as wall
from siaga_tui.core.db import database_to_wait_for, open_database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.screens.board import BoardScreen
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import FROZEN_NOW
from tests.console.conftest import settle

SIZE = (120, 40)


def shown(screen: BoardScreen, selector: str) -> str:
    found = screen.query(selector)
    return str(found.first().render()) if found and found.first().display else ""


async def test_a_board_started_without_its_database_says_so_and_counts_once_it_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wall, "FILE_CHECK_SECONDS", 0.1)
    path = tmp_path / "siaga112.db"
    app = wall.make_wall_app(database_to_wait_for(path), lang="en", clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen) and screen.figures is None
        assert shown(screen, "#wall-notice") == (
            f"Database not found: {path}. The board starts counting as soon as the file is there."
        )
        assert shown(screen, "#board-state").startswith("Cannot count yet: The database cannot")
        assert shown(screen, "#board-summary") == "Counting…"  # no zeros
        assert not path.exists()  # the board only reads: nothing was created
        assert not app._notifications  # the line above says it; no notice says it again

        db = open_database(path)  # the file is back (restored, moved back)
        ReportService(db, operator="budi", clock=fixed_clock(FROZEN_NOW)).create_report(
            NewReport(category="kebakaran", kelurahan="Sario", description="Api")
        )
        db.dispose()
        for _ in range(100):
            await pilot.pause(0.05)
            await settle(pilot)
            if screen.figures is not None:
                break
        assert screen.figures is not None and screen.figures.total == 1
        assert shown(screen, "#wall-notice") == "" and shown(screen, "#board-state") == ""
        assert shown(screen, "#board-summary").startswith("Today (2026-11-28)   1 reports")


async def test_figures_counted_from_a_file_that_is_back_never_show_under_its_not_found_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The board's own retry can count before the next look at the file: the line saying
    the file is missing goes with those figures (a browser showed both at once)."""
    monkeypatch.setattr(wall, "FILE_CHECK_SECONDS", 3600)  # only the first look runs
    path = tmp_path / "siaga112.db"
    app = wall.make_wall_app(database_to_wait_for(path), lang="en", clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        assert shown(screen, "#wall-notice").startswith("Database not found")
        db = open_database(path)
        ReportService(db, operator="budi", clock=fixed_clock(FROZEN_NOW)).create_report(
            NewReport(category="kebakaran", kelurahan="Sario", description="Api")
        )
        db.dispose()
        screen.database_moved()  # the board's retry, before any look at the file
        for _ in range(100):
            await pilot.pause(0.05)
            if screen.figures is not None:
                break
        await settle(pilot)
        assert screen.figures is not None and screen.figures.total == 1
        assert shown(screen, "#wall-notice") == ""
