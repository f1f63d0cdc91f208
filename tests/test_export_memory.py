"""The export streams: a child exporting 100,000 reports peaks at about the memory of one
exporting 10,000 (``ru_maxrss`` of each child, no timing)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from siaga_tui.core.db import open_database

#: Exported in the children; prints the peak resident size in KiB.
_CHILD = """
import resource, sys
from pathlib import Path
from siaga_tui.core.db import open_database
from siaga_tui.services.export import ExportFilter, atomic_text, write_reports_csv
db = open_database(sys.argv[1])
with atomic_text(Path(sys.argv[2]), "utf-8") as out:
    rows = write_reports_csv(db, out, ExportFilter())
print(rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def bulk_reports(path: Path, count: int) -> None:
    """A migrated database with ``count`` reports (every other one forwarded), in a second.

    Written by SQLite itself from a counter (``INSERT … SELECT``), so building a large
    database costs the test neither time nor memory. The rows are plausible, not a
    service's history (no events): enough for exports and imports to read.
    """
    open_database(path).dispose()
    conn = sqlite3.connect(path)
    try:
        conn.executescript(
            f"""
            BEGIN;
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
            INSERT INTO report (id, number, year, seq, category, kind, priority, status, queue_rank,
                caller_phone, caller_name, kelurahan_code, kecamatan_code, address, description,
                operator, created_at, updated_at, version, call_answered_at, first_forwarded_at,
                closed_at)
            SELECT i, printf('112-2019-%06d', i), 2019, i,
                CASE i % 3 WHEN 0 THEN 'kebakaran' WHEN 1 THEN 'kelistrikan' ELSE 'kecelakaan' END,
                CASE i % 3 WHEN 1 THEN 'non_darurat' ELSE 'darurat' END, 2,
                CASE i % 2 WHEN 0 THEN 'ditangani' ELSE 'menunggu' END, 1,
                printf('+62812%08d', i), 'Penelepon ' || i, '71.71.05.1010', '71.71.05',
                'Jl. Sam Ratulangi No. ' || i, '=Laporan nomor ' || i || ' dengan keterangan yang cukup panjang',
                'ani', datetime(1546272000 + i * 30, 'unixepoch'), datetime(1546272000 + i * 30 + 60, 'unixepoch'),
                1, datetime(1546272000 + i * 30 - 40, 'unixepoch'),
                CASE i % 2 WHEN 0 THEN datetime(1546272000 + i * 30 + 60, 'unixepoch') END, NULL
            FROM n;
            INSERT INTO referral (report_id, agency, forwarded_at, forwarded_by, channel)
            SELECT id, 'damkar', first_forwarded_at, 'ani', 'radio' FROM report WHERE first_forwarded_at IS NOT NULL;
            COMMIT;
            """
        )
    finally:
        conn.close()


def _peak_kib(db_path: Path, out: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(db_path), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows, peak = done.stdout.split()
    return int(rows), int(peak)


def test_memory_stays_flat_from_10k_to_100k_rows(tmp_path: Path) -> None:
    small, large = tmp_path / "10k.db", tmp_path / "100k.db"
    bulk_reports(small, 10_000)
    bulk_reports(large, 100_000)
    rows_small, peak_small = _peak_kib(small, tmp_path / "10k.csv")
    rows_large, peak_large = _peak_kib(large, tmp_path / "100k.csv")
    assert (rows_small, rows_large) == (10_000, 100_000)
    lines = (tmp_path / "100k.csv").read_text(encoding="utf-8").count("\n")
    assert lines == 100_001
    assert peak_large < 1.5 * peak_small, (peak_small, peak_large)
