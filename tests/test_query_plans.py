"""The hot queries use their indexes (EXPLAIN QUERY PLAN on SQLite).

A full scan here is invisible on a test database and a second-long freeze on a
center's ten-year-old one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from siaga_tui.core.db import Database
from siaga_tui.core.models import CALL, EVENT, REPORT
from siaga_tui.services.queue import OPEN, open_count_query
from siaga_tui.services.rows import SUMMARY_COLUMNS


def plan(db: Database, query: sa.Select) -> str:
    """The plan of the query as the program sends it: with bound parameters, not literals."""
    compiled = query.compile(dialect=sqlite.dialect())
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}",
            tuple(compiled.params[name] for name in compiled.positiontup or ()),
        ).all()
    return "\n".join(str(row[-1]) for row in rows)


NOW = datetime(2026, 11, 28, tzinfo=UTC)


def test_queue_window_uses_the_partial_open_index(db: Database) -> None:
    query = (
        sa.select(*SUMMARY_COLUMNS)
        .where(OPEN)
        .order_by(REPORT.c.queue_rank, REPORT.c.created_at, REPORT.c.id)
        .limit(100)
    )
    text = plan(db, query)
    assert "ix_report_open_queue" in text and "TEMP B-TREE" not in text


def test_queue_count_uses_the_partial_open_index(db: Database) -> None:
    assert "ix_report_open_queue" in plan(db, open_count_query([OPEN]))


def test_change_check_is_a_primary_key_range(db: Database) -> None:
    text = plan(
        db, sa.select(EVENT.c.id, EVENT.c.report_id).where(EVENT.c.id > 5).order_by(EVENT.c.id)
    )
    assert "INTEGER PRIMARY KEY" in text and "SCAN" not in text.replace(
        "SCAN report_event USING INTEGER PRIMARY KEY", ""
    )


def test_caller_history_uses_phone_indexes(db: Database) -> None:
    calls = plan(
        db,
        sa.select(CALL)
        .where(CALL.c.caller_phone == "+6281234567890")
        .order_by(CALL.c.answered_at.desc()),
    )
    reports = plan(
        db,
        sa.select(REPORT.c.id)
        .where(REPORT.c.caller_phone == "+6281234567890")
        .order_by(REPORT.c.created_at.desc()),
    )
    assert "ix_call_phone" in calls
    assert "ix_report_caller_phone" in reports


def test_duplicate_check_uses_place_and_category(db: Database) -> None:
    query = sa.select(REPORT.c.id).where(
        REPORT.c.kelurahan_code == "71.71.05.1010",
        REPORT.c.category == "kebakaran",
        REPORT.c.created_at >= NOW - timedelta(hours=1),
    )
    assert "ix_report_place_category" in plan(db, query)


def test_statistics_group_by_is_covered(db: Database) -> None:
    all_time = sa.select(REPORT.c.category, REPORT.c.status, sa.func.count()).group_by(
        REPORT.c.category, REPORT.c.status
    )
    assert "COVERING INDEX ix_report_category_status" in plan(db, all_time)
    period = (
        sa.select(REPORT.c.kind, REPORT.c.category, REPORT.c.status, sa.func.count())
        .where(REPORT.c.created_at >= NOW - timedelta(days=365), REPORT.c.created_at < NOW)
        .group_by(REPORT.c.kind, REPORT.c.category, REPORT.c.status)
    )
    assert "COVERING INDEX ix_report_created_stats" in plan(db, period)
