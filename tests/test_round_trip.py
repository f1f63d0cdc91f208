"""The round trip on the demo: export reports, referrals and calls, import them into an
empty database, and ``stats --format json`` says exactly the same, twice."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

import siaga_tui.cli.importer as import_cli
import siaga_tui.cli.stats as stats_cli
from siaga_tui.core.db import Database, open_database
from siaga_tui.core.models import CALL, REPORT
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.calls import CallService
from siaga_tui.services.demo import build_demo
from siaga_tui.services.export import (
    ExportFilter,
    atomic_text,
    call_sheet,
    referral_sheet,
    report_sheet,
    write_csv,
)
from siaga_tui.services.importer import Importer
from siaga_tui.services.reports import ReportService
from siaga_tui.services.stats import Period, compute_statistics
from tests.conftest import FROZEN_NOW, MutableClock
from tests.test_cli import Cli
from tests.test_export import file_reports

PERIODS = (("--all",), ("--year", "2019"), ())


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("round-trip") / "demo.db"
    database = open_database(path)
    build_demo(database, clock=fixed_clock(FROZEN_NOW))
    database.dispose()
    return path


@pytest.fixture(autouse=True)
def frozen_clocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats_cli, "clock", fixed_clock(FROZEN_NOW))
    monkeypatch.setattr(import_cli, "clock", fixed_clock(FROZEN_NOW))


def figures(cli: Cli) -> list[str]:
    return [cli.ok("stats", "--format", "json", *period) for period in PERIODS]


@pytest.mark.slow
def test_export_then_import_gives_the_same_statistics(
    demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.db"
    shutil.copy(demo_path, source)
    before = Cli(source, capsys)
    expected = figures(before)
    files = {"laporan.csv": (), "rujukan.csv": ("--referrals",), "panggilan.csv": ("--calls",)}
    for name, options in files.items():
        before.ok("export", str(tmp_path / name), *options)
    after = Cli(tmp_path / "empty.db", capsys)
    # In any order: referrals are read first, calls joined last.
    out = after.ok("import", *(str(tmp_path / name) for name in reversed(list(files))))
    assert "1181 reports imported" in out and "2854 calls imported" in out
    assert "1099 referrals read" in out
    assert figures(after) == expected
    # Idempotent: the same files again add nothing, and the figures stay.
    again = after.ok("import", *(str(tmp_path / name) for name in files))
    assert "0 reports imported" in again and "1181 were already there" in again
    assert "0 calls imported" in again and "2854 were already there" in again
    assert figures(after) == expected


def test_calls_and_referrals_round_trip_on_both_engines(
    any_db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    """Every call (reports' and pranks'), every referral with its acknowledgement."""
    numbers = file_reports(any_db, clock)
    service = ReportService(any_db, operator="ani", clock=clock)
    detail = service.get_report(numbers[2])
    clock.advance(minutes=1)
    service.attach_call(detail.id, phone="0812-1111-2222")  # a second caller
    second = service.forward(detail.id, "polda")  # acknowledged by the second agency only
    clock.advance(minutes=2)
    service.acknowledge(detail.id, second, acknowledged_by="Briptu Ani")
    calls = CallService(any_db, operator="budi", clock=clock)
    calls.log_call("iseng", phone="0813-0000-1111")
    calls.log_call("hening")
    files = {
        "r.csv": report_sheet(ExportFilter(), personal=True),
        "f.csv": referral_sheet(ExportFilter()),
        "c.csv": call_sheet(Period.all(), personal=True),
    }
    for name, sheet in files.items():
        with atomic_text(tmp_path / name, "utf-8") as out:
            write_csv(any_db, out, sheet)
    fresh = open_database(tmp_path / "fresh.db")
    try:
        results = Importer(fresh, operator="sri", clock=clock).run_all(
            [tmp_path / n for n in files]
        )
        assert [(r.layout, r.bad_count) for _, r in results] == [
            ("referrals", 0), ("export", 0), ("calls", 0)
        ]  # fmt: skip
        expected = compute_statistics(any_db, Period.all(), clock=clock).to_dict()
        assert compute_statistics(fresh, Period.all(), clock=clock).to_dict() == expected
        assert expected["calls"]["iseng"] == 1 and expected["calls"]["laporan"] == 4
        acknowledged = {a["code"]: a["acknowledged"] for a in expected["agencies"]}
        assert acknowledged["polda"] == 1 and acknowledged["damkar"] == 1
        with fresh.read() as conn:
            phones = {p for (p,) in conn.execute(sa.select(CALL.c.caller_phone))}
        assert "+6281300001111" in phones  # personal: the full number comes back
    finally:
        fresh.dispose()


def test_a_call_whose_report_is_nowhere_is_a_bad_row_before_any_call_is_written(
    any_db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    """The calls file is checked like any file: a call naming a report that is neither in
    the database nor in the import's reports is listed with its line, and nothing is
    written, not even the good reports file of the same import (once the calls before it
    were saved and the import stopped half-way; later the reports were saved)."""
    numbers = file_reports(any_db, clock)
    CallService(any_db, operator="budi", clock=clock).log_call("iseng")
    with atomic_text(tmp_path / "r.csv", "utf-8") as out:
        write_csv(any_db, out, report_sheet(ExportFilter()))
    with atomic_text(tmp_path / "c.csv", "utf-8") as out:
        write_csv(any_db, out, call_sheet(Period.all()))
    with (tmp_path / "r.csv").open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle) if row[0] != numbers[-1]]
    with (tmp_path / "r.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    files = [tmp_path / "r.csv", tmp_path / "c.csv"]
    fresh = open_database(tmp_path / "fresh.db")
    try:
        importer = Importer(fresh, operator="sri", clock=clock)
        (_, reports), (_, calls) = importer.run_all(files)
        assert not reports.written and reports.bad_count == 0  # good, but not written alone
        assert not calls.written and calls.bad_count == 1
        (bad,) = calls.bad
        assert numbers[-1] in bad.describe("en") and bad.line > 1
        with fresh.read() as conn:
            for table in (REPORT, CALL):
                assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0
        # With --skip-bad the good rows of both files go in.
        (_, reports), (_, calls) = Importer(fresh, operator="sri", clock=clock).run_all(
            files, skip_bad=True
        )
        assert reports.written and reports.added == len(numbers) - 1
        assert calls.written and calls.bad_count == 1
        assert calls.added == len(numbers)  # the other reports' calls and the prank
    finally:
        fresh.dispose()
