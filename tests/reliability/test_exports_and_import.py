"""Hostile input in and out of files: CSV import, and every export format read back.

Imports: every case that fits the minimal layout (category, kelurahan, address,
description, date) is one row of a CSV file; it is imported and stored as
``clean_text`` leaves it, or refused with the row's line and field. Files in the wrong
encoding and with missing, extra or reordered columns are refused in a sentence or
read correctly, never guessed at.

Exports: every accepted case is filed and exported as CSV, as CSV for Excel, and as
xlsx (read back with openpyxl), masked and with personal data, plus the statistics:
no cell a spreadsheet would run as a formula, and each text found as it was stored.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from siaga_tui.core.db import Database
from siaga_tui.core.i18n import translate
from siaga_tui.services.export import DANGEROUS_LEADS, NEUTRALISER
from siaga_tui.services.reports import NewReport, ReportService
from tests.reliability.conftest import (
    CASES,
    Case,
    assert_no_traceback,
    assert_terminal_safe,
    case_params,
)
from tests.reliability.test_hostile_input import BASE, REPORT_CASES, report_values

MINIMAL_HEADER = ["date", "category", "kelurahan", "address", "description", "status"]
MINIMAL_ROW = {
    "date": "2019-03-01", "category": "kebakaran", "kelurahan": "Bahu",
    "address": "Jl. Babe Palar", "description": "Rumah terbakar", "status": "menunggu",
}  # fmt: skip
IMPORT_CASES = [c for c in CASES if c.field in MINIMAL_HEADER]
#: Where each minimal-layout field ends up in the export.
EXPORT_COLUMN = {"kelurahan": "kelurahan_code", "date": "created_at"}


def write_csv(
    path: Path, header: list[str], rows: list[dict[str, str]], *, encoding: str = "utf-8"
) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def exported_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a CSV (plain or --excel) or xlsx export, as dicts of cell values."""
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path)
        rows: list[dict[str, Any]] = []
        for sheet in book.worksheets:
            cells = list(sheet.iter_rows())
            for row in cells:
                for cell in row:
                    assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
            values = [[cell.value for cell in row] for row in cells]
            if values:
                rows += [dict(zip(values[0], row, strict=False)) for row in values[1:]]
        return rows
    raw = path.read_bytes()
    excel = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))


def assert_no_formula(rows: list[dict[str, Any]], *, xlsx: bool = False) -> None:
    """In CSV a would-be formula carries the quote; in xlsx text cells are text (checked
    cell by cell in ``exported_rows``: no formula) and carry no visible quote."""
    if xlsx:
        return
    for row in rows:
        for column, value in row.items():
            for cell in (column, value):
                if isinstance(cell, str) and cell.startswith(DANGEROUS_LEADS):
                    assert cell.startswith(NEUTRALISER), (
                        f"{column}: {cell!r} would be run as a formula"
                    )


def shown_in_export(value: str, *, xlsx: bool = False) -> str:
    """A text as the export shows it: as stored in xlsx (a text cell), quoted in CSV
    when it would be a formula, also after leading spaces."""
    if xlsx:
        return value
    return NEUTRALISER + value if value.lstrip(" \u00a0").startswith(DANGEROUS_LEADS) else value


# --- Import ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params(IMPORT_CASES))
def test_import(case: Case, cli: Any, db_path: Path, tmp_path: Path) -> None:
    row = dict(MINIMAL_ROW, **{case.field: case.text})
    source = write_csv(tmp_path / "laporan.csv", MINIMAL_HEADER, [row])
    code, out, err = cli("import", str(source))
    assert_no_traceback(out + err)
    assert_terminal_safe(out + err)
    if case.expect_import == "file-refused":
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        return
    if not case.accepted:
        assert code == 2, (out, err[:300])
        assert len(err) < 2000
        assert re.search(r" \d+: ", err), err[:300]  # the row's line
        assert case.field in err or translate(f"field_{case.field}") in err, err[:300]
        code, out, _ = cli("list", "--json")
        assert '"total": 0' in out
        return
    assert code == 0, err[:300]
    if case.field == "date":
        return
    target = tmp_path / "keluar.csv"
    code, _, err = cli("export", str(target))
    assert code == 0, err
    (exported,) = exported_rows(target)
    assert exported[EXPORT_COLUMN.get(case.field, case.field)] == shown_in_export(case.expected)


