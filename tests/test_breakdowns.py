"""Breakdowns (``stats --by``): each dimension on fixed data and on the 2019 demo year,
checked against ``compute_statistics`` of the same reports and against plain SQL."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import siaga_tui.cli.stats as stats_cli
from siaga_tui.core.db import Database, open_database
from siaga_tui.core.errors import ValidationError
from siaga_tui.core.models import CALL, REPORT
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.breakdowns import (
    NOT_FORWARDED,
    compute_breakdown,
    parse_dimensions,
    row_fields,
    shift_of_hour,
)
from siaga_tui.services.calls import CallService
from siaga_tui.services.demo import build_demo
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.services.stats import Period, compute_statistics
from tests.conftest import FROZEN_NOW, MutableClock
from tests.test_cli import Cli

WITA = timedelta(hours=8)
YEAR_2019 = Period.year(2019)


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("breakdowns") / "demo.db"
    database = open_database(path)
    build_demo(database, clock=fixed_clock(FROZEN_NOW))
    database.dispose()
    return path


@pytest.fixture(scope="module")
def demo_db(demo_path: Path) -> Iterator[Database]:
    database = open_database(demo_path)
    yield database
    database.dispose()


def _demo(demo_db: Database, *by: str, period: Period = YEAR_2019):  # type: ignore[no-untyped-def]
    return compute_breakdown(demo_db, period, by, clock=fixed_clock(FROZEN_NOW))


# --- The 2019 year: every dimension adds up to the city's figures ----------------------------


def test_twelve_months_of_2019_add_up_to_1132_and_each_is_that_months_statistics(
    demo_db: Database,
) -> None:
    months = _demo(demo_db, "month")
    assert [g.key[0] for g in months.groups] == [f"2019-{m:02d}" for m in range(1, 13)]
    assert sum(g.total for g in months.groups) == 1132
    assert sum(g.kinds.get("darurat", 0) for g in months.groups) == 842
    statuses = Counter[str]()
    for group in months.groups:
        statuses.update(group.statuses)
    assert statuses == {"selesai": 577, "ditangani": 385, "menunggu": 170}
    clock = fixed_clock(FROZEN_NOW)
    for group in months.groups[:3]:
        year, month = map(int, group.key[0].split("-"))
        last = (date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        alone = compute_statistics(demo_db, Period.between(date(year, month, 1), last), clock=clock)
        assert group.total == alone.total
        assert group.aim.done.count == alone.aim.done.count
        assert group.aim.met == alone.aim.met
        assert group.calls_total == alone.calls_total
        for name in ("answer_to_saved", "forwarded_to_done"):
            assert group.timing(name).median == alone.interval(name).median
            assert group.timing(name).p90 == alone.interval(name).p90
            assert group.timing(name).count == alone.interval(name).count
    assert months.label("month", "2019-03", "id") == "Maret 2019"
    assert months.label("month", "2019-03", "en") == "March 2019"


@pytest.mark.parametrize(
    "dimension",
    [
        "week",
        "day",
        "weekday",
        "hour",
        "shift",
        "kecamatan",
        "kelurahan",
        "operator",
        "kind",
        "category",
    ],
)
def test_every_dimension_of_2019_adds_up_to_1132(demo_db: Database, dimension: str) -> None:
    breakdown = _demo(demo_db, dimension)
    assert sum(g.total for g in breakdown.groups) == 1132
    assert len({g.key for g in breakdown.groups}) == len(breakdown.groups)


def test_every_interval_by_kind_is_the_statistics_figure(demo_db: Database) -> None:
    # Both read their medians and p90 from every report's seconds, grouped in SQL here
    # and per kind there: the same counts and the very same floats, for all four.
    clock = fixed_clock(FROZEN_NOW)
    alone = compute_statistics(demo_db, YEAR_2019, clock=clock)
    by_kind = {g.key[0]: g for g in _demo(demo_db, "kind").groups}
    assert set(by_kind) == {"darurat", "non_darurat"}
    for kind, group in by_kind.items():
        for timing in group.timings:
            figure = alone.interval(timing.name, kind)
            assert (timing.count, timing.median, timing.p90) == (
                figure.count,
                figure.median,
                figure.p90,
            ), (kind, timing.name)
    assert sum(t.count for g in by_kind.values() for t in g.timings) > 1132


def test_month_by_kind_splits_each_month_into_its_kinds(demo_db: Database) -> None:
    both = _demo(demo_db, "month", "kind")
    months = {g.key[0]: g.total for g in _demo(demo_db, "month").groups}
    for month, total in months.items():
        kinds = [g for g in both.groups if g.key[0] == month]
        assert sum(g.total for g in kinds) == total
        for group in kinds:
            assert group.kinds == {group.key[1]: group.total}
    assert both.label("kind", "darurat", "id") == "Kedaruratan"


def test_places_match_plain_sql_and_name_the_kecamatan(demo_db: Database) -> None:
    places = _demo(demo_db, "kecamatan")
    with demo_db.read() as conn:
        plain = dict(
            conn.execute(
                sa.select(REPORT.c.kecamatan_code, sa.func.count())
                .where(REPORT.c.duplicate_of.is_(None), *YEAR_2019.condition(REPORT.c.created_at))
                .group_by(REPORT.c.kecamatan_code)
            ).all()
        )
    assert {g.key[0]: g.total for g in places.groups} == plain
    wenang = places.group("71.71.04")
    assert places.label("kecamatan", "71.71.04") == "Wenang"
    assert wenang.open.count == wenang.total - wenang.statuses.get("selesai", 0)
    assert wenang.kinds["darurat"] + wenang.kinds["non_darurat"] == wenang.total
    kelurahan = _demo(demo_db, "kelurahan")
    assert kelurahan.label("kelurahan", "71.71.10.1001") == "Bunaken (Bunaken Kepulauan)"


def test_agencies_agree_with_the_statistics_and_list_the_reports_forwarded_nowhere(
    demo_db: Database,
) -> None:
    agencies = _demo(demo_db, "agency")
    stats = compute_statistics(demo_db, YEAR_2019, clock=fixed_clock(FROZEN_NOW))
    for figure in stats.agencies:
        group = agencies.group(figure.code)
        assert (group.total, group.acknowledged, group.statuses.get("selesai", 0)) == (
            figure.forwarded,
            figure.acknowledged,
            figure.done,
        ), figure.code
    nowhere = agencies.group(NOT_FORWARDED)
    assert agencies.label("agency", NOT_FORWARDED, "en") == "Not forwarded"
    assert nowhere.acknowledged == 0 and nowhere.timing("forwarded_to_done").count == 0
    forwarded_somewhere = 1132 - nowhere.total
    with demo_db.read() as conn:
        from siaga_tui.core.models import REFERRAL

        plain = conn.execute(
            sa.select(sa.func.count(sa.distinct(REFERRAL.c.report_id)))
            .join(REPORT, REPORT.c.id == REFERRAL.c.report_id)
            .where(REPORT.c.duplicate_of.is_(None), *YEAR_2019.condition(REPORT.c.created_at))
        ).scalar()
    assert forwarded_somewhere == plain
    with pytest.raises(ValueError, match="overlap"):
        agencies.total  # noqa: B018 - groups overlap: no total


def test_calls_by_shift_and_operator_add_up_to_the_periods_calls(demo_db: Database) -> None:
    stats = compute_statistics(demo_db, YEAR_2019, clock=fixed_clock(FROZEN_NOW))
    for dimension in ("shift", "operator", "hour", "month"):
        breakdown = _demo(demo_db, dimension)
        assert breakdown.has_calls
        assert sum(g.calls_total or 0 for g in breakdown.groups) == stats.calls_total, dimension
    shifts = _demo(demo_db, "shift")
    assert [g.key[0] for g in shifts.groups] == ["pagi", "siang", "malam"]
    assert not _demo(demo_db, "kecamatan").has_calls
    assert _demo(demo_db, "kecamatan").groups[0].calls is None


def test_a_year_without_a_year_before_has_no_trend_and_months_without_reports_are_zero(
    demo_db: Database,
) -> None:
    assert not _demo(demo_db, "month").with_trend  # the demo has no 2018
    empty = _demo(demo_db, "month", period=Period.year(2020))
    assert empty.with_trend  # 2019 has data
    march = empty.group("2020-03")
    assert (
        march.total == 0 and march.previous == 101 == _demo(demo_db, "month").group("2019-03").total
    )
    assert march.change == -1.0
    assert march.aim.done.percent is None and march.timing("answer_to_saved").median is None


# --- Fixed data: shifts, weekdays, targets, trend -------------------------------------------------


def _report(
    db: Database,
    clock: MutableClock,
    at: datetime,
    category: str = "kebakaran",
    *,
    kelurahan: str = "Paal 4",
    operator: str = "budi",
) -> int:
    clock.now = at
    service = ReportService(db, operator=operator, clock=clock)
    return service.create_report(
        NewReport(
            category=category,
            kelurahan=kelurahan,
            description="uji",
            answered_at=at - timedelta(seconds=30),
        )
    ).id


def _local(y: int, m: int, d: int, h: int, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=UTC) - WITA


def test_calls_of_a_disposition_the_program_does_not_know_are_counted_by_name(
    any_db: Database, clock: MutableClock
) -> None:
    _report(any_db, clock, _local(2026, 3, 2, 9))
    calls = CallService(any_db, operator="budi", clock=clock)
    fax = calls.log_call("iseng", answered_at=_local(2026, 3, 2, 10))
    calls.log_call("iseng", answered_at=_local(2026, 4, 5, 10))
    with any_db.write() as conn:  # as an old import could have left it
        conn.execute(sa.update(CALL).where(CALL.c.id == fax).values(disposition="fax"))
    by_month = {
        g.key[0]: g.calls for g in compute_breakdown(any_db, Period.year(2026), ["month"]).groups
    }
    assert by_month["2026-03"] == {"laporan": 1, "fax": 1}
    assert by_month["2026-04"] == {"iseng": 1}
    assert by_month["2026-05"] == {}


def test_calls_by_month_fall_in_the_local_month_and_inside_the_period(
    any_db: Database, clock: MutableClock
) -> None:
    calls = CallService(any_db, operator="budi", clock=clock)
    # 23:30 WITA on 31 March is 15:30 UTC: March. 00:10 WITA on 1 April: April.
    calls.log_call("iseng", answered_at=_local(2026, 3, 31, 23, 30))
    calls.log_call("hening", answered_at=_local(2026, 4, 1, 0, 10))
    calls.log_call("iseng", answered_at=_local(2026, 4, 9, 12))  # after the period
    calls.log_call("iseng", answered_at=_local(2026, 3, 14, 23, 59))  # before it
    period = Period.between(date(2026, 3, 15), date(2026, 4, 8))
    by_month = {g.key[0]: g.calls for g in compute_breakdown(any_db, period, ["month"]).groups}
    assert by_month == {"2026-03": {"iseng": 1}, "2026-04": {"hening": 1}}


def test_reports_of_a_kind_or_status_the_program_does_not_know_are_counted_by_name(
    any_db: Database, clock: MutableClock
) -> None:
    first = _report(any_db, clock, _local(2026, 3, 2, 9))
    _report(any_db, clock, _local(2026, 3, 3, 9))
    _report(any_db, clock, _local(2026, 4, 3, 9))
    with any_db.write() as conn:  # as an old import could have left them
        conn.execute(
            sa.update(REPORT).where(REPORT.c.id == first).values(kind="lain", status="arsip")
        )
    groups = {g.key[0]: g for g in compute_breakdown(any_db, Period.year(2026), ["month"]).groups}
    assert groups["2026-03"].kinds == {"lain": 1, "darurat": 1}
    assert groups["2026-03"].statuses == {"arsip": 1, "menunggu": 1}
    assert groups["2026-03"].total == 2
    assert groups["2026-04"].kinds == {"darurat": 1} and groups["2026-04"].total == 1


def test_shifts_follow_the_wita_clock_the_night_crossing_midnight(
    any_db: Database, clock: MutableClock
) -> None:
    assert [shift_of_hour(h) for h in (6, 7, 13, 14, 20, 21, 0)] == [
        "malam",
        "pagi",
        "pagi",
        "siang",
        "siang",
        "malam",
        "malam",
    ]
    for hour, minute in ((6, 59), (7, 0), (13, 59), (14, 0), (20, 59), (21, 0), (23, 30), (0, 10)):
        _report(any_db, clock, _local(2026, 11, 27, hour, minute))
    CallService(any_db, operator="sari", clock=clock).log_call(
        "iseng", answered_at=_local(2026, 11, 27, 22, 0)
    )
    period = Period.between(date(2026, 11, 27), date(2026, 11, 27))
    shifts = compute_breakdown(any_db, period, ["shift"], clock=clock)
    assert {g.key[0]: g.total for g in shifts.groups} == {"pagi": 2, "siang": 2, "malam": 4}
    assert shifts.group("malam").calls == {"laporan": 4, "iseng": 1}
    hours = compute_breakdown(any_db, period, ["hour"], clock=clock)
    assert len(hours.groups) == 24 and hours.group("06").total == 1 and hours.group("00").total == 1
    weekdays = compute_breakdown(any_db, period, ["weekday"], clock=clock)
    assert weekdays.group("5").total == 8  # 27 Nov 2026 is a Friday
    assert weekdays.label("weekday", "5", "id") == "Jumat"
    operators = compute_breakdown(any_db, period, ["operator"], clock=clock)
    assert operators.group("budi").calls == {"laporan": 8}
    assert operators.group("sari").total == 0 and operators.group("sari").calls == {"iseng": 1}
    weeks = compute_breakdown(
        any_db, Period.between(date(2026, 11, 20), date(2026, 12, 3)), ["week"], clock=clock
    )
    assert [g.key[0] for g in weeks.groups] == ["2026-W47", "2026-W48", "2026-W49"]
    assert weeks.group("2026-W48").total == 8


def test_targets_count_in_time_late_and_not_yet_due(any_db: Database, clock: MutableClock) -> None:
    """kebakaran: forward within 3 min, finish within 60 min (categories.toml)."""
    start = _local(2026, 11, 27, 10)
    service = ReportService(any_db, operator="budi", clock=clock)
    quick = _report(any_db, clock, start)
    clock.now = start + timedelta(minutes=2)
    service.forward(quick, "damkar")
    clock.now = start + timedelta(minutes=50)
    service.change_status(quick, "selesai", note="padam")
    slow = _report(any_db, clock, start + timedelta(hours=1))
    clock.now = start + timedelta(hours=1, minutes=10)
    service.forward(slow, "damkar")
    _report(any_db, clock, start + timedelta(hours=2))  # waits, long past both targets
    clock.now = start + timedelta(hours=10)
    _report(any_db, clock, clock.now - timedelta(minutes=1))  # waits, still inside its targets
    period = Period.between(date(2026, 11, 27), date(2026, 11, 27))
    kinds = compute_breakdown(any_db, period, ["category"], clock=clock)
    fire = kinds.group("kebakaran")
    assert fire.total == 4
    assert fire.targets["forward"] == (1, 3)  # quick in time; slow late; one waiting late
    assert fire.targets["finish"] == (1, 3)  # quick done in time; slow and the waiter late
    assert fire.target("forward").percent == 33
    agencies = compute_breakdown(any_db, period, ["agency"], clock=clock)
    assert agencies.group("damkar").targets["forward"] == (1, 2)
    assert agencies.group("damkar").timing("saved_to_forwarded").median == 0.5 * (120 + 600)


def test_trend_compares_each_month_with_the_same_month_a_year_before(
    any_db: Database, clock: MutableClock
) -> None:
    for day in (3, 4, 5, 6):
        _report(any_db, clock, _local(2025, 3, day, 10))
    for day in (3, 4, 5, 6, 7):
        _report(any_db, clock, _local(2026, 3, day, 10))
    _report(any_db, clock, _local(2026, 4, 1, 10))
    clock.now = _local(2026, 11, 27, 10)
    months = compute_breakdown(any_db, Period.year(2026), ["month"], clock=clock)
    assert months.with_trend
    assert (months.group("2026-03").total, months.group("2026-03").previous) == (5, 4)
    assert months.group("2026-03").change == pytest.approx(0.25)
    assert months.group("2026-04").previous == 0 and months.group("2026-04").change is None
    rows = {r["month"]: r for r in _rows(months)}
    assert rows["2026-03"]["change_percent"] == 25.0


def _rows(breakdown):  # type: ignore[no-untyped-def]
    from siaga_tui.services.breakdowns import breakdown_rows

    return breakdown_rows(breakdown)


def test_unknown_dimensions_are_refused_naming_the_option() -> None:
    assert parse_dimensions(["Month", "kind", "month"]) == ("month", "kind")
    with pytest.raises(ValidationError) as refused:
        parse_dimensions(["bulan"])
    assert refused.value.field == "--by"


# --- The command ------------------------------------------------------------------------------


@pytest.fixture
def demo_cli(
    demo_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.setattr(stats_cli, "clock", fixed_clock(FROZEN_NOW))
    return Cli(demo_path, capsys)


def test_stats_by_month_prints_csv_json_and_a_table(demo_cli: Cli) -> None:
    out = demo_cli.ok("stats", "--year", "2019", "--by", "month", "--by", "kind", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == row_fields(_fields_of(rows))
    assert sum(int(r["reports"]) for r in rows) == 1132
    assert {r["kind"] for r in rows} == {"darurat", "non_darurat"}
    data = json.loads(demo_cli.ok("stats", "--year", "2019", "--by", "agency", "--format", "json"))
    assert data["by"] == ["agency"] and data["period"]["label"] == "2019"
    damkar = next(g for g in data["groups"] if g["agency"] == "damkar")
    assert damkar["forwarded_to_acknowledged_median_seconds"] is not None
    code, table, _ = demo_cli("stats", "--year", "2019", "--by", "month", lang="en")
    assert code == 0 and "Breakdown by Month" in table and "March 2019" in table and "101" in table


def _fields_of(rows: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    """A breakdown shaped like the CSV's (month × kind, no trend), for its field list."""
    from siaga_tui.services.breakdowns import Breakdown

    return Breakdown(YEAR_2019, ("month", "kind"), FROZEN_NOW, ())


