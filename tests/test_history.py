"""Archived history: counted in the figures, never in live operations; unknown moments."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from siaga_tui.core.db import Database
from siaga_tui.core.models import EVENT, REPORT
from siaga_tui.services.events import replay
from siaga_tui.services.handover import HandoverService
from siaga_tui.services.queue import QueueService
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.services.stats import Period, compute_statistics
from tests.conftest import MutableClock


def _file(db: Database, clock: MutableClock, *, archived: bool, days_ago: int = 400) -> int:
    service = ReportService(db, operator="sri", clock=clock)
    data = NewReport(
        category="kebakaran", kelurahan="Bahu", description="Asap", archived=archived,
        created_at=clock() - timedelta(days=days_ago), with_call=not archived,
    )  # fmt: skip
    return service.create_report(data).id


def test_archived_reports_stay_out_of_queue_handover_and_oldest_waiting(
    any_db: Database, clock
) -> None:
    old = _file(any_db, clock, archived=True)
    live = _file(any_db, clock, archived=False, days_ago=0)
    page = QueueService(any_db).open_reports()
    assert [r.id for r in page.rows] == [live] and page.total == 1
    assert QueueService(any_db).open_count() == 1
    summary = HandoverService(any_db, operator="ani", clock=clock).preview()
    assert summary.open_total == 1 and all(
        item.number != "112-2025-000001" for item in summary.overdue
    )
    figures = compute_statistics(any_db, Period.all(), clock=clock)
    assert figures.total == 2  # history counts in the figures
    assert [r.id for r in figures.oldest_waiting] == [live]
    with any_db.read() as conn:
        assert conn.execute(sa.select(REPORT.c.archived).where(REPORT.c.id == old)).scalar() is True


def test_a_report_without_a_call_has_no_answer_moment_and_no_call(db: Database, clock) -> None:
    report_id = _file(db, clock, archived=True)
    detail = ReportService(db, operator="sri", clock=clock).get_report(report_id)
    assert detail.calls == () and detail.call_answered_at is None
    figures = compute_statistics(db, Period.all(), clock=clock)
    assert figures.calls_total == 0
    assert figures.interval("answer_to_saved").count == 0


def test_moments_the_source_does_not_give_stay_unknown_and_replay_agrees(
    db: Database, clock
) -> None:
    report_id = _file(db, clock, archived=True)
    service = ReportService(db, operator="sri", clock=clock, history=True)
    referral = service.forward(report_id, "tidak-disebut", when_unknown=True)
    service.acknowledge(report_id, referral, when_unknown=True)
    service.change_status(report_id, "selesai", note="Diimpor", when_unknown=True)
    with db.read() as conn:
        row = conn.execute(sa.select(REPORT).where(REPORT.c.id == report_id)).mappings().one()
        events = conn.execute(
            sa.select(EVENT.c.kind, EVENT.c.at, EVENT.c.details)
            .where(EVENT.c.report_id == report_id)
            .order_by(EVENT.c.id)
        ).all()
    assert (row["first_forwarded_at"], row["first_acknowledged_at"], row["closed_at"]) == (
        None,
        None,
        None,
    )
    state = replay([tuple(e) for e in events])
    assert (state.first_forwarded_at, state.first_acknowledged_at, state.closed_at) == (
        None,
        None,
        None,
    )
    assert state.status == row["status"] == "selesai"


def test_not_named_agency_is_only_for_history(db: Database, clock) -> None:
    import pytest

    from siaga_tui.core.errors import InvalidInput, ValidationError

    report_id = _file(db, clock, archived=False, days_ago=0)
    with pytest.raises((ValidationError, InvalidInput)):
        ReportService(db, operator="sri", clock=clock).forward(report_id, "tidak-disebut")


def test_reports_without_calls_reads_only_imported_reports(db: Database) -> None:
    from sqlalchemy.dialects import sqlite

    from siaga_tui.services.stats import reports_without_calls_query

    compiled = reports_without_calls_query(Period.all()).compile(dialect=sqlite.dialect())
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    with db.read() as conn:
        plan = " ".join(
            str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
        )
    assert "import_key>" in plan and "SCAN report" not in plan, plan
