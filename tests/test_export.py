"""``siaga112 export``: columns, formula neutralising, masking, Excel flavour, xlsx, files."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from siaga_tui.cli import main
from siaga_tui.core.db import Database
from siaga_tui.core.errors import InvalidInput
from siaga_tui.core.models import AUDIT, REPORT
from siaga_tui.core.phones import mask_phone, normalize_phone
from siaga_tui.services import export as export_service
from siaga_tui.services.audit import Action
from siaga_tui.services.export import (
    BASE_COLUMNS,
    ExportFilter,
    atomic_text,
    columns,
    write_reports_csv,
    write_reports_xlsx,
)
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.services.stats import Period
from tests.conftest import MutableClock

#: Caller text a spreadsheet would run as a formula (or that shifts cells), and where it goes.
DANGEROUS = {
    "description": "=cmd|' /C calc'!A0",
    "address": "+1+1",
    "caller_name": "-2",
    "operator": "@SUM(1)",
}
LEADS = ("=", "+", "-", "@", "\t", "\r")


def file_reports(db: Database, clock: MutableClock) -> list[str]:
    """Three reports: a dangerous one (closed, two agencies), one waiting, one handled."""
    service = ReportService(db, operator="ani", clock=clock)
    first = service.create_report(
        NewReport(
            category="kebakaran",
            kelurahan="Paal 4",
            description=DANGEROUS["description"],
            phone="0812-3456-7890",
            caller_name=DANGEROUS["caller_name"],
            address=DANGEROUS["address"],
            answered_at=clock.now.replace(second=0),
        )
    )
    clock.advance(minutes=2)
    referral = service.forward(first.id, "damkar")
    service.forward(first.id, "pln")
    clock.advance(minutes=3)
    service.acknowledge(first.id, referral)
    clock.advance(hours=1)
    service.change_status(first.id, "selesai", note="Api padam")
    clock.advance(minutes=5)
    second = service.create_report(
        NewReport(
            category="kelistrikan",
            kelurahan="71.71.10.1001",
            description="Tiang miring",
            phone="(0431) 864444",
        )
    )
    clock.advance(minutes=5)
    third = service.create_report(
        NewReport(
            category="kecelakaan",
            kelurahan="Bahu",
            description="Tabrakan motor",
            caller_name="Budi Santoso",
        )
    )
    service.forward(third.id, "polresta")
    with db.write() as conn:
        conn.execute(
            sa.update(REPORT).where(REPORT.c.id == first.id).values(operator=DANGEROUS["operator"])
        )
        # Old data may hold what today's sanitiser would clean: a leading tab or CR.
        conn.execute(
            sa.update(REPORT).where(REPORT.c.id == second.id).values(address="\tJl. Sam Ratulangi")
        )
        conn.execute(sa.update(REPORT).where(REPORT.c.id == third.id).values(address="\rLorong 3"))
    return [first.number, second.number, third.number]


def export_rows(db: Database, **options: object) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    write_reports_csv(db, out, ExportFilter(), **options)  # type: ignore[arg-type]
    delimiter = ";" if options.get("excel") else ","
    return list(csv.DictReader(io.StringIO(out.getvalue(), newline=""), delimiter=delimiter))


def test_columns_and_values(db: Database, clock: MutableClock) -> None:
    numbers = file_reports(db, clock)
    rows = export_rows(db)
    assert [r["number"] for r in rows] == numbers
    assert list(rows[0]) == [*BASE_COLUMNS, "caller_phone_masked", "caller_name_initial"]
    first = rows[0]
    # 28 Nov 2026 10:00 WITA is 02:00 UTC: the export speaks WITA with its offset.
    assert first["created_at"] == "2026-11-28T10:00:00+08:00"
    assert first["answered_at"] == "2026-11-28T10:00:00+08:00"
    assert first["forwarded_at"] == "2026-11-28T10:02:00+08:00"
    assert first["acknowledged_at"] == "2026-11-28T10:05:00+08:00"
    assert first["closed_at"] == "2026-11-28T11:05:00+08:00"
    assert datetime.fromisoformat(first["closed_at"]).utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
    assert (first["category"], first["category_label"], first["kind"]) == (
        "kebakaran",
        "Kebakaran",
        "darurat",
    )
    assert (first["kelurahan_code"], first["kelurahan"]) == ("71.71.05.1010", "Paal IV")
    assert (first["kecamatan_code"], first["kecamatan"]) == ("71.71.05", "Tikala")
    assert first["agencies"] == "damkar, pln"
    assert first["status"] == "selesai" and first["priority"] == "1"
    assert first["answer_to_saved_s"] == "0"
    assert first["saved_to_forwarded_s"] == "120"
    assert first["forwarded_to_acknowledged_s"] == "180"
    assert first["forwarded_to_done_s"] == "3780"
    second = rows[1]
    assert (second["kelurahan"], second["kecamatan"]) == ("Bunaken", "Bunaken Kepulauan")
    assert (
        second["agencies"] == ""
        and second["forwarded_at"] == ""
        and second["saved_to_forwarded_s"] == ""
    )


def test_duplicate_of_is_the_original_number(db: Database, clock: MutableClock) -> None:
    numbers = file_reports(db, clock)
    service = ReportService(db, operator="ani", clock=clock)
    copy = service.create_report(
        NewReport(category="kebakaran", kelurahan="Paal 4", description="Asap")
    )
    service.mark_duplicate(copy.id, numbers[0])
    assert export_rows(db)[-1]["duplicate_of"] == numbers[0]


@pytest.mark.parametrize("excel", [False, True])
@pytest.mark.parametrize("personal", [False, True])
def test_every_dangerous_lead_is_neutralised_in_csv(
    db: Database, clock: MutableClock, excel: bool, personal: bool
) -> None:
    file_reports(db, clock)
    rows = export_rows(db, excel=excel, personal=personal)
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell.startswith(LEADS)]
    first = rows[0]
    assert first["description"] == "'" + DANGEROUS["description"]
    assert first["address"] == "'" + DANGEROUS["address"]
    assert first["operator"] == "'" + DANGEROUS["operator"]
    assert rows[1]["address"] == "'\tJl. Sam Ratulangi"
    assert rows[2]["address"] == "'\rLorong 3"
    if personal:
        assert first["caller_name"] == "'" + DANGEROUS["caller_name"]


def test_neutralised_in_xlsx(db: Database, clock: MutableClock, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    file_reports(db, clock)
    path = tmp_path / "r.xlsx"
    write_reports_xlsx(db, path, ExportFilter(), personal=True)
    sheet = openpyxl.load_workbook(path).active
    values = [
        cell.value
        for row in sheet.iter_rows(min_row=2)
        for cell in row
        if isinstance(cell.value, str)
    ]
    # Text cells are text, exactly as typed: no visible quote (the CSV rule is for CSV).
    assert DANGEROUS["description"] in values
    assert not [v for v in values if v.startswith("'") and v[1:].lstrip().startswith(LEADS)]
    # No cell is a formula: openpyxl reports formulas as data_type "f".
    assert not [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


def test_phones_and_names_masked_by_default(db: Database, clock: MutableClock) -> None:
    file_reports(db, clock)
    rows = export_rows(db)
    assert rows[0]["caller_phone_masked"] == "0812-****-7890"
    assert rows[0]["caller_phone_masked"] == mask_phone(normalize_phone("0812-3456-7890"))
    assert rows[1]["caller_phone_masked"] == "****4444"
    assert rows[2]["caller_phone_masked"] == ""
    assert [r["caller_name_initial"] for r in rows] == ["'-.", "", "B."]
    text = "\n".join(",".join(r.values()) for r in rows)
    assert "3456" not in text and "Santoso" not in text and "864444" not in text


@pytest.mark.parametrize(
    "phone", ["081234567890", "0852-9876-5432", "+62 811 2233 4455", "0813-1234-5678"]
)
def test_sql_mask_matches_the_screen_for_mobiles(
    db: Database, clock: MutableClock, phone: str
) -> None:
    ReportService(db, operator="ani", clock=clock).create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="x", phone=phone)
    )
    assert export_rows(db)[0]["caller_phone_masked"] == mask_phone(normalize_phone(phone))


def test_full_personal_data_kept_as_text(db: Database, clock: MutableClock) -> None:
    file_reports(db, clock)
    service = ReportService(db, operator="ani", clock=clock)
    service.create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="x", phone="+44 20 7946 0958")
    )
    rows = export_rows(db, personal=True)
    assert [r["caller_phone"] for r in rows] == [
        "0812-3456-7890",
        "(0431) 864444",
        "",
        "'+44 20 7946 0958",
    ]
    assert rows[2]["caller_name"] == "Budi Santoso"
    # Kept as text by spreadsheets: leading 0 with separators, never a bare number.
    phones = [r["caller_phone"] for r in rows if r["caller_phone"]]
    assert all(p.startswith(("0", "(0", "'")) and not p.isdigit() and "E+" not in p for p in phones)


def test_excel_flavour_reads_back_with_bom_semicolons(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    file_reports(db, clock)
    path = tmp_path / "r.csv"
    with atomic_text(path, "utf-8-sig") as out:
        write_reports_csv(db, out, ExportFilter(), excel=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert csv.Sniffer().sniff(text.split("\r\n", 1)[0], delimiters=";,").delimiter == ";"
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0]["agencies"] == "damkar, pln" and rows[0]["kelurahan"] == "Paal IV"
    assert "\r\n" in text


def test_stats_excel_uses_decimal_commas(db: Database, clock: MutableClock, tmp_path: Path) -> None:
    from siaga_tui.services.stats import compute_statistics

    service = ReportService(db, operator="ani", clock=clock)
    for seconds in (61, 62):  # median forwarding time 61.5 s
        report = service.create_report(
            NewReport(category="kebakaran", kelurahan="Bahu", description="x")
        )
        clock.advance(seconds=seconds)
        service.forward(report.id, "damkar")
    figures = compute_statistics(db, Period.all(), clock=clock)
    out = io.StringIO(newline="")
    export_service.write_stats_csv(figures, out, excel=True)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline=""), delimiter=";"))
    interval = next(
        r
        for r in rows
        if r["section"] == "interval" and r["key"] == "saved_to_forwarded" and r["kind"] == "all"
    )
    assert interval["median_seconds"] == "61,5"
    plain = io.StringIO(newline="")
    export_service.write_stats_csv(figures, plain)
    assert "61.5" in plain.getvalue()


def test_xlsx_has_typed_dates_frozen_header_and_autofilter(
    db: Database, clock: MutableClock, tmp_path: Path
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    file_reports(db, clock)
    path = tmp_path / "r.xlsx"
    assert write_reports_xlsx(db, path, ExportFilter()) == 3
    sheet = openpyxl.load_workbook(path).active
    header = [cell.value for cell in sheet[1]]
    assert header == list(columns(personal=False))
    created = sheet.cell(row=2, column=header.index("created_at") + 1)
    assert created.is_date and created.value == datetime(2026, 11, 28, 10, 0)  # WITA wall time
    assert sheet.cell(row=2, column=header.index("forwarded_to_done_s") + 1).value == 3780
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}4"
    assert sheet.column_dimensions["R"].width > 20  # the description is wide


def test_filters(db: Database, clock: MutableClock) -> None:
    numbers = file_reports(db, clock)

    def exported(**kwargs: object) -> list[str]:
        out = io.StringIO(newline="")
        write_reports_csv(db, out, ExportFilter(**kwargs))  # type: ignore[arg-type]
        return [r["number"] for r in csv.DictReader(io.StringIO(out.getvalue(), newline=""))]

    assert exported(statuses=("selesai",)) == numbers[:1]
    assert exported(kinds=("non_darurat",)) == numbers[1:2]
    assert exported(categories=("kecelakaan", "kelistrikan")) == numbers[1:]
    assert exported(agencies=("pln",)) == numbers[:1]
    assert exported(period=Period.year(2026)) == numbers
    assert exported(period=Period.year(2019)) == []


def test_bad_filter_values_name_the_field(db: Database) -> None:
    from siaga_tui.core.catalogue import load_catalogue

    with pytest.raises(InvalidInput) as caught:
        ExportFilter(statuses=("closed",), agencies=("nasa",)).checked(load_catalogue())
    assert caught.value.fields == ["status", "agency"]


# --- The command -----------------------------------------------------------------------


def run(db_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(["--db", str(db_path), "--lang", "en", "--operator", "sri", *args])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_the_file_and_records_personal_exports(
    db: Database,
    db_path: Path,
    clock: MutableClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file_reports(db, clock)
    target = tmp_path / "out.csv"
    code, _, err = run(db_path, capsys, "export", str(target), "--status", "selesai")
    assert code == 0 and "1 reports exported" in err
    assert len(target.read_text(encoding="utf-8").splitlines()) == 2
    with db.read() as conn:
        assert (
            conn.execute(sa.select(AUDIT).where(AUDIT.c.action == Action.EXPORT_PERSONAL)).first()
            is None
        )
    code, _, _ = run(
        db_path, capsys, "export", str(target), "--include-personal-data", "--year", "2026",
        "--force",
    )  # fmt: skip
    assert code == 0 and "0812-3456-7890" in target.read_text(encoding="utf-8")
    with db.read() as conn:
        entry = (
            conn.execute(sa.select(AUDIT).where(AUDIT.c.action == Action.EXPORT_PERSONAL))
            .mappings()
            .one()
        )
    assert entry["operator"] == "sri" and entry["subject"] == str(target.resolve())
    assert entry["details"]["rows"] == 3 and entry["details"]["period"] == "2026"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_cli_bad_input_is_one_line(
    db: Database, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(db_path, capsys, "export", str(tmp_path / "x.csv"), "--status", "open")
    assert code == 2 and "open" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(db_path, capsys, "export", str(tmp_path / "missing" / "x.csv"))
    assert code == 2 and "does not exist" in err
    code, _, err = run(db_path, capsys, "export", str(tmp_path))
    assert code == 2 and "folder" in err
    assert not (tmp_path / "x.csv").exists()


def test_a_failed_export_leaves_no_file(
    db: Database,
    db_path: Path,
    clock: MutableClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    file_reports(db, clock)
    target = tmp_path / "r.csv"
    target.write_text("the previous export\n", encoding="utf-8")

    def crash(*_args: object, **_kwargs: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(
        export_service.csv,
        "writer",
        lambda *a, **k: type("W", (), {"writerow": crash, "writerows": crash})(),
    )
    # Any write failure becomes one clear refusal, and the old file stays.
    with pytest.raises(export_service.ExportRefused), atomic_text(target, "utf-8") as out:
        write_reports_csv(db, out, ExportFilter())
    assert target.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [
            "r.csv",
            db_path.name,
            *(p.name for p in tmp_path.iterdir() if p.name.startswith(db_path.name + "-")),
        ]
    )


def test_cli_stdout_and_stats(
    db: Database, db_path: Path, clock: MutableClock, tmp_path: Path
) -> None:
    file_reports(db, clock)
    command = [sys.executable, "-m", "siaga_tui", "--db", str(db_path), "export", "-", "--excel"]
    done = subprocess.run(command, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"\xef\xbb\xbfnumber;created_at;")
    assert done.stderr == b""  # no progress bar when not on a terminal
    target = tmp_path / "figures.xlsx"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "siaga_tui",
            "--db",
            str(db_path),
            "export",
            str(target),
            "--stats",
            "--year",
            "2026",
        ],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    openpyxl = pytest.importorskip("openpyxl")
    sheet = openpyxl.load_workbook(target).active
    rows = {(r[0], r[1]): r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[("reports", "total")][3] == 3


def test_same_rows_on_both_engines(any_db: Database, clock: MutableClock, tmp_path: Path) -> None:
    """The SQL that builds the cells is engine-specific in places: both give the same file."""
    numbers = file_reports(any_db, clock)
    rows = export_rows(any_db)
    assert [r["number"] for r in rows] == numbers
    first = rows[0]
    assert (first["created_at"], first["closed_at"]) == (
        "2026-11-28T10:00:00+08:00",
        "2026-11-28T11:05:00+08:00",
    )
    assert (first["agencies"], first["forwarded_to_done_s"], first["kelurahan"]) == (
        "damkar, pln",
        "3780",
        "Paal IV",
    )
    assert (first["description"], first["caller_phone_masked"], first["caller_name_initial"]) == (
        "'" + DANGEROUS["description"],
        "0812-****-7890",
        "'-.",
    )
    assert (
        rows[1]["address"] == "'\tJl. Sam Ratulangi"
        and rows[1]["caller_phone_masked"] == "****4444"
    )
    assert export_rows(any_db, personal=True)[0]["caller_phone"] == "0812-3456-7890"
    assert write_reports_xlsx(any_db, tmp_path / "r.xlsx", ExportFilter(agencies=("pln",))) == 1


def test_xlsx_refuses_more_rows_than_a_sheet_holds(
    db: Database,
    db_path: Path,
    clock: MutableClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import siaga_tui.cli.export as export_command

    file_reports(db, clock)
    monkeypatch.setattr(export_command, "XLSX_MAX_ROWS", 3)  # a sheet of a header and two rows
    code, _, err = run(db_path, capsys, "export", str(tmp_path / "r.xlsx"))
    assert code == 2 and "at most 2" in err and not (tmp_path / "r.xlsx").exists()
    monkeypatch.setattr(export_service, "XLSX_MAX_ROWS", 3)
    with pytest.raises(export_service.ExportRefused):
        write_reports_xlsx(db, tmp_path / "direct.xlsx", ExportFilter())


def test_stats_export_refuses_report_filters_it_would_ignore(
    db: Database, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        db_path, capsys, "export", str(tmp_path / "s.csv"), "--stats", "--kind", "darurat"
    )
    assert code == 2 and "--stats" in err and err.count("\n") == 1
    assert not (tmp_path / "s.csv").exists()
