"""Status board (F4): the stats service's figures for each period, switched by key, live."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
import sqlalchemy as sa

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.db import Database, translate_storage_errors
from siaga_tui.screens.board import MAX_PERIOD_WAIT, PERIODS, BoardScreen
from siaga_tui.services.calls import CallService
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.services.stats import Period, Statistics, compute_statistics
from tests.conftest import FROZEN_NOW, MutableClock
from tests.console.test_entry import settle

SIZE = (120, 40)


async def open_board(pilot) -> BoardScreen:  # type: ignore[no-untyped-def]
    await pilot.press("f4")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BoardScreen)
    return screen


def comparable(figures: Statistics) -> dict:
    data = figures.to_dict()
    data.pop("generated_at")
    return data


def board_text(screen: BoardScreen) -> str:
    return "\n".join(str(static.render()) for static in screen.query("#board-scroll Static"))


def seed_history(db: Database, clock: MutableClock) -> None:
    """Reports over a year: some last month, some this week, some this shift; a call or two."""
    for days, category, kelurahan in (
        (200, "kebakaran", "Sario"),
        (20, "sampah", "Bahu"),
        (3, "kecelakaan", "Tikala Baru"),
        (0, "kesehatan", "Paal Dua"),
    ):
        at = MutableClock(FROZEN_NOW - timedelta(days=days, minutes=30))
        ReportService(db, operator="budi", clock=at).create_report(
            NewReport(category=category, kelurahan=kelurahan, description=f"{category} {days}")
        )
    CallService(db, operator="budi", clock=clock).log_call("iseng", phone="081234567890")
    done = ReportService(db, operator="budi", clock=clock)
    first = 1
    done.forward(first, "damkar")
    done.change_status(first, "selesai", note="Api padam")


async def test_the_figures_are_the_stats_services_for_the_period(
    db: Database, clock: MutableClock
) -> None:
    seed_history(db, clock)
    app = make_app(db, operator="ani", lang="id", clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_board(pilot)
        assert screen.figures is not None
        expected = compute_statistics(db, Period.today(clock), clock=clock)
        assert comparable(screen.figures) == comparable(expected)
        text = board_text(screen)
        assert f"{expected.total} laporan" in text
        assert f"{expected.aim.done.percent} %" in text


@pytest.mark.parametrize(
    "key,name",
    [("s", "shift"), ("w", "week"), ("m", "month"), ("y", "year"), ("a", "all"), ("t", "today")],
)
async def test_each_period_key_switches_to_that_period(
    db: Database, clock: MutableClock, key: str, name: str
) -> None:
    seed_history(db, clock)
    app = make_app(db, operator="ani", lang="en", clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_board(pilot)
        if name == "today":
            await pilot.press("y")
            await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert screen.period_name == name
        assert screen.figures is not None
        period = PERIODS[name](clock)
        assert screen.figures.period == period
        assert comparable(screen.figures) == comparable(compute_statistics(db, period, clock=clock))
        descriptions = {
            b.binding.action: b.binding.description for b in screen.active_bindings.values()
        }
        assert descriptions[f"period('{name}')"]


async def test_the_periods_differ_on_history(db: Database, clock: MutableClock) -> None:
    seed_history(db, clock)
    totals = {
        name: compute_statistics(db, make(clock), clock=clock).total
        for name, make in PERIODS.items()
    }
    assert totals["today"] < totals["week"] < totals["month"] < totals["all"]


async def test_a_report_filed_elsewhere_and_a_call_show_without_a_key(
    db: Database, clock: MutableClock
) -> None:
    app = make_app(db, operator="ani", lang="id", clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_board(pilot)
        assert screen.figures is not None and screen.figures.total == 0
        other = ReportService(db, operator="budi", clock=clock)  # another workstation
        other.create_report(NewReport(category="kebakaran", kelurahan="Sario", description="Api"))
        screen.database_moved()  # what the app's live watch does when the database moved
        await settle(pilot)
        assert screen.figures.total == 1
        assert "1 laporan" in board_text(screen)
        CallService(db, operator="budi", clock=clock).log_call("hening")
        screen.database_moved()
        await settle(pilot)
        assert screen.figures.call_count("hening") == 1
        # Nothing new: the poll does not recount.
        before = screen.figures
        screen.database_moved()
        await settle(pilot)
        assert screen.figures is before


async def test_the_board_follows_changes_and_counts_the_next_day_after_midnight(
    db: Database, clock: MutableClock
) -> None:
    app = make_app(db, operator="ani", lang="id", clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_board(pilot)
        assert screen.following_changes  # woken by the app's live watch, no poll of its own
        assert screen.figures is not None
        end = screen.figures.period.end
        assert end is not None
        timer = next(t for t in screen._timers if t.name == "board-period")
        assert timer._interval == min((end - clock()).total_seconds(), MAX_PERIOD_WAIT)
        clock.now = end + timedelta(seconds=1)
        screen.database_moved()  # what the period timer does when "today" ends
        await settle(pilot)
        assert screen.figures.period == Period.today(clock) and screen.figures.period.start == end


async def test_the_board_fits_80_by_24_with_the_summary_on_top(
    db: Database, clock: MutableClock
) -> None:
    seed_history(db, clock)
    app: SiagaApp = make_app(db, operator="ani", lang="id", clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_board(pilot)
        assert screen.has_class("-narrow")
        summary = screen.query_one("#board-summary")
        assert summary.region.y < 3 and summary.region.bottom <= 20
        assert summary.region.width <= 80


async def test_the_pictures_are_drawn_from_the_board_charts_service(
    db: Database, clock: MutableClock
) -> None:
    """The charts and bar sections are filled after a count (a failure inside the
    drawing would leave them empty while the rest of the board shows)."""
    from textual.widgets import Sparkline, Static

    from siaga_tui.services.board_charts import board_charts
    from siaga_tui.widgets.board_chart import BoardChart

    seed_history(db, clock)
    app = make_app(db, operator="ani", lang="en", clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_board(pilot)
        charts = board_charts(db, clock=clock)
        days = screen.query_one("#chart-days", BoardChart)
        assert list(days.query_one(Sparkline).data or []) == list(charts.reports_per_day)
        title = str(days.query_one(".board-chart--title", Static).render())
        assert f"last 30 days ({sum(charts.reports_per_day)})" in title and "\u2588" in title
        hours = screen.query_one("#chart-reports-hour", BoardChart)
        assert list(hours.query_one(Sparkline).data or []) == list(charts.reports_per_hour)
        places = str(screen.query_one("#board-places", Static).render())
        assert "Open reports per kecamatan" in places and "Paal Dua" in places
        waits = str(screen.query_one("#board-agency-waits", Static).render())
        assert "Agencies waited for longest" in waits


async def test_the_phone_panel_shows_the_phone_figures_and_follows_the_phone(
    db: Database, clock: MutableClock
) -> None:
    """The panel's figures are ``compute_phone_figures``' for the period; "–" without
    phone records (never 0); an abandoned call elsewhere recounts it; no caller shows."""
    from siaga_tui.services.phone_stats import compute_phone_figures
    from siaga_tui.services.telephony import TelephonyService
    from tests.phone_data import seed_phone_calls

    app = make_app(db, operator="ani", lang="en", clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_board(pilot)
        panel = str(screen.query_one("#board-phone").render())
        assert "no phone records" in panel
        assert "0/0" not in panel and " 0 %" not in panel and "to make 0" not in panel
        assert panel.count("\u2013") >= 8  # each figure unknown

        seed_phone_calls(db, clock())
        screen.database_moved()
        await settle(pilot)
        panel = str(screen.query_one("#board-phone").render())
        figures = compute_phone_figures(db, Period.today(clock))
        assert figures.offered == 7 and figures.abandoned == 2
        assert "calls offered: 7" in panel
        assert "2/5  40 %" in panel and "3/5  60 %" in panel and "4/5  80 %" in panel
        assert "NFPA 90 % \u2717" in panel and "NENA 95 % \u2717" in panel
        assert "Abandoned    2/7  29 %" in panel
        assert "to make 1 · made 1 (reached 1)" in panel
        assert "median 12 s" in panel and "median 6 min" in panel
        assert "0812" not in board_text(screen) and "081234567890" not in board_text(screen)

        # A call abandoned at another position: the board recounts by itself.
        phone = TelephonyService(db, operator="budi", clock=clock)
        phone.ring("other-1", "081299887766")
        phone.hangup("other-1")
        screen.database_moved()
        await settle(pilot)
        panel = str(screen.query_one("#board-phone").render())
        assert "calls offered: 8" in panel and "3/8" in panel and "to make 2" in panel


class BrieflyLocked:
    """Counting as when another process holds the SQLite lock past the busy timeout: the
    driver's "database is locked", through the storage layer's translation."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import siaga_tui.screens.board as board

        self.locked = True
        self.counted = compute_statistics
        monkeypatch.setattr(board, "compute_statistics", self)

    def __call__(self, *args: object, **kwargs: object) -> Statistics:
        if self.locked:
            with translate_storage_errors():
                raise sa.exc.OperationalError(
                    "SELECT count(*) FROM report",
                    {},
                    sqlite3.OperationalError("database is locked"),
                )
        return self.counted(*args, **kwargs)  # type: ignore[arg-type]


