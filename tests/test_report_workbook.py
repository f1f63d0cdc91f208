"""``siaga112 report``: the workbook read back with openpyxl (sheets, titles, numbers,
percent and duration cells, charts and the ranges they draw, print setup)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart, PieChart

import siaga_tui.cli.report as report_cli
import siaga_tui.cli.stats as stats_cli
from siaga_tui.core.db import open_database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.breakdowns import compute_breakdown
from siaga_tui.services.demo import build_demo
from siaga_tui.services.stats import Period
from tests.conftest import FROZEN_NOW
from tests.phone_data import seed_phone_calls
from tests.test_cli import Cli


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "demo.db"
    database = open_database(path)
    build_demo(database, clock=fixed_clock(FROZEN_NOW))
    seed_phone_calls(database, datetime(2019, 3, 14, 6, 0, tzinfo=UTC))
    database.dispose()
    return path


@pytest.fixture
def cli(
    demo_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.setattr(stats_cli, "clock", fixed_clock(FROZEN_NOW))
    monkeypatch.setattr(report_cli, "stats_clock", fixed_clock(FROZEN_NOW))
    return Cli(demo_path, capsys)


def _ref(text: str) -> tuple[str, str]:
    """``'Per hari'!$A$5:$A$35`` as (sheet, range)."""
    found = re.fullmatch(r"'?(.+?)'?!(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)", text)
    assert found, text
    return found.group(1), found.group(2).replace("$", "")


def _series_refs(chart) -> list[tuple[tuple[str, str], tuple[str, str]]]:  # type: ignore[no-untyped-def]
    return [
        (_ref(s.cat.numRef.f if s.cat.numRef else s.cat.strRef.f), _ref(s.val.numRef.f))
        for s in chart.series
    ]


def test_march_2019_workbook_in_indonesian(cli: Cli, tmp_path: Path, demo_path: Path) -> None:
    target = tmp_path / "laporan-2019-03.xlsx"
    code, out, err = cli("report", "--month", "2019-03", str(target), lang="id")
    assert code == 0, err
    assert "8 lembar" in out and "101 laporan" in out
    book = load_workbook(target)
    assert book.sheetnames == [
        "Ringkasan",
        "Per hari",
        "Kategori",
        "Kecamatan",
        "Instansi",
        "Shift",
        "Operator",
        "Telepon",
    ]

    front = book["Ringkasan"]
    assert "Manado Siaga 112" in front["A1"].value
    assert front["A2"].value == "Laporan statistik, periode 2019-03-01 \u2013 2019-03-31"
    values = {front.cell(r, 1).value: front.cell(r, 2).value for r in range(1, 30)}
    assert values["Jumlah laporan"] == 101
    assert values["Dibuat oleh"] == "ani"
    assert re.fullmatch(r"#\d+ [0-9a-f]{64}", values["Kepala log audit (catat di buku log)"])
    aim = next(
        front.cell(r, 1).value
        for r in range(1, 30)
        if str(front.cell(r, 1).value or "").startswith("Target kota")
    )
    assert "50 %" in aim and "60 %" in aim and "belum" in aim
    kinds = {front.cell(r, 1).value: front.cell(r, 3) for r in range(1, 30)}
    assert kinds["Kedaruratan"].number_format == "0%"
    assert kinds["Kedaruratan"].value == pytest.approx(68 / 101)
    pies = [c for c in front._charts if isinstance(c, PieChart)]
    assert len(pies) == 1
    ((categories, values_ref),) = _series_refs(pies[0])
    assert categories[0] == "Ringkasan" and values_ref[0] == "Ringkasan"
    first, last = values_ref[1].split(":")
    assert [front[f"A{first[1:]}"].value, front[f"A{last[1:]}"].value] == ["Selesai", "Menunggu"]

    days = book["Per hari"]
    assert days["A1"].value == "Laporan per hari"
    assert [days.cell(4, c).value for c in (1, 2)] == ["Tanggal", "Laporan"]
    dates = [days.cell(r, 1).value for r in range(5, 36)]
    assert dates[0] == "2019-03-01" and dates[-1] == "2019-03-31"
    assert sum(days.cell(r, 2).value for r in range(5, 36)) == 101
    assert days.cell(5, 8).number_format == "0%"  # Selesai %
    assert days.print_title_rows.replace("$", "") == "4:4"
    assert days.page_setup.orientation == "landscape"
    # one page wide (1 is the file format's default, left out), as many long as needed
    assert days.page_setup.fitToWidth in (None, 1) and days.page_setup.fitToHeight == 0
    assert days.sheet_properties.pageSetUpPr.fitToPage
    assert "&P" in days.oddFooter.right.text and "&N" in days.oddFooter.right.text
    (line,) = days._charts
    assert isinstance(line, LineChart)
    refs = _series_refs(line)
    assert refs[0] == (("Per hari", "A5:A35"), ("Per hari", "B5:B35"))
    assert days.cell(4, 2).value == "Laporan" and days.cell(4, 5).value == "Selesai"
    assert refs[1][1] == ("Per hari", "E5:E35")

    categories_sheet = book["Kategori"]
    (bar,) = categories_sheet._charts
    assert isinstance(bar, BarChart) and bar.type == "bar"
    rows = categories_sheet.max_row
    labels = [categories_sheet.cell(r, 1).value for r in range(5, rows + 1)]
    assert (
        "Kebakaran" in labels
        and sum(categories_sheet.cell(r, 2).value for r in range(5, 5 + len(labels))) == 101
    )

    places = book["Kecamatan"]
    (columns,) = places._charts
    assert isinstance(columns, BarChart) and columns.type == "col"
    db = open_database(demo_path)
    try:
        march = Period.between(date(2019, 3, 1), date(2019, 3, 31))
        expected = compute_breakdown(db, march, ["kecamatan"], clock=fixed_clock(FROZEN_NOW))
    finally:
        db.dispose()
    got = {places.cell(r, 1).value: places.cell(r, 2).value for r in range(5, 16)}
    assert got == {expected.label("kecamatan", g.key[0]): g.total for g in expected.groups}

    agencies = book["Instansi"]
    headings = [agencies.cell(4, c).value for c in range(1, 10)]
    ack = headings.index("Teruskan → diterima (median)") + 1
    damkar = next(r for r in range(5, 30) if agencies.cell(r, 1).value == "Damkar")
    assert agencies.cell(damkar, ack).number_format == "[h]:mm:ss"
    # a duration cell (openpyxl reads it back as a timedelta), not text
    assert timedelta(0) < agencies.cell(damkar, ack).value < timedelta(hours=1)
    nowhere = next(r for r in range(5, 30) if agencies.cell(r, 1).value == "Belum diteruskan")
    assert agencies.cell(nowhere, ack).value is None  # unknown, not 0
    (times,) = agencies._charts
    assert [r[1][1].split(":")[0][0] for r in _series_refs(times)] == ["E", "F"]

    shifts = book["Shift"]
    assert [shifts.cell(r, 1).value for r in (5, 6, 7)] == [
        "Pagi 07–14",
        "Siang 14–21",
        "Malam 21–07",
    ]


def test_march_2019_phone_sheet_and_headline(cli: Cli, tmp_path: Path) -> None:
    """The phone's figures of the fixed calls (answered after 4, 8, 12, 17 and 26 s; two
    abandoned, one called back 6 min later), as numbers, percent and duration cells."""
    target = tmp_path / "phone-2019-03.xlsx"
    code, _, err = cli("report", "--month", "2019-03", str(target), lang="en")
    assert code == 0, err
    book = load_workbook(target)
    assert book.sheetnames[-1] == "Phone"
    sheet = book["Phone"]
    assert sheet["A1"].value == "The phone's figures (the phone system's clock)"
    assert [sheet.cell(4, c).value for c in range(1, 9)] == [
        "Figure", "Count", "Of", "Share", "Median", "p90", "Standard's target", "Met?",
    ]  # fmt: skip
    rows = {sheet.cell(r, 1).value: r for r in range(5, 25) if sheet.cell(r, 1).value}
    offered = rows["Calls offered (rang)"]
    assert sheet.cell(offered, 2).value == 7
    abandoned = rows["Abandoned before the answer"]
    assert [sheet.cell(abandoned, c).value for c in (2, 3)] == [2, 7]
    assert sheet.cell(abandoned, 4).value == pytest.approx(2 / 7)
    assert sheet.cell(abandoned, 4).number_format == "0%"
    answer = rows["Answer time, median / p90"]
    assert sheet.cell(answer, 5).value == timedelta(seconds=12)
    assert sheet.cell(answer, 5).number_format == "[h]:mm:ss"
    within = [rows[f"Answered within {s} s"] for s in (10, 15, 20)]
    assert [sheet.cell(r, 4).value for r in within] == pytest.approx([2 / 5, 3 / 5, 4 / 5])
    assert [sheet.cell(r, 7).value for r in within] == pytest.approx([0.9, 0.9, 0.95])
    assert [sheet.cell(r, 8).value for r in within] == ["not met"] * 3
    called = rows["Abandoned calls called back"]
    assert [sheet.cell(called, c).value for c in (2, 3)] == [1, 2]
    assert sheet.cell(rows["Time to call back, median / p90"], 5).value == timedelta(minutes=6)
    saved = rows["Answer → saved, median / p90"]
    assert sheet.cell(saved, 2).value == 0 and sheet.cell(saved, 5).value is None  # unknown
    (chart,) = sheet._charts
    assert isinstance(chart, BarChart) and chart.type == "col"
    first, last = within[0], within[-1]
    assert [refs[1] for refs in _series_refs(chart)] == [
        ("Phone", f"D{first}:D{last}"),
        ("Phone", f"G{first}:G{last}"),
    ]
    assert sheet.print_title_rows.replace("$", "") == "4:4"

    front = book["Summary"]
    cells = {front.cell(r, 1).value: r for r in range(1, 40) if front.cell(r, 1).value}
    row = cells["Answered within 15 s"]
    assert front.cell(row, 2).value == 3 and front.cell(row, 3).value == pytest.approx(3 / 5)
    row = cells["Abandoned before the answer"]
    assert front.cell(row, 2).value == 2 and front.cell(row, 3).value == pytest.approx(2 / 7)
    assert front.cell(cells["Answer time, median"], 2).value == timedelta(seconds=12)


def test_a_month_without_phone_records_leaves_the_phone_cells_empty(
    cli: Cli, tmp_path: Path
) -> None:
    target = tmp_path / "phone-2019-04.xlsx"
    code, _, err = cli("report", "--month", "2019-04", str(target), lang="en")
    assert code == 0, err
    book = load_workbook(target)
    sheet = book["Phone"]
    rows = {sheet.cell(r, 1).value: r for r in range(5, 25) if sheet.cell(r, 1).value}
    for label in ("Calls offered (rang)", "Abandoned before the answer", "Answered within 15 s"):
        assert [sheet.cell(rows[label], c).value for c in (2, 3, 4)] == [None, None, None]
    assert any("no phone-system records" in str(v) for v in rows)
    assert not sheet._charts
    front = book["Summary"]
    texts = [str(front.cell(r, 1).value) for r in range(1, 40)]
    assert any("no phone-system records" in text for text in texts)


def test_year_workbook_in_english_is_per_month_and_adds_up(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "report-2019.xlsx"
    code, _, err = cli("report", "--year", "2019", str(target), lang="en")
    assert code == 0, err
    book = load_workbook(target)
    assert book.sheetnames[:2] == ["Summary", "Per month"]
    months = book["Per month"]
    assert months["A1"].value == "Reports per month"
    assert [months.cell(r, 1).value for r in (5, 16)] == ["January 2019", "December 2019"]
    assert sum(months.cell(r, 2).value for r in range(5, 17)) == 1132


def test_bad_input_is_one_line(cli: Cli, tmp_path: Path) -> None:
    for args, needle in (
        (("--month", "2019-13", str(tmp_path / "a.xlsx")), "2019-13"),
        (("--month", "2019-03", "--year", "2019", str(tmp_path / "a.xlsx")), "--month"),
        (("--month", "2019-03", str(tmp_path / "a.csv")), ".xlsx"),
    ):
        code, _, err = cli("report", *args)
        assert code == 2 and needle in err and "Traceback" not in err, err
    existing = tmp_path / "there.xlsx"
    existing.write_bytes(b"keep")
    code, _, err = cli("report", "--month", "2019-03", str(existing))
    assert code == 2 and "--force" in err and existing.read_bytes() == b"keep"


def test_a_year_after_a_year_with_data_shows_the_change(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "report-2020.xlsx"
    code, _, err = cli("report", "--year", "2020", str(target), lang="en")
    assert code == 0, err
    months = load_workbook(target)["Per month"]
    assert [months.cell(4, c).value for c in (2, 3, 4)] == ["Reports", "Year before", "Change"]
    assert sum(months.cell(r, 3).value for r in range(5, 17)) == 1132
    assert months.cell(5, 4).value == -1 and months.cell(5, 4).number_format == "+0%;-0%;0%"
    (line,) = months._charts
    assert _series_refs(line)[0][1] == ("Per month", "B5:B16")
