"""The status board's pictures on fixed data: hours and days in WITA, places, agency waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from siaga_tui.core.db import Database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.board_charts import DAYS, board_charts
from siaga_tui.services.calls import CallService
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.widgets.board_chart import axis

WITA = timedelta(hours=8)
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC) - WITA  # 15:00 WITA


def _file(db: Database, at: datetime, category: str, kelurahan: str) -> int:
    service = ReportService(db, operator="budi", clock=fixed_clock(at))
    return service.create_report(
        NewReport(category=category, kelurahan=kelurahan, description="x")
    ).id


def test_hours_days_places_and_waits(any_db: Database) -> None:
    morning = NOW - timedelta(hours=8, minutes=30)  # 06:30 WITA today
    fire = _file(any_db, morning, "kebakaran", "Sario")
    _file(any_db, NOW - timedelta(hours=1), "sampah", "Sario")  # 14:00
    done = _file(any_db, NOW - timedelta(hours=1), "kecelakaan", "Bahu")
    _file(any_db, NOW - timedelta(days=3), "sampah", "Paal Dua")
    _file(any_db, NOW - timedelta(days=DAYS), "sampah", "Paal Dua")  # outside the 30 days
    later = ReportService(
        any_db, operator="budi", clock=fixed_clock(morning + timedelta(minutes=5))
    )
    later.forward(fire, "damkar")
    closing = ReportService(any_db, operator="budi", clock=fixed_clock(NOW - timedelta(minutes=30)))
    closing.forward(done, "polresta")
    closing.change_status(done, "selesai", note="ok")
    CallService(any_db, operator="budi", clock=fixed_clock(NOW)).log_call(
        "iseng", answered_at=NOW - timedelta(minutes=10)
    )
    charts = board_charts(any_db, clock=fixed_clock(NOW))
    assert charts.reports_per_hour[6] == 1 and charts.reports_per_hour[14] == 2
    assert sum(charts.reports_per_hour) == 3
    assert charts.calls_per_hour[14] == 1 + 2 and sum(charts.calls_per_hour) == 4
    assert len(charts.days) == DAYS and charts.days[-1] == charts.today
    assert charts.reports_per_day[-1] == 3 and charts.reports_per_day[-4] == 1
    assert sum(charts.reports_per_day) == 4
    places = {p.name: (p.emergency, p.other) for p in charts.open_places}
    assert places == {"Sario": (1, 1), "Paal Dua": (0, 2)}
    assert [(w.code, w.waiting) for w in charts.agency_waits] == [("damkar", 1)]
    assert charts.agency_waits[0].oldest == morning + timedelta(minutes=5)


def test_axis_puts_labels_at_the_ends_and_the_middle() -> None:
    assert axis(("00", "12", "23"), 12) == "00   12   23"
    assert axis(("a", "b", "c"), 0) == ""
