"""The report's stored interval columns: the database works them out from the moments,
they follow every change of a moment, and the upgrade that adds them keeps every row
and every reference to it (on SQLite the report table is rebuilt)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from siaga_tui.core import migrate
from siaga_tui.core.db import SCHEMA_HEAD, Database, open_database
from siaga_tui.core.errors import StorageError
from siaga_tui.core.migrate import current_revision
from siaga_tui.core.models import INTERVALS, REFERRAL, REPORT, interval_column_name
from siaga_tui.services.reports import NewReport, ReportService

COLUMNS = [interval_column_name(name) for name in INTERVALS]


@pytest.fixture
def db(any_db: Database) -> Database:
    return any_db


def stored_seconds(db: Database, report_id: int) -> dict[str, int | None]:
    with db.read() as conn:
        row = conn.execute(
            sa.select(*(REPORT.c[c] for c in COLUMNS)).where(REPORT.c.id == report_id)
        ).one()
    return dict(zip(INTERVALS, row, strict=True))


def fire(answered_at: datetime) -> NewReport:
    return NewReport(
        category="kebakaran",
        kelurahan="Paal IV",
        description="Rumah terbakar dekat pasar",
        phone="0812-3456-7890",
        answered_at=answered_at,
    )


def test_the_intervals_follow_the_report_through_its_life(db: Database, clock) -> None:
    reports = ReportService(db, operator="budi", clock=clock)
    # Answered 41.6 s before it was saved: the difference is rounded, to 42 s.
    saved = reports.create_report(fire(clock.now - timedelta(seconds=41, milliseconds=600)))
    assert stored_seconds(db, saved.id) == {
        "answer_to_saved": 42,
        "saved_to_forwarded": None,  # not forwarded yet: unknown, not zero
        "forwarded_to_acknowledged": None,
        "forwarded_to_done": None,
    }
    clock.advance(minutes=2)
    referral = reports.forward(saved.id, "damkar")
    clock.advance(seconds=90)
    reports.acknowledge(saved.id, referral)
    clock.advance(minutes=15)
    reports.change_status(saved.id, "selesai", note="Api padam")
    assert stored_seconds(db, saved.id) == {
        "answer_to_saved": 42,
        "saved_to_forwarded": 120,
        "forwarded_to_acknowledged": 90,
        "forwarded_to_done": 90 + 900,
    }
    clock.advance(minutes=5)
    reports.reopen(saved.id, "api menyala lagi")
    assert stored_seconds(db, saved.id)["forwarded_to_done"] is None
    clock.advance(minutes=5)
    reports.change_status(saved.id, "selesai", note="Padam lagi")
    assert stored_seconds(db, saved.id)["forwarded_to_done"] == 90 + 900 + 600


def test_the_database_refuses_a_written_interval(db: Database, clock) -> None:
    saved = ReportService(db, operator="budi", clock=clock).create_report(fire(clock.now))
    with (
        pytest.raises((StorageError, sa.exc.DBAPIError), match=r"(?i)generated"),
        db.write() as conn,
    ):
        conn.execute(sa.update(REPORT).where(REPORT.c.id == saved.id).values(answer_to_saved_s=-5))
    assert stored_seconds(db, saved.id)["answer_to_saved"] == 0


def _database_at(path: Path, revision: str) -> Database:
    db = open_database(path, migrate=False)
    migrate.upgrade(db, revision)
    return db


def _fill_0006(db: Database) -> None:
    """A report with a duplicate, a referral and a call, written as revision 0006 had it."""
    with db.write() as conn:
        for sql in (
            "INSERT INTO report (id, number, year, seq, category, kind, priority, status,"
            " queue_rank, kelurahan_code, kecamatan_code, address, description, operator,"
            " created_at, updated_at, version, duplicate_of, call_answered_at,"
            " first_forwarded_at, first_acknowledged_at, closed_at, archived) VALUES"
            " (1, '112-2019-000001', 2019, 1, 'kebakaran', 'darurat', 1, 'selesai', 9,"
            " 'k', 'c', '', 'api', 'budi', '2019-03-01 10:00:30.400000',"
            " '2019-03-01 11:00:00.000000', 4, NULL, '2019-03-01 10:00:00.000000',"
            " '2019-03-01 10:05:30.400000', '2019-03-01 10:06:00.000000',"
            " '2019-03-01 11:00:00.000000', false),"
            " (2, '112-2019-000002', 2019, 2, 'kebakaran', 'darurat', 1, 'selesai', 9,"
            " 'k', 'c', '', 'api juga', 'budi', '2019-03-01 10:01:00.000000',"
            " '2019-03-01 10:02:00.000000', 2, 1, NULL, NULL, NULL,"
            " '2019-03-01 10:02:00.000000', false)",
            "INSERT INTO referral (id, report_id, agency, forwarded_at, channel, forwarded_by)"
            " VALUES (1, 1, 'damkar', '2019-03-01 10:05:30.400000', 'radio', 'budi')",
            "INSERT INTO call (id, answered_at, disposition, operator, report_id)"
            " VALUES (1, '2019-03-01 10:00:00.000000', 'laporan', 'budi', 1)",
        ):
            conn.exec_driver_sql(sql)


def _index_sql(path: Path) -> dict[str, str | None]:
    with sqlite3.connect(path) as conn:
        return dict(
            conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'report'"
            ).fetchall()
        )


def _check_upgraded(db: Database) -> None:
    assert current_revision(db) == SCHEMA_HEAD
    assert migrate.schema_differences(db) == []
    assert stored_seconds(db, 1) == {
        "answer_to_saved": 30,  # 30.4 s, rounded
        "saved_to_forwarded": 300,
        "forwarded_to_acknowledged": 30,  # 29.6 s, rounded
        "forwarded_to_done": 3270,  # 3269.6 s, rounded
    }
    with db.read() as conn:
        assert conn.execute(sa.select(REPORT.c.duplicate_of).where(REPORT.c.id == 2)).scalar() == 1
        joined = sa.select(REPORT.c.number).join(REFERRAL, REFERRAL.c.report_id == REPORT.c.id)
        assert conn.execute(joined).scalars().all() == ["112-2019-000001"]


def test_upgrading_a_filled_postgresql_database_works_out_every_report(pg_url: str) -> None:
    db = open_database(pg_url, migrate=False)
    migrate.upgrade(db, "0006")
    _fill_0006(db)
    migrate.upgrade(db)
    _check_upgraded(db)
    db.dispose()


def test_upgrading_a_filled_sqlite_database_keeps_every_reference_and_index(
    tmp_path: Path,
) -> None:
    db = _database_at(tmp_path / "old.db", "0006")
    _fill_0006(db)
    migrate.upgrade(db)
    _check_upgraded(db)
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        # The connections keep enforcing references after the rebuild.
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    fresh = open_database(tmp_path / "fresh.db")
    assert _index_sql(tmp_path / "old.db") == _index_sql(tmp_path / "fresh.db")
    db.dispose()
    fresh.dispose()


def test_a_schema_change_that_would_break_a_reference_is_rolled_back(tmp_path: Path) -> None:
    db = _database_at(tmp_path / "old.db", "0006")
    _fill_0006(db)
    migrate.upgrade(db)
    with pytest.raises(StorageError) as caught, db.schema_write() as conn:
        conn.exec_driver_sql("DELETE FROM report WHERE id = 1")  # foreign keys are off here
    assert caught.value.key == "db_foreign_keys_broken" and "table call" in caught.value.message(
        "en"
    )
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM report").scalar() == 2
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_a_reference_broken_before_the_upgrade_does_not_stop_it(tmp_path: Path) -> None:
    # A referral whose report is gone (written by another tool with foreign keys off):
    # the upgrade goes on, and `siaga112 db check` still finds it, as before.
    db = _database_at(tmp_path / "old.db", "0006")
    _fill_0006(db)
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute(
            "INSERT INTO referral (id, report_id, agency, forwarded_at, channel, forwarded_by)"
            " VALUES (2, 99, 'polisi', '2019-03-01 10:05:30', 'radio', 'budi')"
        )
    migrate.upgrade(db)
    assert current_revision(db) == SCHEMA_HEAD
    with db.read() as conn:
        assert [tuple(r)[:3] for r in conn.exec_driver_sql("PRAGMA foreign_key_check")] == [
            ("referral", 2, "report")
        ]
    db.dispose()


def test_downgrading_drops_the_columns_and_keeps_the_rows(tmp_path: Path) -> None:
    db = _database_at(tmp_path / "old.db", "0006")
    _fill_0006(db)
    migrate.upgrade(db)
    from alembic import command

    config = migrate.alembic_config()
    with db.schema_write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
    assert current_revision(db) == "0006"
    with sqlite3.connect(tmp_path / "old.db") as conn:
        names = {row[1] for row in conn.execute("PRAGMA table_info(report)")}
        assert not names & set(COLUMNS)
        assert conn.execute("SELECT count(*) FROM report").fetchone() == (2,)
    db.dispose()
