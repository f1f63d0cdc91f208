"""A workstation filing reports, for B9: ``python -m benchmarks.filer DB COUNT NAME``.

It opens the database and imports everything first, says ``ready``, waits for ``go``
on standard input (so all filers start together and start-up is not measured), files
COUNT reports through ``ReportService.create_report``, and prints one JSON line: when
it started and finished (``CLOCK_MONOTONIC``, the same clock in every process) and
every error it met.
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks.data import sample_report
from siaga_tui.core.db import open_database
from siaga_tui.services.reports import ReportService


def main() -> None:
    path, count, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    db = open_database(path)
    service = ReportService(db, operator=name)
    offset = abs(hash(name)) % 1000
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.clock_gettime(time.CLOCK_MONOTONIC)
    errors: list[str] = []
    numbers: list[str] = []
    for n in range(count):
        try:
            numbers.append(service.create_report(sample_report(offset + n)).number)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    finished = time.clock_gettime(time.CLOCK_MONOTONIC)
    db.dispose()
    print(
        json.dumps(
            {"started": started, "finished": finished, "errors": errors, "filed": len(numbers)}
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
