"""B2 (live-queue change check), B3 (saving a report) and B9 (eight workstations)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from benchmarks.data import cached_database, sample_report, scratch_copy
from benchmarks.measure import Figure, Plan, child_env, interleaved, median, python, ratio_figure
from siaga_tui.core.catalogue import Catalogue
from siaga_tui.core.db import Database, open_database
from siaga_tui.core.models import (
    Call,
    Disposition,
    EventKind,
    Report,
    ReportEvent,
    Status,
    queue_rank,
)
from siaga_tui.services.queue import QueueService
from siaga_tui.services.reports import ReportService

#: Changes another workstation made since the last poll, in the measured check.
CHANGES_PER_POLL = 3


def b2_change_check(plan: Plan) -> list[Figure]:
    """One ``changes_since`` poll at the large size against the same at the small one."""
    large = open_database(cached_database(plan.large).path)
    small = open_database(cached_database(plan.small).path)
    try:
        queues = QueueService(large), QueueService(small)
        seqs = [queue.last_change() - CHANGES_PER_POLL for queue in queues]
        for queue, seq in zip(queues, seqs, strict=True):  # warm: pool, caches, statements
            queue.changes_since(seq)

        def check(index: int) -> float:
            started = time.perf_counter()
            changes = queues[index].changes_since(seqs[index])
            elapsed = time.perf_counter() - started
            assert len(changes.report_ids) >= 1
            return elapsed

        value, baseline = interleaved(lambda: check(0), lambda: check(1), plan.repeats)
        # For the record: what the queue pays for its count of open reports, which the
        # console asks for only when a poll found changes.
        count_large, count_small = interleaved(
            lambda: _timed_count(queues[0]),
            lambda: _timed_count(queues[1]),
            max(3, plan.repeats // 20),
        )
        # The header's late counts, as a poll with changes takes them: over today's open
        # reports, whatever the history. Both databases are counted over the same number of
        # recent reports (their newest RECENT_REPORTS), so the figure shows what the count
        # costs is today's work, not the size of the database.
        cuts = [_recent_cutoff(db) for db in (large, small)]
        late_large, late_small = interleaved(
            lambda: _timed_late(queues[0], *cuts[0]),
            lambda: _timed_late(queues[1], *cuts[1]),
            plan.repeats,
        )
    finally:
        large.dispose()
        small.dispose()
    return [
        ratio_figure(
            "B2",
            f"live-queue change check at {plan.large:,} (vs {plan.small:,})",
            value * 1e3,
            baseline * 1e3,
            "ms",
            1.3,
            note=f"{CHANGES_PER_POLL} changes since the last poll",
        ),
        Figure(
            "B2+",
            f"first queue window with count of open reports at {plan.large:,} (vs {plan.small:,})",
            count_large * 1e3,
            count_small * 1e3,
            "ms",
            "for the record",
            True,
            note="open_reports(with_total=True): 100 rows and the count",
        ),
        ratio_figure(
            "B2 counts",
            f"header counts of late reports at {plan.large:,} (vs {plan.small:,})",
            late_large * 1e3,
            late_small * 1e3,
            "ms",
            1.3,
            note=f"late_counts over the newest {RECENT_REPORTS} reports of each database "
            "(the backlog is counted apart, once a day)",
        ),
    ]


#: Today's work in the header-count figure: as many reports as a busy day files.
RECENT_REPORTS = 300
_REPORT = Report.__table__  # type: ignore[attr-defined]


def _recent_cutoff(db: Database) -> tuple[datetime, datetime]:
    """(cutoff, now): the newest RECENT_REPORTS reports are "today's", now just after them."""
    with db.read() as conn:
        moments = [
            row[0]
            for row in conn.execute(
                sa.select(_REPORT.c.created_at)
                .order_by(_REPORT.c.created_at.desc())
                .limit(RECENT_REPORTS)
            )
        ]
    return moments[-1], moments[0] + timedelta(minutes=1)


def _timed_late(queue: QueueService, cutoff: datetime, now: datetime) -> float:
    started = time.perf_counter()
    queue.late_counts(cutoff, now)
    return time.perf_counter() - started


def _timed_count(queue: QueueService) -> float:
    started = time.perf_counter()
    queue.open_reports(with_total=True)
    return time.perf_counter() - started


def b3_save(plan: Plan) -> list[Figure]:
    """``create_report`` (call + report + event + audit entry, durable) against the
    straightforward SQLModel save of a call, a report and an event in one commit; and,
    for the record, against one raw ``sqlite3`` insert+commit."""
    with scratch_copy(plan.large) as path:
        return _b3_save(plan, path)


def _b3_save(plan: Plan, path: Path) -> list[Figure]:
    db = open_database(path)
    service = ReportService(db, operator="bench")
    try:
        raw, insert = _raw_report_table(path, path.with_name("raw.db"))
        row = _raw_row(path)
        counter = iter(range(10**9))
        service.create_report(sample_report(0))  # warm: pool, statement cache
        _sqlmodel_save(db, service.catalogue, next(counter))

        def save() -> float:
            data = sample_report(next(counter))
            started = time.perf_counter()
            service.create_report(data)
            return time.perf_counter() - started

        def raw_insert() -> float:
            n = next(counter)
            values = {**row, "id": None, "number": f"raw-{n}", "seq": n}
            started = time.perf_counter()
            raw.execute("BEGIN IMMEDIATE")
            raw.execute(insert, values)
            raw.execute("COMMIT")
            return time.perf_counter() - started

        def sqlmodel_save() -> float:
            return _sqlmodel_save(db, service.catalogue, next(counter))

        value, baseline = interleaved(save, sqlmodel_save, plan.repeats)
        again, raw_baseline = interleaved(save, raw_insert, max(3, plan.repeats // 2))
        raw.close()
    finally:
        db.dispose()
    what = f"saving a report (call + report + event + audit entry, durable) at {plan.large:,}"
    return [
        ratio_figure(
            "B3",
            what,
            value * 1e3,
            baseline * 1e3,
            "ms",
            1.2,
            note="baseline: the straightforward SQLModel save, session.add() of a Call, a "
            "Report and a ReportEvent, one commit(), same engine and pragmas",
        ),
        Figure(
            "B3 raw",
            what + " against a raw insert",
            again * 1e3,
            raw_baseline * 1e3,
            "ms",
            "for the record",
            True,
            note="one raw sqlite3 insert+commit into a table defined as `report`, "
            "WAL, synchronous=FULL, BEGIN IMMEDIATE",
        ),
    ]


def _sqlmodel_save(db: Database, catalogue: Catalogue, n: int) -> float:
    """The straightforward save: a Report, its Call and its ReportEvent, one commit.
    The values are worked out first (the service's checks are not in the baseline)."""
    data = sample_report(n)
    category = catalogue.category(data.category)
    place = catalogue.resolve_kelurahan(data.kelurahan)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with Session(db.engine) as session:
        report = Report(
            number=f"sqlmodel-{n}",
            year=1999,
            seq=n,
            category=category.code,
            kind=category.kind,
            priority=category.priority,
            status=Status.MENUNGGU,
            queue_rank=queue_rank(category.kind, Status.MENUNGGU),
            caller_phone=data.phone,
            caller_name=data.caller_name,
            kelurahan_code=place.code,
            kecamatan_code=place.kecamatan.code,
            address=data.address,
            description=data.description,
            operator="bench",
            created_at=now,
            updated_at=now,
            call_answered_at=now,
        )
        session.add(report)
        session.flush()
        session.add(
            Call(
                answered_at=now,
                caller_phone=data.phone,
                disposition=Disposition.LAPORAN,
                operator="bench",
                report_id=report.id,
            )
        )
        session.add(
            ReportEvent(
                report_id=report.id,
                at=now,
                operator="bench",
                kind=EventKind.CREATED,
                details={"number": report.number, "category": category.code},
            )
        )
        session.commit()
    return time.perf_counter() - started


def _raw_report_table(source: Path, target: Path) -> tuple[sqlite3.Connection, str]:
    """A file with a table like ``report`` (the same definition: columns, constraints and
    indexes), set up as ours, and the statement that inserts one row into it."""
    with closing(sqlite3.connect(source)) as conn:
        ddl = [
            sql
            for (sql,) in conn.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'report' AND sql IS NOT NULL "
                "ORDER BY type = 'index'"
            )
        ]
        columns = [r[1] for r in conn.execute("PRAGMA table_info(report)")]
    raw = sqlite3.connect(target, isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = FULL")
    for sql in ddl:
        raw.execute(sql)
    insert = (
        f"INSERT INTO report ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    )
    return raw, insert


def _raw_row(source: Path) -> dict[str, object]:
    with closing(sqlite3.connect(source)) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM report ORDER BY id DESC LIMIT 1").fetchone())


def b9_concurrency(plan: Plan) -> list[Figure]:
    """``filers`` processes filing ``reports_each`` at once against one filing them all."""
    total = plan.filers * plan.reports_each
    scratch = Path(tempfile.mkdtemp(prefix="siaga-b9-"))
    try:
        template = scratch / "template.db"
        open_database(template).dispose()
        runs_many: list[float] = []
        runs_one: list[float] = []
        errors: list[str] = []
        for run in range(max(1, plan.runs // 2)):
            for name, filers, each, times in (
                ("one", 1, total, runs_one),
                ("many", plan.filers, plan.reports_each, runs_many),
            ):
                path = scratch / f"{name}-{run}.db"
                shutil.copyfile(template, path)
                seconds, found = _file_at_once(path, filers, each)
                errors.extend(found)
                errors.extend(_check_filed(path, total))
                times.append(seconds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    value, baseline = median(runs_many), median(runs_one)
    note = f"{len(errors)} errors" + (f"; first: {errors[0]}" if errors else "")
    return [
        ratio_figure(
            "B9",
            f"{plan.filers} processes filing {plan.reports_each:,} reports each "
            f"(vs 1 filing {total:,})",
            value,
            baseline,
            "s",
            2,
            note=note,
            extra_ok=not errors,
            extra_target="zero errors",
        )
    ]


def _file_at_once(path: Path, filers: int, each: int) -> tuple[float, list[str]]:
    """Start ``filers`` workstations, let them go together; seconds until the last is done."""
    processes = [
        subprocess.Popen(
            python("-m", "benchmarks.filer", str(path), str(each), f"ws{n + 1}"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for n in range(filers)
    ]
    for process in processes:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a filer did not start:\n{process.communicate()[1][-2000:]}")
    go = time.clock_gettime(time.CLOCK_MONOTONIC)
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    errors: list[str] = []
    finished = go
    for process in processes:
        out, err = process.communicate(timeout=1800)
        if process.returncode != 0:
            errors.append(f"filer exited {process.returncode}: {err.strip()[-300:]}")
            continue
        result = json.loads(out.strip().splitlines()[-1])
        errors.extend(result["errors"])
        finished = max(finished, result["finished"])
    return finished - go, errors


def _check_filed(path: Path, expected: int) -> list[str]:
    """Every report filed once, with a number of its own."""
    with closing(sqlite3.connect(path)) as conn:
        count, numbers = conn.execute(
            "SELECT count(*), count(DISTINCT number) FROM report"
        ).fetchone()
    problems = []
    if count != expected:
        problems.append(f"{count} reports filed, {expected} expected")
    if numbers != count:
        problems.append(f"{count - numbers} report numbers given twice")
    return problems
