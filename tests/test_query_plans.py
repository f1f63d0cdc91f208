"""The hot queries use their indexes (EXPLAIN QUERY PLAN on SQLite).

A full scan here is invisible on a test database and a second-long freeze on a
center's ten-year-old one. The plans are of the SQL the services really send: each
test runs a service call and explains every SELECT it sent, with its parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import sqlite

from siaga_tui.core.db import Database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.calls import CallService
from siaga_tui.services.queue import QueueFilter, QueueService
from siaga_tui.services.reports import ReportService
from siaga_tui.services.stats import Period, compute_statistics

NOW = datetime(2026, 11, 28, tzinfo=UTC)


@contextmanager
def sent(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements (with their parameters) sent to ``db`` meanwhile."""
    statements: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def plans_of(db: Database, action: Callable[[], object]) -> list[tuple[str, str]]:
    """``(statement, plan)`` of every SELECT ``action`` sends."""
    with sent(db) as statements:
        action()
    assert statements, "the service sent no query"
    found = []
    with db.read() as conn:
        for statement, parameters in statements:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            found.append((statement, "\n".join(str(row[-1]) for row in rows)))
    return found


def plan(db: Database, query: sa.Select[Any]) -> str:
    """The plan of one query as the program would send it: with bound parameters."""
    compiled = query.compile(dialect=sqlite.dialect())
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}",
            tuple(compiled.params[name] for name in compiled.positiontup or ()),
        ).all()
    return "\n".join(str(row[-1]) for row in rows)


def plan_touching(plans: list[tuple[str, str]], *words: str, without: str = "\0") -> str:
    """The plan of the one statement that names all of ``words`` (and not ``without``)."""
    matching = [plan for sql, plan in plans if all(w in sql for w in words) and without not in sql]
    assert len(matching) == 1, [sql for sql, _ in plans]
    return matching[0]


@pytest.fixture
def queue(db: Database) -> QueueService:
    return QueueService(db)


def test_queue_window_uses_the_partial_open_index(db: Database, queue: QueueService) -> None:
    plans = plans_of(db, lambda: queue.first_window(QueueFilter()))
    text = plan_touching(plans, "FROM report", "ORDER BY report.queue_rank")
    assert "ix_report_open_queue" in text and "TEMP B-TREE" not in text


def test_queue_count_uses_the_partial_open_index(db: Database, queue: QueueService) -> None:
    plans = plans_of(db, lambda: queue.open_count(QueueFilter()))
    assert "ix_report_open_queue" in plan_touching(plans, "count(", "FROM report")


def test_change_check_is_a_primary_key_range(db: Database, queue: QueueService) -> None:
    plans = plans_of(db, lambda: queue.changes_since(5))
    text = plan_touching(plans, "FROM report_event")
    assert "INTEGER PRIMARY KEY" in text and "SCAN" not in text.replace(
        "SCAN report_event USING INTEGER PRIMARY KEY", ""
    )


def test_caller_history_uses_phone_indexes(db: Database) -> None:
    calls = CallService(db, operator="meja", clock=fixed_clock(NOW))
    plans = plans_of(db, lambda: calls.caller_history("0812-3456-7890"))
    assert "ix_call_phone" in plan_touching(plans, "FROM call", "ORDER BY call.answered_at")
    assert "ix_report_caller_phone" in plan_touching(
        plans, "FROM report", "ORDER BY report.created_at DESC"
    )


def test_duplicate_check_uses_place_and_category(db: Database) -> None:
    desk = ReportService(db, operator="meja", clock=fixed_clock(NOW))
    plans = plans_of(db, lambda: desk.possible_duplicates("kebakaran", "71.71.05.1010", None))
    assert "ix_report_place_category" in plan_touching(plans, "FROM report", "kelurahan_code =")


def test_statistics_group_by_is_covered(db: Database) -> None:
    def counts(period: Period) -> Callable[[], object]:
        return lambda: compute_statistics(db, period, clock=fixed_clock(NOW), parts=())

    all_time = plans_of(db, counts(Period.all()))
    assert "COVERING INDEX ix_report_category_status" in plan_touching(
        all_time, "GROUP BY report.category, report.status"
    )
    year = plans_of(db, counts(Period.year(2026)))
    assert "COVERING INDEX ix_report_created_stats" in plan_touching(
        year,
        "GROUP BY report.kind, report.category, report.status",
        without="duplicate_of IS NOT NULL",  # the duplicates' count reads the table
    )
