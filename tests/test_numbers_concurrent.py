"""Report numbers stay unique when several processes file at the same moment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from siaga_tui.core.db import open_database
from siaga_tui.core.models import REPORT

FILER = """
import sys
from siaga_tui.core.db import open_database
from siaga_tui.services.reports import NewReport, ReportService
db = open_database(sys.argv[1])
desk = ReportService(db, operator=sys.argv[2])
for i in range(int(sys.argv[3])):
    saved = desk.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description=f"api {i}"))
    print(saved.number, flush=True)
"""


def test_two_processes_filing_at_once_get_unique_numbers(db_path: Path) -> None:
    open_database(db_path).dispose()  # schema first, so both start filing at once
    per_process = 60
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", FILER, str(db_path), f"desk{n}", str(per_process)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    printed: list[str] = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        printed.extend(out.split())
    assert len(printed) == len(set(printed)) == 2 * per_process
    db = open_database(db_path)
    with db.read() as conn:
        numbers = set(conn.execute(sa.select(REPORT.c.number)).scalars())
    assert numbers == set(printed)
