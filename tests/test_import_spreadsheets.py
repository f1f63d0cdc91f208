"""Imports of the spreadsheets people keep: extra columns, dates as typed, xlsx, bad files,
streamed errors, dry runs, history kept out of operations, honest figures afterwards."""

from __future__ import annotations

import sqlite3
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from siaga_tui.cli import main
from siaga_tui.core.db import Database
from siaga_tui.core.models import AUDIT, CALL, REFERRAL, REPORT
from siaga_tui.services.importer import SHOWN_BAD, Importer, ImportRefused
from siaga_tui.services.queue import QueueService
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.services.stats import Period, compute_statistics, figure_rows
from tests.conftest import MutableClock

HEADER = "date,category,kelurahan,description,status"
WITA = ZoneInfo("Asia/Makassar")


def importer(db: Database, clock: MutableClock, **options: object) -> Importer:
    return Importer(db, operator="sri", clock=clock, **options)  # type: ignore[arg-type]


def write(tmp_path: Path, text: str, name: str = "old.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def reports(db: Database) -> list[dict[str, object]]:
    with db.read() as conn:
        rows = conn.execute(sa.select(REPORT).order_by(REPORT.c.created_at, REPORT.c.id))
        return [dict(row) for row in rows.mappings()]


def run_cli(db_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(["--db", str(db_path), "--lang", "en", *args])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return (code, *capsys.readouterr())


# --- Columns --------------------------------------------------------------------------


def test_unknown_columns_are_ignored_and_named_and_phone_and_name_are_read(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "No,Tanggal,Kategori,Kelurahan,Kecamatan,Keterangan,Status,No HP,Nama\n"
        "1,2019-03-01,kebakaran,Bahu,Malalayang,Asap,menunggu,0812-3456-7890,Budi\n",
    )
    result = importer(db, clock).run(path)
    assert result.added == 1 and result.ignored == ("No", "Kecamatan")
    (row,) = reports(db)
    assert (row["caller_phone"], row["caller_name"]) == ("+6281234567890", "Budi")


@pytest.mark.parametrize("phone_header", ["telepon", "phone", "no_hp"])
def test_every_phone_header_is_the_callers_phone(
    db: Database, clock: MutableClock, tmp_path: Path, phone_header: str
) -> None:
    path = write(
        tmp_path,
        f"{HEADER},{phone_header}\n2019-03-01,kebakaran,Bahu,Asap,menunggu,0812 3456 7890\n",
    )
    assert importer(db, clock).run(path).added == 1
    assert reports(db)[0]["caller_phone"] == "+6281234567890"


def test_empty_trailing_columns_are_ignored(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    path = write(tmp_path, f"{HEADER},,,\n2019-03-01,kebakaran,Bahu,Asap,menunggu,,,\n")
    result = importer(db, clock).run(path)
    assert (result.added, result.ignored, result.bad) == (1, (), ())


# --- Dates as people type them --------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "local"),
    [
        ("01/03/2019 10:00", datetime(2019, 3, 1, 10, 0)),
        ("01-03-2019", datetime(2019, 3, 1, 0, 0)),
        ("01.03.2019 10.30", datetime(2019, 3, 1, 10, 30)),
        ("2019-03-01 10:00:05", datetime(2019, 3, 1, 10, 0, 5)),
        ("43525", datetime(2019, 3, 1, 0, 0)),  # an Excel serial day
        ("43525.4375", datetime(2019, 3, 1, 10, 30)),  # … with its time of day
    ],
)
def test_dates_as_spreadsheets_hold_them(
    db: Database, clock: MutableClock, tmp_path: Path, cell: str, local: datetime
) -> None:
    path = write(tmp_path, f'{HEADER}\n"{cell}",kebakaran,Bahu,Asap,menunggu\n')
    assert importer(db, clock).run(path).added == 1
    assert reports(db)[0]["created_at"] == local.replace(tzinfo=WITA).astimezone(UTC)


def test_a_time_given_twice_is_refused(db: Database, clock: MutableClock, tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER},time\n01/03/2019 10:00,kebakaran,Bahu,Asap,menunggu,11:00\n")
    (bad,) = importer(db, clock).run(path).bad
    assert bad.errors[0].field == "time"


def test_report_numbers_follow_the_reports_dates(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n05/03/2019,kebakaran,Bahu,Tiga,menunggu\n01/03/2019,kebakaran,Bahu,Satu,menunggu\n"
        "03/03/2019,kebakaran,Bahu,Dua,menunggu\n",
    )
    assert importer(db, clock).run(path).added == 3
    assert [(r["number"], r["description"]) for r in reports(db)] == [
        ("112-2019-000001", "Satu"),
        ("112-2019-000002", "Dua"),
        ("112-2019-000003", "Tiga"),
    ]


# --- Workbooks ---------------------------------------------------------------------------


def test_an_xlsx_sheet_imports_directly(db: Database, clock: MutableClock, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Tanggal", "Kategori", "Kelurahan", "Keterangan", "Status", "Alamat", None])
    sheet.append(
        [datetime(2019, 3, 1, 10, 30), "Kebakaran", "Bahu", "=1+1 kata pelapor", "selesai", "Jl. A"]
    )
    sheet.append([43526, "kebakaran", "Bahu", "Asap", "menunggu"])  # a serial day, unformatted
    sheet["D2"].data_type = "s"
    path = tmp_path / "sheet.xlsx"
    book.save(path)
    result = importer(db, clock).run(path)
    assert (result.added, result.bad) == (2, ())
    first, second = reports(db)
    assert first["created_at"] == datetime(2019, 3, 1, 2, 30, tzinfo=UTC)
    assert first["description"] == "=1+1 kata pelapor"  # a text cell, taken as it is
    assert second["created_at"] == datetime(2019, 3, 1, 16, 0, tzinfo=UTC)  # 2 March, WITA


def test_our_own_xlsx_export_imports_back(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    from siaga_tui.services.export import ExportFilter, write_reports_xlsx
    from tests.test_export import file_reports
    from tests.test_import_reports import report_facts

    file_reports(db, clock)
    with db.write() as conn:  # as any import stores it: a leading tab cleaned
        conn.execute(sa.update(REPORT).values(address=sa.func.ltrim(REPORT.c.address, "\t\r")))
    path = tmp_path / "laporan.xlsx"
    write_reports_xlsx(db, path, ExportFilter(), personal=True)
    from siaga_tui.core.db import open_database

    fresh = open_database(tmp_path / "fresh.db")
    try:
        result = importer(fresh, clock).run(path)
        assert (result.layout, result.added, result.bad) == ("export", 3, ())
        assert report_facts(fresh) == report_facts(db)
    finally:
        fresh.dispose()


# --- Files that are not a table ---------------------------------------------------------


def _sqlite_file(path: Path) -> Path:
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE t (x)")
    return path


def _bytes(content: bytes) -> object:
    def make(path: Path) -> Path:
        path.write_bytes(content)
        return path

    return make


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600), "old Excel workbook"),
        (_sqlite_file, "SQLite database"),
        (_bytes(bytes(range(256)) * 40), "binary data"),
        (_bytes(b"date,category\x00,kelurahan\n"), "binary data"),
        (_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "PDF"),
    ],
)
def test_a_file_that_is_not_text_is_named_for_what_it_looks_like(
    db: Database, clock: MutableClock, tmp_path: Path, make: object, words: str
) -> None:
    path = make(tmp_path / "laporan.csv")  # type: ignore[operator]
    with pytest.raises(ImportRefused) as caught:
        importer(db, clock).run(path)
    message = caught.value.message("en")
    assert words in message and "UTF-16" not in message, message


