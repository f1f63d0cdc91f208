"""Statistics: periods in WITA, the city's rounding, counts, intervals, query plans."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from siaga_tui.core.db import Database
from siaga_tui.core.errors import ValidationError
from siaga_tui.core.models import INTERVALS, REPORT, SecondsBetween
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.calls import CallService
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.services.stats import (
    Period,
    Share,
    call_counts_query,
    compute_statistics,
    figure_rows,
    percent,
    percentile,
    percentile_of_sorted,
    report_counts_query,
)
from tests.conftest import FROZEN_NOW
from tests.test_query_plans import plan as _plan

WITA = timedelta(hours=8)


# --- Rounding ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "total", "expected"),
    [
        # The city's 2019 figures, as printed.
        (842, 1132, 74),
        (290, 1132, 26),
        (140, 290, 48),
        (62, 290, 21),
        (577, 1132, 51),
        (385, 1132, 34),
        (170, 1132, 15),
        # Exactly half rounds up, never to even.
        (1, 8, 13),  # 12.5
        (3, 8, 38),  # 37.5
        (1, 200, 1),  # 0.5
        (5, 1000, 1),  # 0.5
        (1, 400, 0),  # 0.25
        (0, 7, 0),
        (7, 7, 100),
    ],
)
def test_shares_are_whole_percents_rounded_half_up(count: int, total: int, expected: int) -> None:
    assert percent(count, total) == expected


def test_no_total_has_no_share() -> None:
    assert percent(0, 0) is None
    assert Share(0, 0).percent is None and Share(0, 0).fraction is None


def test_a_breakdown_is_not_forced_to_add_up_to_100() -> None:
    thirds = [percent(1, 3)] * 3
    assert thirds == [33, 33, 33] and sum(thirds) == 99
    eighths = [percent(1, 8), percent(3, 8), percent(4, 8)]
    assert eighths == [13, 38, 50] and sum(eighths) == 101


# --- Percentiles --------------------------------------------------------------------


def test_median_and_p90_interpolate_between_ranks() -> None:
    four = [(1.0, 1), (2.0, 1), (3.0, 1), (4.0, 1)]
    assert percentile(four, 0.5) == 2.5
    ten = [(float(v), 1) for v in range(1, 11)]
    assert percentile(ten, 0.5) == 5.5
    assert percentile(ten, 0.9) == pytest.approx(9.1)
    assert percentile([(7.0, 1)], 0.9) == 7.0
    assert percentile([], 0.5) is None


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=2, max_size=60))
def test_percentile_of_a_histogram_equals_the_inclusive_method_on_the_values(
    values: list[int],
) -> None:
    counted = Counter(values)
    histogram = sorted((float(v), n) for v, n in counted.items())
    cuts = statistics.quantiles(values, n=10, method="inclusive")
    assert percentile(histogram, 0.5) == pytest.approx(statistics.median(values), abs=1e-3)
    assert percentile(histogram, 0.9) == pytest.approx(cuts[8], abs=1e-3)


@given(
    st.lists(st.integers(min_value=-(10**6), max_value=10**6), max_size=80),
    st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.99, 1.0]),
)
def test_percentile_of_the_sorted_values_equals_the_histogram_one(
    values: list[int], p: float
) -> None:
    # The service reads its percentiles from the sorted seconds; every other caller from
    # a histogram. Both must give the very same float, repeated values or not.
    histogram = sorted((float(v), n) for v, n in Counter(values).items())
    assert percentile_of_sorted(sorted(values), p) == percentile(histogram, p)


def test_percentile_reads_a_histogram_of_repeated_values() -> None:
    # 10, 10, 10, 20, 30 → median 10; p90 at rank 3.6 → 20 + 0.6 × 10.
    histogram = [(10.0, 3), (20.0, 1), (30.0, 1)]
    assert percentile(histogram, 0.5) == 10.0
    assert percentile(histogram, 0.9) == pytest.approx(26.0)


# --- Periods ------------------------------------------------------------------------


def within(period: Period, moment: datetime) -> bool:
    """``moment`` in the half-open span ``[start, end)`` (None: unbounded)."""
    return (period.start is None or moment >= period.start) and (
        period.end is None or moment < period.end
    )


def test_a_year_runs_from_local_midnight_to_local_midnight() -> None:
    period = Period.year(2019)
    assert period.start == datetime(2018, 12, 31, 16, tzinfo=UTC)
    assert period.end == datetime(2019, 12, 31, 16, tzinfo=UTC)
    assert within(period, datetime(2018, 12, 31, 16, tzinfo=UTC))  # 1 Jan 00:00 WITA
    assert not within(period, datetime(2018, 12, 31, 15, 59, 59, tzinfo=UTC))
    assert not within(period, datetime(2019, 12, 31, 16, tzinfo=UTC))  # 1 Jan 2020 WITA
    assert period.describe() == "2019"


def test_between_includes_both_dates_and_refuses_a_reversed_range() -> None:
    period = Period.between(date(2019, 3, 1), date(2019, 3, 31))
    assert period.start == datetime(2019, 2, 28, 16, tzinfo=UTC)
    assert period.end == datetime(2019, 3, 31, 16, tzinfo=UTC)
    assert period.describe() == "2019-03-01 \u2013 2019-03-31"
    with pytest.raises(ValidationError) as caught:
        Period.between(date(2019, 3, 2), date(2019, 3, 1))
    assert "2019-03-01" in caught.value.message("en")


@pytest.mark.parametrize("year", [0, 1, 1899, 3000, 9999])
def test_years_beyond_the_calendar_edges_are_refused(year: int) -> None:
    with pytest.raises(ValidationError) as caught:
        Period.year(year)
    assert "1900" in caught.value.message("en")
    if year:
        with pytest.raises(ValidationError):
            Period.between(date(year, 12, 30), date(year, 12, 31))


def test_today_days_and_month_follow_the_local_date() -> None:
    # 28 Nov 2026 16:30 UTC is already 29 Nov in Manado.
    clock = fixed_clock(datetime(2026, 11, 28, 16, 30, tzinfo=UTC))
    assert Period.today(clock).first_day == date(2026, 11, 29)
    assert Period.today(clock).start == datetime(2026, 11, 28, 16, tzinfo=UTC)
    week = Period.days(7, clock)
    assert (week.first_day, week.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    month = Period.month(clock)
    assert (month.first_day, month.last_day) == (date(2026, 11, 1), date(2026, 11, 30))
    december = Period.month(fixed_clock(datetime(2026, 12, 15, tzinfo=UTC)))
    assert december.last_day == date(2026, 12, 31)
    assert Period.this_year(clock) == Period.year(2026)


@pytest.mark.parametrize(
    ("local_now", "start", "end"),
    [
        ((2026, 11, 28, 7, 0), (2026, 11, 28, 7), (2026, 11, 28, 14)),
        ((2026, 11, 28, 13, 59), (2026, 11, 28, 7), (2026, 11, 28, 14)),
        ((2026, 11, 28, 14, 0), (2026, 11, 28, 14), (2026, 11, 28, 21)),
        ((2026, 11, 28, 22, 30), (2026, 11, 28, 21), (2026, 11, 29, 7)),
        # After midnight the night shift is the one that began the evening before.
        ((2026, 11, 29, 2, 0), (2026, 11, 28, 21), (2026, 11, 29, 7)),
        ((2026, 11, 29, 6, 59), (2026, 11, 28, 21), (2026, 11, 29, 7)),
        ((2027, 1, 1, 0, 30), (2026, 12, 31, 21), (2027, 1, 1, 7)),
    ],
)
def test_shift_periods_in_wita_cross_midnight(local_now, start, end) -> None:
    now = datetime(*local_now, tzinfo=UTC) - WITA
    period = Period.shift(fixed_clock(now))
    assert period.start == datetime(*start, tzinfo=UTC) - WITA
    assert period.end == datetime(*end, tzinfo=UTC) - WITA
    assert within(period, now)


def test_all_time_is_unbounded() -> None:
    period = Period.all()
    assert period.is_all and within(period, datetime(1990, 1, 1, tzinfo=UTC))
    assert period.condition(sa.column("x")) == []


# --- Figures on fixed data ----------------------------------------------------------


@pytest.fixture
def db(any_db: Database) -> Database:
    """The figures are checked on SQLite and on PostgreSQL."""
    return any_db


def _file(reports: ReportService, clock, category: str, at: int, answered_before: int) -> int:
    clock.now = FROZEN_NOW + timedelta(seconds=at)
    saved = reports.create_report(
        NewReport(
            category=category,
            kelurahan="Paal 4",
            description="uji",
            answered_at=clock.now - timedelta(seconds=answered_before),
        )
    )
    return saved.id


def _at(clock, seconds: int) -> None:
    clock.now = FROZEN_NOW + timedelta(seconds=seconds)


@pytest.fixture
def fixed_data(db: Database, clock) -> dict[str, int]:
    """Six reports (one a duplicate) and three nuisance calls, on 28 Nov 2026 WITA.

    | report | category    | answered→saved | saved→fwd | fwd→ack | fwd→done | status    |
    | r1     | kebakaran   | 40             | 60        | 120     | 600      | selesai   |
    | r2     | kebakaran   | 20             | 120       | 60      | 1200     | selesai   |
    | r3     | kesehatan   | 60             | 180       | –       | –        | ditangani |
    | r4     | kebakaran   | duplicate of r1: counted nowhere in the reports      |
    | r5     | kelistrikan | 30             | –         | –       | –        | menunggu  |
    | r6     | kelistrikan | 50             | 3600      | –       | 86400    | selesai   |
    """
    reports = ReportService(db, operator="budi", clock=clock)
    r1 = _file(reports, clock, "kebakaran", 0, 40)
    _at(clock, 60)
    ref1 = reports.forward(r1, "damkar")
    _at(clock, 180)
    reports.acknowledge(r1, ref1)
    _at(clock, 660)
    reports.change_status(r1, "selesai", note="padam")

    r2 = _file(reports, clock, "kebakaran", 1000, 20)
    _at(clock, 1120)
    ref2 = reports.forward(r2, "damkar")
    _at(clock, 1180)
    reports.acknowledge(r2, ref2)
    _at(clock, 2320)
    reports.change_status(r2, "selesai", note="padam")

    r3 = _file(reports, clock, "kesehatan", 2000, 60)
    _at(clock, 2180)
    reports.forward(r3, "dinkes")

    r4 = _file(reports, clock, "kebakaran", 3000, 10)
    reports.mark_duplicate(r4, r1)

    r5 = _file(reports, clock, "kelistrikan", 4000, 30)

    r6 = _file(reports, clock, "kelistrikan", 5000, 50)
    _at(clock, 8600)
    reports.forward(r6, "pln")
    _at(clock, 8600 + 86400)
    reports.change_status(r6, "selesai", note="tiang diganti")

    calls = CallService(db, operator="budi", clock=clock)
    for disposition in ("iseng", "iseng", "hening"):
        calls.log_call(disposition, answered_at=FROZEN_NOW + timedelta(seconds=100))
    # A prank the day before is outside the period.
    calls.log_call("iseng", answered_at=FROZEN_NOW - timedelta(days=1))
    return {"r1": r1, "r2": r2, "r3": r3, "r4": r4, "r5": r5, "r6": r6}


def test_counts_shares_and_the_aim_on_fixed_data(db: Database, clock, fixed_data) -> None:
    stats = compute_statistics(db, Period.today(fixed_clock(FROZEN_NOW)), clock=clock)
    assert stats.total == 5 and stats.duplicates == 1
    emergency, other = stats.kinds
    assert (emergency.kind, emergency.count, emergency.share.percent) == ("darurat", 3, 60)
    assert (other.kind, other.count, other.share.percent) == ("non_darurat", 2, 40)
    # Categories within their kind, highest first; every category is listed.
    assert [(c.code, c.count, c.share.percent) for c in emergency.categories[:2]] == [
        ("kebakaran", 2, 67),
        ("kesehatan", 1, 33),
    ]
    assert len(emergency.categories) == 9 and emergency.categories[2].count == 0
    assert other.categories[0].code == "kelistrikan" and other.categories[0].share.percent == 100
    assert [(s.status, s.count, s.share.percent) for s in stats.statuses] == [
        ("selesai", 3, 60),
        ("ditangani", 1, 20),
        ("menunggu", 1, 20),
    ]
    # 3 of 5 is exactly 60 %: the city's aim is *above* 60 %, so not met, and shown
    # with a decimal so that the figure does not read as the line.
    assert not stats.aim.met and stats.aim.done.percent == 60
    assert stats.aim.shown("id") == "60,0 %" and stats.aim.shown("en") == "60.0 %"
    assert [r.id for r in stats.oldest_waiting] == [fixed_data["r5"]]


def test_agencies_count_each_report_once_and_skip_duplicates(
    db: Database, clock, fixed_data
) -> None:
    stats = compute_statistics(db, Period.today(fixed_clock(FROZEN_NOW)), clock=clock)
    found = {a.code: (a.forwarded, a.acknowledged, a.done) for a in stats.agencies}
    assert found == {"damkar": (2, 2, 2), "dinkes": (1, 0, 0), "pln": (1, 0, 1)}
    assert stats.agencies[0].code == "damkar"


def test_a_report_forwarded_twice_to_one_agency_counts_once_there(
    db: Database, clock, fixed_data
) -> None:
    reports = ReportService(db, operator="budi", clock=clock)
    again = _file(reports, clock, "kebakaran", 6000, 30)
    _at(clock, 6100)
    first = reports.forward(again, "damkar")
    _at(clock, 6200)
    reports.forward(again, "damkar")  # sent again: the first went unanswered
    _at(clock, 6300)
    reports.acknowledge(again, first)
    _at(clock, 6900)
    reports.change_status(again, "selesai", note="padam")
    reports.forward(fixed_data["r5"], "pln")
    stats = compute_statistics(db, Period.today(fixed_clock(FROZEN_NOW)), clock=clock)
    found = {a.code: (a.forwarded, a.acknowledged, a.done) for a in stats.agencies}
    # damkar: r1, r2 and the new one (its two referrals once); pln: r6 (done) and r5.
    assert found == {"damkar": (3, 3, 3), "dinkes": (1, 0, 0), "pln": (2, 0, 1)}


def test_interval_medians_and_p90_per_kind(db: Database, clock, fixed_data) -> None:
    stats = compute_statistics(db, Period.today(fixed_clock(FROZEN_NOW)), clock=clock)

    def figures(name: str, kind: str | None) -> tuple[int, float | None, float | None]:
        found = stats.interval(name, kind)
        return found.count, found.median, found.p90

    assert figures("answer_to_saved", "darurat") == (3, 40.0, pytest.approx(56.0))
    assert figures("answer_to_saved", "non_darurat") == (2, 40.0, pytest.approx(48.0))
    assert figures("answer_to_saved", None) == (5, 40.0, pytest.approx(56.0))
    assert figures("saved_to_forwarded", "darurat") == (3, 120.0, pytest.approx(168.0))
    assert figures("saved_to_forwarded", "non_darurat") == (1, 3600.0, 3600.0)
    assert figures("forwarded_to_acknowledged", "darurat") == (2, 90.0, pytest.approx(114.0))
    assert figures("forwarded_to_acknowledged", "non_darurat") == (0, None, None)
    assert figures("forwarded_to_done", "darurat") == (2, 900.0, pytest.approx(1140.0))
    assert figures("forwarded_to_done", "non_darurat") == (1, 86400.0, 86400.0)


@pytest.mark.parametrize("all_time", [False, True])
def test_interval_figures_equal_a_histogram_of_every_report_seconds(
    db: Database, clock, fixed_data, all_time: bool
) -> None:
    # The reference: each report's seconds, worked out from its moments (not read from
    # the stored interval columns), counted into a histogram per interval and kind (how
    # the figures were computed before they were read from sorted values).
    period = Period.all() if all_time else Period.today(fixed_clock(FROZEN_NOW))
    stats = compute_statistics(db, period, clock=clock)
    with db.read() as conn:
        rows = conn.execute(
            sa.select(
                REPORT.c.kind,
                *(SecondsBetween(REPORT.c[a], REPORT.c[b]) for a, b in INTERVALS.values()),
            ).where(REPORT.c.duplicate_of.is_(None), *period.condition(REPORT.c.created_at))
        ).all()
    names = (
        "answer_to_saved",
        "saved_to_forwarded",
        "forwarded_to_acknowledged",
        "forwarded_to_done",
    )
    for column, name in enumerate(names, start=1):
        for kind in ("darurat", "non_darurat", None):
            seconds = [r[column] for r in rows if kind in (None, r[0]) and r[column] is not None]
            histogram = sorted((float(v), n) for v, n in Counter(seconds).items())
            found = stats.interval(name, kind)
            assert (found.count, found.median, found.p90) == (
                len(seconds),
                percentile(histogram, 0.5),
                percentile(histogram, 0.9),
            ), (name, kind)
    assert stats.interval("answer_to_saved", None).count == 5


def test_calls_by_disposition_beside_the_reports(db: Database, clock, fixed_data) -> None:
    stats = compute_statistics(db, Period.today(fixed_clock(FROZEN_NOW)), clock=clock)
    # Six reports were filed from six calls (the duplicate's call is a real call).
    assert {c.disposition: c.count for c in stats.calls} == {
        "laporan": 6,
        "iseng": 2,
        "hening": 1,
        "informasi": 0,
        "salah_sambung": 0,
    }
    assert stats.calls_total == 9 and stats.calls_total - stats.call_count("laporan") == 3


def test_a_sample_of_every_id_gives_the_exact_figures(
    db: Database, clock, fixed_data, monkeypatch
) -> None:
    from siaga_tui.services import stats as module

    period = Period.today(fixed_clock(FROZEN_NOW))
    exact = compute_statistics(db, period, clock=clock)
    monkeypatch.setattr(module, "EXACT_INTERVALS_LIMIT", 0)
    monkeypatch.setattr(module, "INTERVAL_SAMPLE", 1000)  # step 1: every id
    sampled = compute_statistics(db, period, clock=clock)
    assert all(i.sampled for i in sampled.intervals) and not any(i.sampled for i in exact.intervals)
    assert [(i.count, i.median, i.p90) for i in sampled.intervals] == [
        (i.count, i.median, i.p90) for i in exact.intervals
    ]
    monkeypatch.setattr(module, "INTERVAL_SAMPLE", 3)  # step 2: every other id
    half = compute_statistics(db, Period.all(), clock=clock)
    assert 0 < half.interval("answer_to_saved").count < exact.interval("answer_to_saved").count
    assert half.total == exact.total  # counts are never sampled


def test_parts_leave_out_what_is_not_asked_for(db: Database, clock, fixed_data) -> None:
    stats = compute_statistics(db, Period.today(fixed_clock(FROZEN_NOW)), clock=clock, parts=())
    assert stats.total == 5 and stats.status("selesai").count == 3
    assert stats.agencies == () and stats.calls_total == 0 and stats.oldest_waiting == ()
    assert stats.interval("answer_to_saved", None).median is None and stats.parts == frozenset()


def test_all_time_counts_agree_with_the_period(db: Database, clock, fixed_data) -> None:
    today = compute_statistics(db, Period.today(fixed_clock(FROZEN_NOW)), clock=clock)
    everything = compute_statistics(db, Period.all(), clock=clock)
    assert everything.to_dict()["kinds"] == today.to_dict()["kinds"]
    assert everything.statuses == today.statuses
    assert everything.call_count("iseng") == 3


def test_period_boundary_is_local_midnight(db: Database) -> None:
    reports = ReportService(db, operator="budi", clock=fixed_clock(FROZEN_NOW))
    midnight = datetime(2026, 11, 27, 16, tzinfo=UTC)  # 28 Nov 00:00 WITA
    for created in (midnight - timedelta(seconds=1), midnight):
        reports.create_report(
            NewReport(category="sampah", kelurahan="Paal 4", description="x", created_at=created)
        )
    assert compute_statistics(db, Period.between(date(2026, 11, 28), date(2026, 11, 28))).total == 1
    assert compute_statistics(db, Period.between(date(2026, 11, 27), date(2026, 11, 27))).total == 1
    assert compute_statistics(db, Period.between(date(2026, 11, 27), date(2026, 11, 28))).total == 2


def test_an_empty_period_has_zero_counts_and_no_shares(db: Database) -> None:
    stats = compute_statistics(db, Period.year(2019))
    assert stats.total == 0 and stats.kinds[0].share.percent is None
    assert not stats.aim.met
    assert stats.interval("forwarded_to_done", None).median is None
    assert figure_rows(stats)[0] == {
        "section": "reports",
        "key": "total",
        "kind": "",
        "count": 0,
        "of": "",
        "percent": "",
        "median_seconds": "",
        "p90_seconds": "",
    }


def test_figure_rows_and_dict_carry_every_figure(db: Database, clock, fixed_data) -> None:
    stats = compute_statistics(db, Period.today(fixed_clock(FROZEN_NOW)), clock=clock)
    rows = figure_rows(stats)
    kebakaran = next(r for r in rows if r["section"] == "category" and r["key"] == "kebakaran")
    assert (kebakaran["count"], kebakaran["of"], kebakaran["percent"]) == (2, 3, 67)
    aim = next(r for r in rows if r["section"] == "done_aim")
    assert aim["key"] == "not_met" and aim["percent"] == 60
    data = stats.to_dict()
    assert data["reports"] == 5 and data["duplicates_excluded"] == 1
    assert data["period"]["start"] == "2026-11-28T00:00:00+08:00"


# --- Query plans (SQLite) -------------------------------------------------------------


def test_report_counts_read_only_covering_indexes(db_path) -> None:
    from siaga_tui.core.db import open_database

    database = open_database(db_path)
    try:
        period = _plan(database, report_counts_query(Period.year(2019)))
        assert "COVERING INDEX ix_report_created_stats" in period
        everything = _plan(database, report_counts_query(Period.all()))
        assert "COVERING INDEX ix_report_category_status" in everything
        assert "TEMP B-TREE" not in everything
        calls = _plan(database, call_counts_query(Period.year(2019)))
        assert "COVERING INDEX ix_call_answered" in calls
    finally:
        database.dispose()


def test_oldest_waiting_and_the_sample_bounds_use_indexes(db_path) -> None:
    from siaga_tui.core.db import open_database
    from siaga_tui.services.stats import id_bounds_query, oldest_waiting_query

    database = open_database(db_path)
    try:
        waiting = _plan(database, oldest_waiting_query(Period.year(2019), 0, 5))
        assert "ix_report_open_queue" in waiting and "TEMP B-TREE" not in waiting
        bounds = _plan(database, id_bounds_query(Period.year(2019)))
        assert "COVERING INDEX ix_report_created_stats" in bounds
    finally:
        database.dispose()


def test_a_report_of_a_kind_the_program_does_not_know_still_counts_in_the_intervals(
    db: Database, clock, fixed_data
) -> None:
    """The exact pass reads each known kind's aggregates side by side; a row of another
    kind (written by hand into the file, say) is not dropped from the all-kinds figures."""
    period = Period.today(fixed_clock(FROZEN_NOW))
    before = compute_statistics(db, period, clock=clock).interval("answer_to_saved", None)
    with db.write() as conn:
        conn.execute(
            sa.update(REPORT)
            .where(REPORT.c.id == sa.select(sa.func.min(REPORT.c.id)).scalar_subquery())
            .values(kind="lainnya")
        )
    after = compute_statistics(db, period, clock=clock)
    assert before.count > 0 and after.interval("answer_to_saved", None).count == before.count