def test_import_refuses_latin_1_unless_told_and_then_reads_it_right(
    cli: Any, tmp_path: Path
) -> None:
    row = dict(MINIMAL_ROW, description="Ibu Ñoñí Rénaldo, Mañado")
    source = write_csv(tmp_path / "latin.csv", MINIMAL_HEADER, [row], encoding="latin-1")
    code, out, err = cli("import", str(source))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    # names the line of the first bad byte and the way out: Excel's Windows encoding
    assert "cp1252" in err and " 2" in err
    code, out, err = cli("import", "--encoding", "cp1252", str(source))
    assert code == 0, err
    # A row of 2019 is history: archived, so it is in the exports, not the live list.
    code, out, err = cli("export", "-")
    assert code == 0 and "Ibu Ñoñí Rénaldo, Mañado" in out


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-8"])
def test_import_reads_utf_16_and_utf_8_with_or_without_bom(
    cli: Any, tmp_path: Path, encoding: str
) -> None:
    row = dict(MINIMAL_ROW, description="Ibu Ñoñí 🔥 王小明")
    source = write_csv(tmp_path / "laporan.csv", MINIMAL_HEADER, [row], encoding=encoding)
    code, _, err = cli("import", str(source))
    assert code == 0, err
    target = tmp_path / "keluar.csv"
    assert cli("export", str(target))[0] == 0
    assert exported_rows(target)[0]["description"] == "Ibu Ñoñí 🔥 王小明"


def test_import_refuses_utf_16_without_its_mark(cli: Any, tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "laporan.csv", MINIMAL_HEADER, [MINIMAL_ROW], encoding="utf-16-le"
    )
    code, _, err = cli("import", str(source))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "UTF-16" in err


@pytest.mark.parametrize(
    ("header", "accepted", "named"),
    [
        pytest.param(
            ["date", "category", "description", "status"], False, "kelurahan", id="missing-column"
        ),
        pytest.param([*MINIMAL_HEADER, "catatan_rahasia"], True, None, id="extra-column"),
        pytest.param(list(reversed(MINIMAL_HEADER)), True, None, id="reordered-columns"),
        pytest.param(
            ["Tanggal", "Kategori", "KELURAHAN", "Alamat", "Uraian", "Status"],
            True,
            None,
            id="indonesian-headers",
        ),
        pytest.param(
            ["date", "date", "category", "kelurahan", "description", "status"],
            False,
            "date",
            id="duplicate-column",
        ),
    ],
)
def test_import_columns(
    cli: Any, tmp_path: Path, header: list[str], accepted: bool, named: str | None
) -> None:
    canonical = {
        "tanggal": "date",
        "kategori": "category",
        "alamat": "address",
        "uraian": "description",
    }
    row = [MINIMAL_ROW.get(canonical.get(h.lower(), h.lower()), "x") for h in header]
    source = tmp_path / "laporan.csv"
    source.write_text(",".join(header) + "\r\n" + ",".join(row) + "\r\n", encoding="utf-8")
    code, out, err = cli("import", str(source))
    assert_no_traceback(out + err)
    if accepted:
        assert code == 0, err
    else:
        assert code == 2, out
        assert len(err.strip().splitlines()) == 1, err
        assert named in err


def test_import_of_a_binary_or_empty_file_is_refused_in_one_line(cli: Any, tmp_path: Path) -> None:
    for content in (b"", b"\x00\x01\x02PK\x03\x04" * 100, b"\xff\xfe\x00"):
        source = tmp_path / "x.csv"
        source.write_bytes(content)
        code, out, err = cli("import", str(source))
        assert code == 2, (content[:10], out, err)
        assert_no_traceback(err)
        assert len(err.strip().splitlines()) == 1, err


# --- Exports --------------------------------------------------------------------------


