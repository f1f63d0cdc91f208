"""Sustained filing from several processes while the queue is polled.

Four processes (four workstations) file reports as fast as they can while this process
polls the queue the way the console does: the events since the last one seen, then the
first page with its total. Nothing may fail, nothing may be lost, and the total the
queue shows at the end is the number filed. The poll times are reported, not asserted
(this machine's speed is not the program's).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from siaga_tui.core.db import open_database
from siaga_tui.core.models import REPORT
from siaga_tui.services.queue import QueueService
from tests.test_concurrency import run_filers

WORKSTATIONS = 4
#: Reports per workstation; SIAGA_RELIABILITY_HEAVY=1 files ten times as many.
PER_WORKSTATION = 100 * (10 if os.environ.get("SIAGA_RELIABILITY_HEAVY") else 1)


class Workstations(threading.Thread):
    """The concurrency suite's filers (tests/test_concurrency.py), run beside the poller."""

    def __init__(self, db_path: Path, folder: Path) -> None:
        super().__init__(daemon=True)
        self.args = (str(db_path), folder, WORKSTATIONS, PER_WORKSTATION)
        self.numbers: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.numbers, _ = run_filers(*self.args)
        except BaseException as error:
            self.error = error


def test_filing_from_four_processes_while_the_queue_polls(
    db_path: Path, tmp_path: Path, figures: dict[str, Any]
) -> None:
    db = open_database(db_path)
    queue = QueueService(db)
    workstations = Workstations(db_path, tmp_path)
    seen = queue.last_change()
    changed: set[int] = set()
    polls: list[float] = []
    started = time.perf_counter()
    workstations.start()
    while workstations.is_alive():
        began = time.perf_counter()
        changes = queue.changes_since(seen)
        seen = changes.last_seq
        changed |= changes.report_ids
        queue.open_reports(limit=50)
        polls.append(time.perf_counter() - began)
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if workstations.error is not None:
        raise workstations.error
    printed = workstations.numbers

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
