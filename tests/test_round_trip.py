"""The round trip on the demo: export reports, referrals and calls, import them into an
empty database, and ``stats --format json`` says exactly the same, twice."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import siaga_tui.cli.importer as import_cli
import siaga_tui.cli.stats as stats_cli
from siaga_tui.core.db import open_database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.demo import build_demo
from tests.conftest import FROZEN_NOW
from tests.test_cli import Cli

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
