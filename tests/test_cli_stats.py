"""``siaga112 stats`` and ``siaga112 demo``: the city's table, machine formats, error paths."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import siaga_tui.cli.demo as demo_cli
import siaga_tui.cli.stats as stats_cli
from siaga_tui.core.db import open_database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.demo import build_demo
from siaga_tui.services.stats import ROW_FIELDS
from tests.conftest import FROZEN_NOW
from tests.test_cli import Cli


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo-cli") / "demo.db"
    database = open_database(path)
    build_demo(database, clock=fixed_clock(FROZEN_NOW))
    database.dispose()
    return path


@pytest.fixture(autouse=True)
def frozen_cli_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats_cli, "clock", fixed_clock(FROZEN_NOW))
    monkeypatch.setattr(demo_cli, "clock", fixed_clock(FROZEN_NOW))


@pytest.fixture
def demo(demo_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(demo_path, capsys)


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(db_path, capsys)


def test_demo_then_stats_prints_the_city_2019_table(cli: Cli) -> None:
    code, out, err = cli("demo", "--seed", "3")
    assert code == 0 and "1144 of 2019" in out and "stats --year 2019" in out
    # A few seconds of writing: said before they start, on stderr (stdout is the result).
    assert err.startswith("Filling ") and "a few seconds" in err and "Filling" not in out
    verified = cli.ok("audit", "verify")  # a fresh demo holds the log's every check
    assert verified.startswith("Audit log intact") and "table rows match" in verified, verified
    code, table, err = cli("stats", "--year", "2019", lang="id")
    assert code == 0, err
    for expected in (
        "Jumlah laporan: 1.132",
        "Kedaruratan",
        "842",
        "74 %",
        "290",
        "26 %",
        "Ketenteraman dan Ketertiban",
        "137",
        "Kebakaran",
        "123",
        "Kelistrikan",
        "140",
        "48 %",
        "Air Bersih",
        "62",
        "21 %",
        "Selesai",
        "577",
        "51 %",
        "385",
        "34 %",
        "170",
        "15 %",
        "target lebih dari 60 %: belum tercapai",
        "12 laporan ganda dihitung sekali",
    ):
        assert expected in table, expected


def test_english_table_groups_thousands_with_commas(demo: Cli) -> None:
    out = demo.ok("stats", "--year", "2019")
    assert "Reports: 1,132" in out and "Emergency" in out and "aim over 60 %: not met" in out
    assert "Iseng" not in out and "Prank" in out


def test_json_has_stable_fields(demo: Cli) -> None:
    data = json.loads(demo.ok("stats", "--year", "2019", "--format", "json"))
    assert data["reports"] == 1132 and data["duplicates_excluded"] == 12
    assert data["period"] == {
        "label": "2019",
        "start": "2019-01-01T00:00:00+08:00",
        "end": "2020-01-01T00:00:00+08:00",
    }
    kinds = {k["kind"]: (k["count"], k["percent"]) for k in data["kinds"]}
    assert kinds == {"darurat": (842, 74), "non_darurat": (290, 26)}
    assert [(s["status"], s["count"], s["percent"]) for s in data["statuses"]] == [
        ("selesai", 577, 51),
        ("ditangani", 385, 34),
        ("menunggu", 170, 15),
    ]
    assert data["done_aim"] == {
        "aim_percent": 60,
        "done_percent": 51,
        "done_fraction": 577 / 1132,
        "met": False,
    }
    assert set(data["calls"]) == {"laporan", "iseng", "hening", "informasi", "salah_sambung"}
    interval = data["intervals"][0]
    assert set(interval) == {
        "interval",
        "kind",
        "count",
        "median_seconds",
        "p90_seconds",
        "sampled",
    }
    assert interval["sampled"] is False


def test_csv_is_one_flat_table(demo: Cli) -> None:
    out = demo.ok("stats", "--year", "2019", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == ROW_FIELDS
    found = {(r["section"], r["key"]): r for r in rows}
    assert found[("reports", "total")]["count"] == "1132"
    assert (
        found[("category", "kelistrikan")]["count"],
        found[("category", "kelistrikan")]["percent"],
    ) == ("140", "48")
    assert found[("category", "air-bersih")]["percent"] == "21"
    assert found[("done_aim", "not_met")]["percent"] == "51"


def test_from_to_and_today_choose_the_period(demo: Cli) -> None:
    year = json.loads(
        demo.ok("stats", "--from", "2019-01-01", "--to", "2019-12-31", "--format", "json")
    )
    assert year["reports"] == 1132
    today = json.loads(demo.ok("stats", "--today", "--format", "json"))
    assert today["period"]["label"] == "2026-11-28" and today["reports"] > 0
    default = json.loads(demo.ok("stats", "--format", "json"))
    assert default["period"]["label"] == "2026" and default["reports"] >= today["reports"]
    since = json.loads(demo.ok("stats", "--from", "2026-11-28", "--format", "json"))
    assert since["reports"] == today["reports"]
    everything = json.loads(demo.ok("stats", "--all", "--format", "json"))
    assert (
        everything["period"]["start"] is None and everything["reports"] == 1132 + default["reports"]
    )
    assert "all years" in demo.ok("stats", "--all")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--from", "2019-02-30", "--to", "2019-03-01"), "2019-02-30"),
        (("--from", "2019-2-3"), "YYYY-MM-DD"),
        (("--from", "2019-01-01", "--to", "31-12-2019"), "31-12-2019"),
        (("--to", "2019-12-31"), "--from"),
        (("--year", "19"), "19"),
        (("--year", "dua ribu"), "dua ribu"),
        (("--year", "2019", "--today"), "--today"),
        (("--from", "2019-03-02", "--to", "2019-03-01"), "2019-03-01"),
        (("--format", "xml"), "xml"),
        (("--all", "--year", "2019"), "--all"),
        (("--year", "0000"), "1900"),
        (("--from", "0001-01-01", "--to", "0001-01-02"), "1900"),
        (("--from", "9999-12-30", "--to", "9999-12-31"), "1900"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(demo: Cli, args: tuple[str, ...], needle: str) -> None:
    code, out, err = demo("stats", *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], err


def test_demo_refuses_a_database_with_reports(demo: Cli) -> None:
    code, _out, err = demo("demo")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "empty" in err


def test_demo_same_seed_same_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = []
    for name in ("one.db", "two.db"):
        cli = Cli(tmp_path / name, capsys)
        cli.ok("demo", "--seed", "9")
        data = json.loads(cli.ok("stats", "--from", "2019-01-01", "--format", "json"))
        data.pop("generated_at")
        results.append(data)
    assert results[0] == results[1]


def test_an_empty_database_prints_zeroes_not_errors(cli: Cli) -> None:
    out = cli.ok("stats", "--year", "2019")
    assert "Reports: 0" in out and "No reports in this period." in out
    data = json.loads(cli.ok("stats", "--year", "2019", "--format", "json"))
    assert data["reports"] == 0 and data["kinds"][0]["percent"] is None


def test_the_generated_time_is_the_clock(demo: Cli) -> None:
    data = json.loads(demo.ok("stats", "--today", "--format", "json"))
    assert data["generated_at"] == "2026-11-28T10:00:00+08:00"


def test_a_sampled_period_says_so_under_the_times(
    demo: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import siaga_tui.services.stats as service

    monkeypatch.setattr(service, "EXACT_INTERVALS_LIMIT", 100)
    out = demo.ok("stats", "--year", "2019")
    assert "systematic sample" in out and "Reports: 1,132" in out
    data = json.loads(demo.ok("stats", "--year", "2019", "--format", "json"))
    assert all(i["sampled"] for i in data["intervals"]) and data["reports"] == 1132