@pytest.fixture
def hostile_database(db: Database) -> list[Case]:
    """Every accepted report case filed, forwarded and (one in three) closed."""
    desk = ReportService(db, operator="=rel+1")
    filed = []
    for n, case in enumerate(c for c in REPORT_CASES if c.accepted and c.field != "note"):
        saved = desk.create_report(NewReport(**report_values(case)))
        desk.forward(saved.id, "damkar", agency_ref='=HYPERLINK("x")' if n % 2 else None)
        if n % 3 == 0:
            desk.change_status(saved.id, "selesai", note="@SUM(1)")
        filed.append(case)
    return filed


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(("laporan.csv",), id="csv"),
        pytest.param(("laporan.csv", "--excel"), id="csv-excel"),
        pytest.param(("laporan.xlsx",), id="xlsx"),
        pytest.param(("laporan.csv", "--include-personal-data"), id="csv-personal"),
        pytest.param(
            ("laporan.csv", "--excel", "--include-personal-data"), id="csv-excel-personal"
        ),
        pytest.param(("laporan.xlsx", "--include-personal-data"), id="xlsx-personal"),
        pytest.param(("statistik.csv", "--stats", "--year", "2026"), id="stats-csv"),
        pytest.param(
            ("statistik.csv", "--stats", "--excel", "--year", "2026"), id="stats-csv-excel"
        ),
        pytest.param(("statistik.xlsx", "--stats", "--year", "2026"), id="stats-xlsx"),
    ],
)
def test_every_export_format_holds_no_formula_and_the_text_as_stored(
    hostile_database: list[Case],
    cli: Any,
    tmp_path: Path,
    options: tuple[str, ...],
    figures: dict[str, Any],
) -> None:
    target = tmp_path / options[0]
    code, _out, err = cli("export", str(target), *options[1:])
    assert code == 0, err
    assert_no_traceback(err)
    rows = exported_rows(target)
    assert_no_formula(rows, xlsx=target.suffix == ".xlsx")
    figures.update(rows=len(rows))
    if "--stats" in options:
        return
    assert len(rows) == len(hostile_database)
    personal = "--include-personal-data" in options
    for case, row in zip(
        hostile_database, sorted(rows, key=lambda r: str(r["number"])), strict=True
    ):
        column = {"phone": "caller_phone", "kelurahan": "kelurahan_code"}.get(
            case.field, case.field
        )
        if column not in row:  # masked: no name, phone shown masked
            assert not personal
            continue
        shown = row[column] if row[column] is not None else ""
        expected = case.expected
        if column == "caller_phone" and expected:
            continue  # shown in the national format; its safety is checked above
        assert shown == shown_in_export(expected, xlsx=target.suffix == ".xlsx"), (case.id, shown)


def test_an_export_imports_back_to_the_same_text(
    hostile_database: list[Case], cli: Any, tmp_path: Path
) -> None:
    target = tmp_path / "laporan.csv"
    assert cli("export", str(target), "--include-personal-data")[0] == 0
    before = exported_rows(target)
    second = tmp_path / "kedua.db"  # a new, empty database
    code, _out, err = cli.at(second, "import", str(target))
    assert code == 0, err
    again = tmp_path / "lagi.csv"
    assert cli.at(second, "export", str(again), "--include-personal-data")[0] == 0
    after = exported_rows(again)
    for column in ("description", "address", "caller_name", "kelurahan_code", "category", "status"):
        assert sorted(str(r[column]) for r in before) == sorted(str(r[column]) for r in after), (
            column
        )


# --- The export destination cannot be written -------------------------------------------


def test_export_to_a_missing_folder_or_a_folder_is_one_line(
    db: Database, cli: Any, tmp_path: Path
) -> None:
    ReportService(db, operator="rel").create_report(NewReport(**BASE))
    for target in (tmp_path / "gone" / "x.csv", tmp_path, tmp_path / "gone" / "x.xlsx"):
        code, out, err = cli("export", str(target))
        assert code == 2, (target, out, err)
        assert_no_traceback(err)
        assert len(err.strip().splitlines()) == 1, err


def test_export_into_a_read_only_folder_is_one_line_and_keeps_the_old_file(db: Database) -> None:
    import tempfile

    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    ReportService(db, operator="rel").create_report(NewReport(**BASE))
    folder = Path(tempfile.mkdtemp(prefix="siaga-export-"))
    try:
        old = folder / "laporan.csv"
        old.write_text("previous export\n", encoding="utf-8")
        shutil.copyfile(db.path, folder / "siaga112.db")  # type: ignore[arg-type]
        folder.chmod(0o555)
        for target in (old, folder / "baru.xlsx"):
            result = subprocess.run(
                [
                    setpriv,
                    "--bounding-set=-dac_override,-dac_read_search,-fowner",
                    "--",
                    sys.executable,
                    "-m",
                    "siaga_tui",
                    "--db",
                    str(db.path),
                    "export",
                    str(target),
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode != 0, result.stdout
            assert_no_traceback(result.stderr)
            assert_terminal_safe(result.stderr)
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert old.read_text(encoding="utf-8") == "previous export\n"
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
