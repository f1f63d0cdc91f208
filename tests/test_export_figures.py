"""Exports that add up to the statistics, open right in spreadsheets, and never surprise:
the counted column, --counted-only, --stats like stats, dates a spreadsheet reads,
formulas after spaces, overwriting; the aim said so that figure and verdict agree; words
in the interface's language; tables readable at 80 columns."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

import siaga_tui.cli.stats as stats_cli
from siaga_tui.core.db import Database, open_database
from siaga_tui.core.errors import ValidationError
from siaga_tui.core.timeutil import fixed_clock, format_duration
from siaga_tui.services.demo import build_demo
from siaga_tui.services.export import (
    ExportFilter,
    neutralise,
    write_reports_csv,
    write_reports_xlsx,
)
from siaga_tui.services.importer import Importer
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.services.stats import DoneAim, Share, aim_percent_text
from tests.conftest import FROZEN_NOW, MutableClock
from tests.test_cli import Cli


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export-figures") / "demo.db"
    database = open_database(path)
    build_demo(database, clock=fixed_clock(FROZEN_NOW))
    database.dispose()
    return path


@pytest.fixture(autouse=True)
def frozen_cli_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats_cli, "clock", fixed_clock(FROZEN_NOW))


@pytest.fixture
def demo(demo_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(demo_path, capsys)


def rows_of(path: Path, *, excel: bool = False) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))


# --- Exports and statistics -------------------------------------------------------------


def test_the_counted_column_and_counted_only_give_the_citys_figures(
    demo: Cli, tmp_path: Path
) -> None:
    every = tmp_path / "semua.csv"
    demo.ok("export", str(every), "--year", "2019")
    rows = rows_of(every)
    assert len(rows) == 1144  # duplicates are rows of their own …
    assert sum(int(r["counted"]) for r in rows) == 1132  # … and the column says which count
    assert {r["counted"] for r in rows if r["duplicate_of"]} == {"0"}
    counted = tmp_path / "dihitung.csv"
    demo.ok("export", str(counted), "--year", "2019", "--counted-only")
    kept = rows_of(counted)
    assert len(kept) == 1132 and not any(r["duplicate_of"] for r in kept)
    # The README's pivot: count of rows by kind and by status.
    by_kind = {kind: sum(r["kind"] == kind for r in kept) for kind in ("darurat", "non_darurat")}
    by_status = {
        s: sum(r["status"] == s for r in kept) for s in ("selesai", "ditangani", "menunggu")
    }
    assert by_kind == {"darurat": 842, "non_darurat": 290}
    assert by_status == {"selesai": 577, "ditangani": 385, "menunggu": 170}


def test_export_stats_without_a_period_covers_everything_and_takes_all(
    demo: Cli, tmp_path: Path
) -> None:
    expected = json.loads(demo.ok("stats", "--format", "json", "--all"))["reports"]
    for options in ((), ("--all",)):
        target = tmp_path / f"statistik{len(options)}.csv"
        code, _, err = demo("export", str(target), "--stats", *options)
        assert code == 0, err
        total = next(
            r for r in rows_of(target) if r["section"] == "reports" and r["key"] == "total"
        )
        assert int(total["count"]) == expected == 1169
        # It says what it wrote.
        assert f"The statistics of all years ({expected} reports) written to {target}" in err
    code, _, err = demo("export", str(tmp_path / "x.csv"), "--stats", "--all", "--year", "2019")
    assert code == 2 and "siaga112:" in err


# --- Spreadsheets ---------------------------------------------------------------------------


def test_excel_csv_dates_read_as_dates_and_plain_csv_keeps_iso(demo: Cli, tmp_path: Path) -> None:
    excel, plain = tmp_path / "excel.csv", tmp_path / "plain.csv"
    demo.ok("export", str(excel), "--year", "2019", "--excel")
    demo.ok("export", str(plain), "--year", "2019")
    first_excel, first_plain = rows_of(excel, excel=True)[0], rows_of(plain)[0]
    assert first_excel["created_at"] == "01/01/2019 12:05:16"
    assert first_plain["created_at"] == "2019-01-01T12:05:16+08:00"


def test_libreoffice_in_an_indonesian_locale_reads_the_excel_dates_as_dates(
    demo: Cli, tmp_path: Path
) -> None:
    if shutil.which("soffice") is None:
        if os.environ.get("CI"):  # .ci/run installs it
            pytest.fail("CI must open the export in LibreOffice: soffice is not installed")
        pytest.skip("LibreOffice is not installed (Debian: libreoffice-calc-nogui)")
    openpyxl = pytest.importorskip("openpyxl")
    source = tmp_path / "laporan.csv"
    demo.ok("export", str(source), "--year", "2019", "--excel")
    # The CSV filter's options: ';', '"', UTF-8, from line 1, standard columns, id-ID.
    subprocess.run(
        [
            "soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
            "--infilter=CSV:59,34,76,1,,1057", "--convert-to", "xlsx", "--outdir", str(tmp_path),
            str(source),
        ],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    sheet = openpyxl.load_workbook(tmp_path / "laporan.xlsx").active
    header = [cell.value for cell in sheet[1]]
    values = [cell.value for cell in sheet[2]]
    created = values[header.index("created_at")]
    assert created.isoformat() == "2019-01-01T12:05:16"  # a date, by month and day as written


def test_a_formula_after_leading_spaces_is_neutralised_in_csv_and_text_in_xlsx(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    service = ReportService(db, operator="ani", clock=clock)
    service.create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="Api  =1+1")
    )
    with db.write() as conn:  # as an old row may hold it: spaces first
        conn.exec_driver_sql("UPDATE report SET description = ' =1+1', address = '\u00a0@SUM(A1)'")
    assert neutralise(" =1+1") == "' =1+1"
    for excel in (False, True):
        out = io.StringIO()
        write_reports_csv(db, out, ExportFilter(), excel=excel)
        (row,) = csv.DictReader(io.StringIO(out.getvalue()), delimiter=";" if excel else ",")
        assert (row["description"], row["address"]) == ("' =1+1", "'\u00a0@SUM(A1)")
    path = tmp_path / "r.xlsx"
    write_reports_xlsx(db, path, ExportFilter())
    sheet = openpyxl.load_workbook(path).active
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("description") + 1)
    assert (cell.value, cell.data_type) == (" =1+1", "s")  # text, no visible quote
    # The CSV imports back to what was stored.
    csv_path = tmp_path / "r.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        write_reports_csv(db, handle, ExportFilter())
    fresh = open_database(tmp_path / "fresh.db")
    try:
        Importer(fresh, operator="sri", clock=clock).run(csv_path)
        with fresh.read() as conn:
            assert conn.exec_driver_sql("SELECT description FROM report").scalar() == " =1+1"
    finally:
        fresh.dispose()


def test_export_asks_before_overwriting(
    demo: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "laporan.csv"
    target.write_text("jangan hilang\n", encoding="utf-8")
    # No one to ask (standard input is not a terminal): refused in one line.
    code, _, err = demo("export", str(target))
    assert code == 2 and "--force" in err and len(err.strip().splitlines()) == 1
    assert target.read_text(encoding="utf-8") == "jangan hilang\n"
    # Asked, and the answer is no.
    import typer

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr(typer, "confirm", lambda *a, **k: False)
    code, _, err = demo("export", str(target))
    assert code == 2 and "was not overwritten" in err
    assert target.read_text(encoding="utf-8") == "jangan hilang\n"
    code, _, err = demo("export", str(target), "--force")
    assert code == 0 and rows_of(target)[0]["number"] == "112-2019-000001"


# --- The aim --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "total", "met", "shown_id", "shown_en"),
    [
        (149, 250, False, "59,6 %", "59.6 %"),
        (150, 250, False, "60,0 %", "60.0 %"),  # the city: *above* 60 %
        (151, 250, True, "60,4 %", "60.4 %"),
        (5999, 10000, False, "59,99 %", "59.99 %"),  # one decimal would read 60.0
        (577, 1132, False, "51 %", "51 %"),
        (180, 250, True, "72 %", "72 %"),
        (0, 0, False, "–", "–"),
    ],
)
def test_the_aim_is_met_only_above_sixty_and_the_figure_never_reads_as_the_line(
    done: int, total: int, met: bool, shown_id: str, shown_en: str
) -> None:
    aim = DoneAim(Share(done, total))
    assert aim.met is met
    assert (aim.shown("id"), aim.shown("en")) == (shown_id, shown_en)
    if total:
        assert aim_percent_text(done, total) == shown_en.removesuffix(" %")


def test_stats_prints_the_aim_with_its_decimal(
    db_path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = ["date,category,kelurahan,description,status"]
    lines += [f"2019-03-01,kebakaran,Bahu,Api {n},selesai" for n in range(149)]
    lines += [f"2019-03-01,kebakaran,Bahu,Asap {n},menunggu" for n in range(101)]
    path = tmp_path / "aim.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli = Cli(db_path, capsys)
    cli.ok("import", str(path))
    code, out, _ = cli("stats", "--year", "2019", lang="id")
    assert code == 0 and "Selesai 59,6 % — target lebih dari 60 %: belum tercapai" in out


# --- Words ----------------------------------------------------------------------------------


def test_field_names_in_messages_are_in_the_interfaces_language() -> None:
    error = ValidationError("kind", "choice_unknown", value="x", allowed="darurat, non_darurat")
    assert (
        error.describe("id")
        == "Jenis: Nilai 'x' tidak dikenal untuk Jenis; pilih salah satu: darurat, non_darurat"
    )
    assert error.describe("en").startswith("Kind: Unknown value 'x' for Kind")
    assert (
        ValidationError("date", "import_bad_date", value="x").describe("id").startswith("Tanggal: ")
    )
    assert ValidationError("row", "import_unclosed_quote").describe("id").startswith("Baris: ")


def test_an_unknown_category_points_to_the_categories_command() -> None:
    message = ValidationError("category", "category_unknown", value="gempa").describe("en")
    assert "siaga112 categories" in message and "add --help" not in message


def test_durations_in_indonesian_units() -> None:
    assert format_duration(timedelta(days=2, hours=5).total_seconds(), "id") == "2 hari 5 jam"
    assert format_duration(250, "id") == "4 mnt 10 dtk"
    assert format_duration(7380, "en") == "2 h 3 min"
    assert format_duration(None, "id") == "–"


def test_stats_waits_and_times_in_the_languages_units(demo: Cli) -> None:
    code, out, _ = demo("stats", lang="id")
    assert code == 0
    waiting = out.split("Laporan menunggu terlama")[1].split("Kepala log audit")[0]
    assert " jam" in waiting or " mnt" in waiting
    assert not re.search(r"\d+[dhm]\d\d", waiting)  # not 2890d05h


# --- 80 columns ------------------------------------------------------------------------------


def test_list_and_audit_are_readable_at_80_columns(
    demo: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = demo.ok("list", "--limit", "5")
    # Today's open reports (2019 is archived history): numbers and moments whole, never
    # "112-2026…".
    assert re.search(r"112-2026-\d{6}", out) and re.search(r"2026-11-2\d \d\d:\d\d", out), out
    assert max(len(line) for line in out.splitlines()) <= 80
    out = demo.ok("audit", "--limit", "5")
    entries = [line for line in out.splitlines() if line.startswith("#")]
    assert len(entries) == 5 and max(len(line) for line in out.splitlines()) <= 80
    out = demo.ok("categories")
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80
