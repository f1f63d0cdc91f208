"""A wheel built from the repository carries the catalogue, messages and migrations."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_data_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("siaga112-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "siaga_tui/data/categories.toml",
        "siaga_tui/data/agencies.toml",
        "siaga_tui/data/wilayah.toml",
        "siaga_tui/data/messages/reports.toml",
        "siaga_tui/migrations/env.py",
        "siaga_tui/migrations/versions/0001_initial.py",
    ):
        assert required in names, required
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "siaga112 = siaga_tui.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
