"""``siaga112 import``: round trip through the export, every bad row, encodings, twice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from siaga_tui.cli import main
from siaga_tui.core.db import Database, open_database
from siaga_tui.core.models import EVENT, REFERRAL, REPORT
from siaga_tui.services.events import replay
from siaga_tui.services.export import ExportFilter, atomic_text, write_reports_csv
from siaga_tui.services.importer import Importer, ImportRefused
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import MutableClock
from tests.test_export import file_reports, run

HEADER = "date,category,kelurahan,description,status"


def importer(db: Database, clock: MutableClock) -> Importer:
    return Importer(db, operator="sri", clock=clock)


def write(tmp_path: Path, text: str, name: str = "old.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def report_facts(db: Database) -> list[tuple[object, ...]]:
    """What must survive the round trip, report by report."""
    with db.read() as conn:
        rows = (
            conn.execute(sa.select(REPORT).order_by(REPORT.c.created_at, REPORT.c.id))
            .mappings()
            .all()
        )
        agencies = {
            r["id"]: [a for (a,) in conn.execute(
                sa.select(REFERRAL.c.agency).where(REFERRAL.c.report_id == r["id"]).order_by(REFERRAL.c.id))]
            for r in rows
        }  # fmt: skip
        numbers = {r["id"]: r["number"] for r in rows}
    return [
        (
            r["number"], r["category"], r["kind"], r["priority"], r["status"], r["kelurahan_code"],
            r["kecamatan_code"], r["address"], r["description"], r["operator"], r["caller_phone"],
            r["caller_name"], *(_second(r[c]) for c in (
                "created_at", "call_answered_at", "first_forwarded_at", "first_acknowledged_at", "closed_at")),
            tuple(agencies[r["id"]]), numbers.get(r["duplicate_of"]),
        )
        for r in rows
    ]  # fmt: skip


def _second(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(microsecond=0)


def export_file(db: Database, path: Path, *, excel: bool = False, personal: bool = True) -> Path:
    with atomic_text(path, "utf-8-sig" if excel else "utf-8") as out:
        write_reports_csv(db, out, ExportFilter(), excel=excel, personal=personal)
    return path


@pytest.mark.parametrize("excel", [False, True])
def test_round_trip_through_the_export(
    db: Database, clock: MutableClock, tmp_path: Path, excel: bool
) -> None:
    numbers = file_reports(db, clock)
    service = ReportService(db, operator="ani", clock=clock)
    copy = service.create_report(
        NewReport(
            category="kebakaran",
            kelurahan="Paal 4",
            description="'Asap' kata pelapor",
            phone="0812-3456-7890",
        )
    )
    clock.advance(minutes=1)
    service.mark_duplicate(copy.id, numbers[0])
    # The originals, as the export can carry them: whole seconds, and a tab or CR cleaned.
    with db.write() as conn:
        conn.execute(sa.update(REPORT).values(address=sa.func.ltrim(REPORT.c.address, "\t\r")))
    path = export_file(db, tmp_path / "export.csv", excel=excel)
    fresh = open_database(tmp_path / "fresh.db")
    try:
        result = importer(fresh, clock).run(path)
        assert (result.layout, result.added, result.already, result.bad) == ("export", 4, 0, ())
        assert report_facts(fresh) == report_facts(db)
        with fresh.read() as conn:
            keys = [
                k for (k,) in conn.execute(sa.select(REPORT.c.import_key).order_by(REPORT.c.id))
            ]
            assert keys == [*numbers, "112-2026-000004"]
            # The history is the service's: every report's events replay to its row.
            for row in conn.execute(sa.select(REPORT)).mappings():
                events = [
                    (e.kind, e.at, e.details)
                    for e in conn.execute(
                        sa.select(EVENT).where(EVENT.c.report_id == row["id"]).order_by(EVENT.c.id)
                    )
                ]
                state = replay(events)
                assert state.status == row["status"] and len(events) == row["version"]
        again = importer(fresh, clock).run(path)
        assert (again.added, again.already) == (0, 4)
    finally:
        fresh.dispose()


def test_masked_export_imports_without_personal_data(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    file_reports(db, clock)
    path = export_file(db, tmp_path / "masked.csv", personal=False)
    fresh = open_database(tmp_path / "fresh.db")
    try:
        assert importer(fresh, clock).run(path).added == 3
        with fresh.read() as conn:
            assert conn.execute(
                sa.select(REPORT.c.caller_phone, REPORT.c.caller_name).distinct()
            ).all() == [(None, None)]
    finally:
        fresh.dispose()


def test_minimal_layout_imports_and_closes_with_a_note(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "2019-03-01,kebakaran,Paal 4,Rumah terbakar,selesai\n"
        "02/03/2019,Air Bersih,Tumumpa I,Air mati,ditangani\n"
        "2019-03-03,71.71.10.1001,71.71.10.1001,Tiang miring,menunggu\n".replace(
            "71.71.10.1001,71.71.10.1001", "kelistrikan,71.71.10.1001"
        ),
    )
    result = importer(db, clock).run(path)
    assert (result.layout, result.added, result.bad) == ("minimal", 3, ())
    with db.read() as conn:
        rows = conn.execute(sa.select(REPORT).order_by(REPORT.c.created_at)).mappings().all()
        notes = [
            e.details.get("note")
            for e in conn.execute(sa.select(EVENT).where(EVENT.c.kind == "status_changed"))
        ]
        agency = conn.execute(
            sa.select(REFERRAL.c.agency).where(REFERRAL.c.report_id == rows[1]["id"])
        ).scalar()
    assert [r["status"] for r in rows] == ["selesai", "ditangani", "menunggu"]
    assert rows[0]["created_at"] == datetime(2019, 2, 28, 16, 0, tzinfo=UTC)  # 1 March 00:00 WITA
    assert rows[1]["category"] == "air-bersih" and rows[2]["kelurahan_code"] == "71.71.10.1001"
    assert notes == ["Diimpor dari old.csv"]
    # Handled, says the sheet, but not by whom: not named, never the category's agency.
    assert agency == "tidak-disebut"
    # The sheet gives only the day: no call, and every other moment unknown.
    assert all(
        (r["call_answered_at"], r["first_forwarded_at"], r["first_acknowledged_at"], r["closed_at"])
        == (None, None, None, None)
        for r in rows
    )
    assert [r["number"] for r in rows] == ["112-2019-000001", "112-2019-000002", "112-2019-000003"]


def test_importing_twice_adds_nothing_but_keeps_identical_rows(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n2019-03-01,kebakaran,Bahu,Asap,menunggu\n2019-03-01,kebakaran,Bahu,Asap,menunggu\n",
    )
    assert importer(db, clock).run(path).added == 2  # two callers, two reports
    second = importer(db, clock).run(path)
    assert (second.added, second.already) == (0, 2)
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar() == 2


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ("2019-02-30,kebakaran,Bahu,Asap,menunggu", "Date", "2019-02-30"),
        ("31/13/2019,kebakaran,Bahu,Asap,menunggu", "Date", "31/13/2019"),
        ("kemarin,kebakaran,Bahu,Asap,menunggu", "Date", "kemarin"),
        ("2030-01-01,kebakaran,Bahu,Asap,menunggu", "Date", "future"),
        ("2019-03-01,gempa,Bahu,Asap,menunggu", "Category", "gempa"),
        ("2019-03-01,kebakaran,Bunaken,Asap,menunggu", "Kelurahan", "Bunaken"),
        ("2019-03-01,kebakaran,Atlantis,Asap,menunggu", "Kelurahan", "Atlantis"),
        ("2019-03-01,kebakaran,Bahu,   ,menunggu", "What happened", ""),
        ("2019-03-01,kebakaran,Bahu,Asap,hilang", "Status", "hilang"),
        ("2019-03-01,kebakaran,Bahu,Asap", "Row", "4 cells"),
    ],
)
def test_every_bad_row_is_named_with_its_line(
    db: Database, clock: MutableClock, tmp_path: Path, row: str, field: str, words: str
) -> None:
    path = write(tmp_path, f"{HEADER}\n2019-03-01,kebakaran,Bahu,Baik,menunggu\n{row}\n")
    result = importer(db, clock).run(path)
    assert not result.written and result.added == 0
    assert [bad.line for bad in result.bad] == [3]
    message = result.bad[0].describe("en")
    assert message.startswith(field) and words in message, message
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar() == 0


def test_several_errors_in_one_row_are_all_named(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    path = write(tmp_path, f"{HEADER}\n2019-02-30,gempa,Bahu,Asap,hilang\n")
    (bad,) = importer(db, clock).run(path).bad
    assert [e.field for e in bad.errors] == ["date", "category", "status"]


def test_skip_bad_writes_the_good_rows_and_lists_the_bad(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n2019-03-01,kebakaran,Bahu,Satu,menunggu\n2019-02-30,kebakaran,Bahu,Dua,menunggu\n"
        "2019-03-02,kebakaran,Bahu,Tiga,selesai\n",
    )
    result = importer(db, clock).run(path, skip_bad=True)
    assert (result.written, result.added, [b.line for b in result.bad]) == (True, 2, [3])


def test_header_problems_name_the_column(db: Database, clock: MutableClock, tmp_path: Path) -> None:
    cases = {
        "date,category,kelurahan,status\n2019-03-01,kebakaran,Bahu,menunggu\n": "description",
        f"{HEADER},date\n": "date",
    }
    for text, column in cases.items():
        with pytest.raises(ImportRefused) as caught:
            importer(db, clock).run(write(tmp_path, text))
        assert column in caught.value.message("en")


def test_reordered_columns_and_indonesian_headers_are_read_by_name(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "status;Keterangan;Kategori;kelurahan;Tanggal\nselesai;Asap;kebakaran;Bahu;01/03/2019\n",
    )
    assert importer(db, clock).run(path).added == 1
    with db.read() as conn:
        assert conn.execute(sa.select(REPORT.c.description, REPORT.c.status)).one() == (
            "Asap",
            "selesai",
        )


def test_encodings(db: Database, clock: MutableClock, tmp_path: Path) -> None:
    text = f"{HEADER}\n2019-03-01,kebakaran,Bahu,Api di rumah Pak José,menunggu\n"
    # Latin-1 is refused with the line of the first bad byte and the way out …
    latin = write(tmp_path, text, "latin.csv", "latin-1")
    with pytest.raises(ImportRefused) as caught:
        importer(db, clock).run(latin)
    assert "line 2" in caught.value.message("en") and "--encoding" in caught.value.message("en")
    # … and read when its encoding is named.
    assert importer(db, clock).run(latin, encoding="latin-1").added == 1
    # UTF-16 with its BOM (a spreadsheet's "Unicode text", tab-separated) is read.
    utf16 = write(tmp_path, text.replace(",", "\t").replace("José", "Josè"), "u16.csv", "utf-16")
    assert importer(db, clock).run(utf16).added == 1
    # UTF-16 without a BOM cannot be told apart safely: refused.
    bare = write(tmp_path, text, "bare.csv", "utf-16-le")
    with pytest.raises(ImportRefused):
        importer(db, clock).run(bare)
    with db.read() as conn:
        assert sorted(d for (d,) in conn.execute(sa.select(REPORT.c.description))) == [
            "Api di rumah Pak Josè",
            "Api di rumah Pak José",
        ]


def test_export_rows_with_an_impossible_lifecycle_are_refused(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    file_reports(db, clock)
    path = export_file(db, tmp_path / "e.csv")
    text = path.read_text(encoding="utf-8").replace(",ditangani,", ",menunggu,")
    result = importer(db, clock).run(write(tmp_path, text, "edited.csv"))
    # Line 4 is where the third report's record starts (its address holds a line break).
    assert [b.line for b in result.bad] == [4] and result.bad[0].errors[0].field == "status"


# --- The command -----------------------------------------------------------------------


def test_cli_import(db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(["--db", str(db_path), "--lang", "en", *args])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        return (code, *capsys.readouterr())

    bad = write(
        tmp_path,
        f"{HEADER}\n2019-03-01,kebakaran,Bahu,Asap,menunggu\n2019-02-30,kebakaran,Bunaken,Asap,menunggu\n",
    )
    code, out, err = run("import", str(bad))
    assert code == 2 and "nothing was written" in err
    assert "line 3: Date: invalid date: 2019-02-30" in err
    assert "Bunaken" in err
    code, out, err = run("import", str(bad), "--skip-bad")
    assert code == 0 and "1 reports imported" in out and "line 3" in err
    code, out, _ = run("import", str(bad), "--skip-bad")
    assert "0 reports imported" in out and "1 were already there" in out
    code, _, err = run("import", str(tmp_path / "nope.csv"))
    assert code == 2 and "does not exist" in err
    # A folder is there, and is no file: said so, not "does not exist".
    code, _, err = run("import", str(tmp_path))
    assert code == 2 and "is a folder" in err and "does not exist" not in err


def test_a_row_the_service_refuses_while_writing(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    numbers = file_reports(db, clock)
    text = export_file(db, tmp_path / "e.csv").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    # The first report "a duplicate of itself": only the service, while writing, can tell.
    lines[1] = (
        lines[1]
        .replace(",selesai,", ",selesai,")
        .replace(",'@SUM(1),,", f",'@SUM(1),{numbers[0]},")
    )
    edited = write(tmp_path, "".join(lines), "self.csv")
    fresh = open_database(tmp_path / "fresh.db")
    try:
        with pytest.raises(ImportRefused) as caught:
            importer(fresh, clock).run(edited)
        assert "Line 2" in caught.value.message("en")
        result = importer(fresh, clock).run(edited, skip_bad=True)
        assert (result.added, [b.line for b in result.bad]) == (2, [2])
    finally:
        fresh.dispose()


def test_import_on_both_engines(
    any_db: Database, db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    file_reports(db, clock)
    with db.write() as conn:  # what the sanitiser keeps (see the round trip above)
        conn.execute(sa.update(REPORT).values(address=sa.func.ltrim(REPORT.c.address, "\t\r")))
    path = export_file(db, tmp_path / "e.csv")
    result = importer(any_db, clock).run(path, skip_bad=True)
    assert (result.added, result.bad) == (3, ())
    assert report_facts(any_db) == report_facts(db)
    assert importer(any_db, clock).run(path).already == 3


def _written(path: Path) -> tuple[int, int, int]:
    """Reports, calls and audit entries in the database at ``path``."""
    from siaga_tui.core.models import AUDIT, CALL

    database = open_database(path)
    try:
        with database.read() as conn:
            return tuple(  # type: ignore[return-value]
                conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in (REPORT, CALL, AUDIT)
            )
    finally:
        database.dispose()


def test_an_import_of_several_files_is_all_or_nothing(
    db: Database,
    clock: MutableClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every file is checked before any is written: a bad row in the calls file, or a
    calls file that cannot be read, writes nothing from the good reports file either,
    and the error names the file and the line."""
    file_reports(db, clock)
    source = Path(str(db.path))
    reports_csv, calls_csv = tmp_path / "reports.csv", tmp_path / "calls.csv"
    assert run(source, capsys, "export", str(reports_csv))[0] == 0
    assert run(source, capsys, "export", "--calls", str(calls_csv))[0] == 0
    good_calls = calls_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(good_calls) >= 3
    header = good_calls[0].split(",")
    cells = good_calls[2].split(",")
    cells[header.index("disposition")] = "entah"
    bad_calls = write(
        tmp_path, "".join([*good_calls[:2], ",".join(cells), *good_calls[3:]]), "bad-calls.csv"
    )
    target = tmp_path / "target.db"
    code, out, err = run(target, capsys, "import", str(reports_csv), str(bad_calls))
    assert code == 2 and out == ""
    assert "bad-calls.csv: 1 rows cannot be imported; nothing was written from any" in err
    assert "line 3: Call type: Unknown value 'entah'" in err, err
    assert _written(target)[:2] == (0, 0)
    # A file refused whole (a column missing) is named, and stops the good one too.
    headless = write(tmp_path, "".join(good_calls).replace("disposition", "kind", 1), "odd.csv")
    code, out, err = run(target, capsys, "import", str(reports_csv), str(headless))
    assert code == 2 and "odd.csv: The column" in err and out == ""
    assert _written(target)[:2] == (0, 0)
    # The good pair imports whole.
    code, out, err = run(target, capsys, "import", str(reports_csv), str(calls_csv))
    assert code == 0, err
    assert _written(target)[:2] == (3, len(good_calls) - 1)


def test_an_import_that_adds_nothing_says_nothing_of_archiving(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, f"{HEADER}\n2019-03-01,kebakaran,Bahu,Asap,menunggu\n")
    code, out, _ = run(db_path, capsys, "import", str(path))
    assert code == 0 and "1 of them archived as history" in out
    code, out, _ = run(db_path, capsys, "import", str(path))
    assert code == 0 and "0 reports imported" in out and "1 were already there" in out
    assert "archived" not in out, out
