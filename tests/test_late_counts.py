"""The header's late counts, counted in SQL (``QueueService.late_counts``), agree with the
one lateness rule (``core.lateness``) applied report by report: every category, both open
statuses, ages on and around each target, at several moments."""

from __future__ import annotations

from datetime import datetime, timedelta

from siaga_tui.core.catalogue import load_catalogue
from siaga_tui.core.db import Database
from siaga_tui.core.lateness import Level, lateness, next_level_change
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.queue import QueueFilter, QueueService, backlog_cutoff
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import FROZEN_NOW


def by_rule(
    queue: QueueService, cutoff: datetime, now: datetime
) -> tuple[int, int, set[int], datetime | None]:
    """The counts the rule gives, each open report of today's work read and judged."""
    overdue = alarmed = 0
    ids: set[int] = set()
    moments: list[datetime] = []
    for row in queue.first_window(QueueFilter(cutoff=cutoff), limit=10_000)[1].rows:
        category = queue.catalogue.category(row.category)
        level = lateness(category, row.status, row.created_at, now).level
        overdue += level == Level.OVERDUE
        if level == Level.ALARMED:
            alarmed += 1
            ids.add(row.id)
        moment = next_level_change(category, row.status, row.created_at, now)
        if moment is not None:
            moments.append(moment)
    return overdue, alarmed, ids, min(moments, default=None)


def test_counts_in_sql_agree_with_the_rule_report_by_report(db: Database) -> None:
    catalogue = load_catalogue()
    start = FROZEN_NOW - timedelta(hours=6)
    handled: list[int] = []
    for n, category in enumerate(catalogue.categories):
        for age in (
            timedelta(0),
            category.forward_target,
            category.forward_target + timedelta(seconds=1),
            2 * category.forward_target + timedelta(seconds=1),
            category.finish_target - timedelta(seconds=1),
            category.finish_target + timedelta(minutes=1),
        ):
            service = ReportService(db, operator="meja", clock=fixed_clock(FROZEN_NOW - age))
            saved = service.create_report(
                NewReport(category=category.code, kelurahan="Sario", description=f"r {n} {age}")
            )
            if len(handled) % 3 == n % 3:
                service.forward(saved.id, catalogue.agencies[0].code)
            handled.append(saved.id)
    queue = QueueService(db, catalogue=catalogue)
    cutoff = backlog_cutoff(FROZEN_NOW, 7)
    assert start > cutoff
    seen_late = seen_alarmed = False
    for offset in (-timedelta(hours=1), timedelta(0), timedelta(seconds=1), timedelta(minutes=7)):
        now = FROZEN_NOW + offset
        counts = queue.late_counts(cutoff, now)
        overdue, alarmed, ids, next_change = by_rule(queue, cutoff, now)
        assert (counts.overdue, counts.alarmed) == (overdue, alarmed)
        assert counts.alarmed_ids == ids
        assert counts.next_change == next_change
        seen_late |= overdue > 0
        seen_alarmed |= alarmed > 0
    assert seen_late and seen_alarmed  # the moments above cover both levels


def test_no_open_report_counts_nothing_and_never_wakes(db: Database) -> None:
    counts = QueueService(db).late_counts(backlog_cutoff(FROZEN_NOW, 7), FROZEN_NOW)
    assert (counts.overdue, counts.alarmed, counts.alarmed_ids, counts.next_change) == (
        0,
        0,
        frozenset(),
        None,
    )
