"""Sustained filing from several processes while the queue is polled.

Four processes (four workstations) file reports as fast as they can while this process
polls the queue the way the console does: the events since the last one seen, then the
first page with its total. Nothing may fail, nothing may be lost, and the total the
queue shows at the end is the number filed. The poll times are reported, not asserted
(this machine's speed is not the program's).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from siaga_tui.core.db import open_database
from siaga_tui.core.models import REPORT
from siaga_tui.services.queue import QueueService

WORKSTATIONS = 4
#: Reports per workstation; SIAGA_RELIABILITY_HEAVY=1 files ten times as many.
PER_WORKSTATION = 150 * (10 if os.environ.get("SIAGA_RELIABILITY_HEAVY") else 1)

FILER = """
import sys
from siaga_tui.core.db import open_database
from siaga_tui.services.reports import NewReport, ReportService
db = open_database(sys.argv[1])
desk = ReportService(db, operator=sys.argv[2])
places = ["Bahu", "Paal IV", "Kleak", "Ranotana", "Tikala Baru"]
kinds = ["kebakaran", "kecelakaan", "kelistrikan", "sampah", "kesehatan"]
for i in range(int(sys.argv[3])):
    saved = desk.create_report(NewReport(
        category=kinds[i % 5], kelurahan=places[i % 5], description=f"laporan {i} dari {sys.argv[2]}",
        phone="0812-3456-7890" if i % 3 else None))
    print(saved.number, flush=True)
"""


def start_workstations(db_path: Path) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", FILER, str(db_path), f"meja{n}", str(PER_WORKSTATION)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKSTATIONS)
    ]


def collect(processes: list[subprocess.Popen[str]]) -> list[str]:
    printed: list[str] = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        assert "Traceback" not in err
        printed.extend(out.split())
    return printed


def test_filing_from_four_processes_while_the_queue_polls(db_path: Path, figures: dict[str, Any]) -> None:
    open_database(db_path).dispose()
    db = open_database(db_path)
    queue = QueueService(db)
    processes = start_workstations(db_path)
    seen = queue.last_change()
    changed: set[int] = set()
    polls: list[float] = []
    started = time.perf_counter()
    while any(p.poll() is None for p in processes):
        began = time.perf_counter()
        changes = queue.changes_since(seen)
        seen = changes.last_seq
        changed |= changes.report_ids
        queue.open_reports(limit=50)
        polls.append(time.perf_counter() - began)
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    printed = collect(processes)

    changes = queue.changes_since(seen)
    changed |= changes.report_ids
    shown_total = queue.open_reports(limit=50).total
    with db.read() as conn:
        stored = set(conn.execute(sa.select(REPORT.c.number)).scalars())
    db.dispose()
    lost = set(printed) - stored
    figures.update(
        workstations=WORKSTATIONS,
        written=len(printed),
        found=len(stored),
        shown=shown_total,
        lost=len(lost),
        seconds=round(elapsed, 2),
        saves_per_second=round(len(printed) / elapsed, 1) if elapsed else None,
        polls=len(polls),
        max_poll_ms=round(max(polls) * 1000, 1) if polls else None,
    )
    assert len(printed) == len(set(printed)) == WORKSTATIONS * PER_WORKSTATION
    assert not lost
    assert len(stored) == shown_total == len(printed)
    assert len(changed) == len(printed)  # every report was seen arriving through the event feed