def board_state(screen: BoardScreen) -> str:
    line = screen.query_one("#board-state")
    return str(line.render()) if line.display else ""


async def test_a_briefly_locked_database_keeps_the_last_figures_and_says_it_retries(
    db: Database, clock: MutableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_history(db, clock)
    app = make_app(db, operator="ani", lang="en", clock=clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_board(pilot)
        assert screen.figures is not None and board_state(screen) == ""
        shown, total = board_text(screen), screen.figures.total
        lock = BrieflyLocked(monkeypatch)
        other = ReportService(db, operator="budi", clock=clock)
        other.create_report(NewReport(category="kebakaran", kelurahan="Sario", description="Api"))
        screen.database_moved()  # the live watch saw the change; the count meets the lock
        await settle(pilot)
        assert app.screen is screen and screen.figures.total == total
        assert board_text(screen) == shown  # the last figures stay up, never zeros
        assert board_state(screen) == (
            "The figures below are from 10:00; counting again failed: the database is locked"
            " by another process. Retrying on its own."
        )
        said = [n.message for n in app._notifications if "not updating" in n.message]
        assert said == [
            "This screen is not updating: the database is locked by another process."
            " Retrying on its own."
        ]  # not the save's "nothing was saved. Try again"
        lock.locked = False
        screen.database_moved()  # what the retry timer does
        await settle(pilot)
        assert screen.figures.total == total + 1 and board_state(screen) == ""
        assert f"{total + 1} reports" in board_text(screen)


async def test_a_board_opened_on_a_locked_database_says_it_retries_and_shows_no_zeros(
    db: Database, clock: MutableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_history(db, clock)
    lock = BrieflyLocked(monkeypatch)
    app = make_app(db, operator="ani", lang="id", clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_board(pilot)
        assert screen.figures is None and app.screen is screen
        assert board_state(screen) == (
            "Belum bisa menghitung: database sedang dikunci proses lain. Dicoba lagi otomatis."
        )
        assert str(screen.query_one("#board-summary").render()) == "Menghitung…"
        assert " 0 laporan" not in board_text(screen) and "0 %" not in board_text(screen)
        lock.locked = False
        screen.database_moved()  # what the retry timer does
        await settle(pilot)
        assert screen.figures is not None and board_state(screen) == ""
        assert f"{screen.figures.total} laporan" in board_text(screen)