def test_a_zip_that_is_no_workbook_is_named(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    import zipfile

    path = tmp_path / "laporan.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "halo")
    with pytest.raises(ImportRefused) as caught:
        importer(db, clock).run(path)
    assert "ZIP archive" in caught.value.message("en")


def test_a_header_only_file_says_there_are_no_rows(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    with pytest.raises(ImportRefused) as caught:
        importer(db, clock).run(write(tmp_path, f"{HEADER}\r\n"))
    assert "no rows" in caught.value.message("en")


def test_an_unclosed_quote_is_reported_as_such(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f'{HEADER}\n2019-03-01,kebakaran,Bahu,Asap,menunggu\n2019-03-02,kebakaran,Bahu,"Asap tebal,menunggu\n'
        "2019-03-03,kebakaran,Bahu,Asap,menunggu\n",
    )
    result = importer(db, clock).run(path)
    assert not result.written and [b.line for b in result.bad] == [3]
    assert "never closed" in result.bad[0].describe("en")


def test_windows_text_suggests_cp1252_and_keeps_its_quotes_and_dashes(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    text = f"{HEADER}\n2019-03-01,kebakaran,Bahu,“Api” – kata Bu Siti,menunggu\n"
    path = write(tmp_path, text, "windows.csv", "cp1252")
    with pytest.raises(ImportRefused) as caught:
        importer(db, clock).run(path)
    message = caught.value.message("en")
    assert "--encoding cp1252" in message and "line 2" in message and "latin-1" not in message
    assert importer(db, clock).run(path, encoding="cp1252").added == 1
    assert reports(db)[0]["description"] == "“Api” – kata Bu Siti"


# --- Errors stream --------------------------------------------------------------------------


def test_the_first_hundred_errors_are_listed_and_the_rest_counted(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "".join(f"2019-02-30,kebakaran,Bahu,Asap {n},menunggu\n" for n in range(250))
    path = write(tmp_path, f"{HEADER}\n{rows}")
    code, _out, err = run_cli(db_path, capsys, "import", str(path))
    assert code == 2
    listed = [line for line in err.splitlines() if line.startswith("  line ")]
    assert len(listed) == SHOWN_BAD == 100
    assert listed[0].startswith("  line 2: Date:") and "250 rows cannot be imported" in err
    assert "… and 150 more rows" in err


def _junk(path: Path, megabytes: int) -> Path:
    line = b"zz;;qq,\xc3\xa9t\xc3\xa9 " * 6 + b"\n"
    with path.open("wb") as out:
        out.write(b"tanggal,kategori,kelurahan,keterangan,status\n")
        for _ in range(megabytes * (1 << 20) // len(line)):
            out.write(line)
    return path


def test_memory_stays_flat_whatever_the_size_of_a_junk_file(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    def peak(path: Path) -> tuple[int, int]:
        tracemalloc.start()
        try:
            result = importer(db, clock).run(path)
            return tracemalloc.get_traced_memory()[1], result.bad_count
        finally:
            tracemalloc.stop()

    small, small_bad = peak(_junk(tmp_path / "small.csv", 1))
    large, large_bad = peak(_junk(tmp_path / "large.csv", 6))
    assert large_bad > 5 * small_bad > 0  # every row was read and counted …
    assert large < 1.5 * small, (small, large)  # … in the same memory


def test_dry_run_checks_and_writes_nothing(
    db: Database, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n2019-03-01,kebakaran,Bahu,Asap,menunggu\n2019-03-02,kebakaran,Bahu,Api,selesai\n",
    )

    def counts() -> tuple[int, int]:
        with db.read() as conn:
            return (
                conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(AUDIT)).scalar_one(),
            )

    before = counts()
    code, out, _ = run_cli(db_path, capsys, "import", "--dry-run", str(path))
    assert code == 0 and "Dry run, nothing written: 2 would be imported" in out
    assert counts() == before


# --- History --------------------------------------------------------------------------------


def test_rows_older_than_the_backlog_age_are_archived_and_stay_out_of_the_queue(
    db_path: Path,
    db: Database,
    clock: MutableClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    recent = (clock() - timedelta(days=2)).strftime("%d/%m/%Y")
    path = write(
        tmp_path,
        f"{HEADER}\n01/03/2019,kebakaran,Bahu,Lama,menunggu\n{recent},kebakaran,Bahu,Baru,menunggu\n",
    )
    result = importer(db, clock).run(path)
    assert (result.added, result.archived) == (2, 1)
    assert [r.description for r in QueueService(db).open_reports().rows] == ["Baru"]
    assert compute_statistics(db, Period.all(), clock=clock).total == 2
    # --history archives every row; the command says how many.
    again = write(tmp_path, f"{HEADER}\n{recent},kecelakaan,Bahu,Tabrakan,menunggu\n", "new.csv")
    code, out, _ = run_cli(db_path, capsys, "import", "--history", str(again))
    assert code == 0 and "1 of them archived as history" in out
    assert QueueService(db).open_count() == 1


def test_a_handled_row_without_an_agency_counts_as_not_named(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f"{HEADER},agency\n2019-03-01,kebakaran,Bahu,Asap,ditangani,\n2019-03-02,kebakaran,Bahu,Api,ditangani,damkar\n",
    )
    assert importer(db, clock).run(path).added == 2
    figures = compute_statistics(db, Period.year(2019), clock=clock)
    assert [(a.code, a.forwarded) for a in figures.agencies] == [
        ("damkar", 1),
        ("tidak-disebut", 1),
    ]


def test_imported_history_leaves_live_medians_alone_and_says_what_it_covers(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    service = ReportService(db, operator="ani", clock=clock)
    live = service.create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="Api", answered_at=clock.now)
    )
    clock.advance(minutes=4)
    service.forward(live.id, "damkar")
    clock.advance(minutes=1)
    path = write(
        tmp_path,
        f"{HEADER}\n2026-11-27,kebakaran,Bahu,Asap,ditangani\n2026-11-27,kebakaran,Bahu,Api,selesai\n",
    )
    importer(db, clock).run(path)
    figures = compute_statistics(db, Period.all(), clock=clock)
    forwarded = figures.interval("saved_to_forwarded")
    assert (forwarded.count, forwarded.median) == (1, 240.0)  # the live report only, not 0 s
    assert figures.interval("forwarded_to_done").count == 0
    rows = [
        r
        for r in figure_rows(figures)
        if r["section"] == "interval" and r["key"] == "forwarded_to_done"
    ]
    assert all(r["median_seconds"] == "" and r["count"] == 0 for r in rows)  # CSV: empty, never 0.0
    data = figures.to_dict()
    assert all(
        i["median_seconds"] is None
        for i in data["intervals"]
        if i["interval"] == "forwarded_to_done"
    )
    # The calls table covers what was recorded: one call, two reports without one.
    assert (figures.calls_total, figures.reports_without_calls) == (1, 2)
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(CALL)).scalar_one() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(REFERRAL)).scalar_one() == 2


def test_stats_table_shows_unknown_as_a_dash_with_coverage_and_no_claim_on_calls(
    db_path: Path,
    db: Database,
    clock: MutableClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write(tmp_path, f"{HEADER}\n2019-03-01,kebakaran,Bahu,Asap,ditangani\n")
    importer(db, clock).run(path)
    code, out, _ = run_cli(db_path, capsys, "stats", "--year", "2019")
    assert code == 0
    assert "0s / 0s" not in out and "– / –" in out and "n=0" in out
    assert "1 reports of this period have no call on record" in out
    assert "(not named in the source)" in out
    assert "100 %" not in out.split("Calls answered")[1]