def test_stats_by_an_unknown_dimension_is_one_line_exit_2(demo_cli: Cli) -> None:
    code, _out, err = demo_cli("stats", "--year", "2019", "--by", "bulan")
    assert code == 2 and "bulan" in err and "month" in err and "Traceback" not in err
    assert err.strip().count("\n") == 0


def test_calls_outside_a_dimension_are_not_invented(demo_db: Database) -> None:
    with demo_db.read() as conn:
        calls = conn.execute(
            sa.select(sa.func.count()).where(*YEAR_2019.condition(CALL.c.answered_at))
        ).scalar()
    assert calls and not _demo(demo_db, "category").has_calls


def test_the_aim_is_above_60_percent_and_read_with_a_decimal_at_the_line(
    db: Database, clock: MutableClock
) -> None:
    from siaga_tui.cli.breakdown_view import _done

    start = _local(2026, 11, 27, 9)
    service = ReportService(db, operator="budi", clock=clock)
    for index in range(5):
        report = _report(db, clock, start + timedelta(minutes=index))
        if index < 3:
            clock.now = start + timedelta(minutes=30 + index)
            service.change_status(report, "selesai", note="ok")
    period = Period.between(date(2026, 11, 27), date(2026, 11, 27))
    (group,) = compute_breakdown(db, period, ["kind"], clock=clock).groups
    assert group.aim.done.count == 3 and group.total == 5
    assert not group.aim.met  # 60.0 % is not above 60 %
    assert _done(group) == "60,0 %"


def test_the_agency_not_named_in_a_source_has_its_own_label() -> None:
    from siaga_tui.core.catalogue import NOT_NAMED_AGENCY, load_catalogue
    from siaga_tui.core.i18n import translate
    from siaga_tui.services.breakdowns import Dimension, _label

    label = _label(Dimension.AGENCY, NOT_NAMED_AGENCY, load_catalogue(), translate)
    assert label == ("(tidak disebut di sumber)", "(not named in the source)")
