"""PostgreSQL specifics: the schema, types, upserts and refusals behave as on SQLite.

The service, queue, statistics, audit, account, handover and concurrency tests run on
both engines through the ``any_db`` fixture; this file checks what only a server
database has: the migration on an empty server database (also two positions starting
at once), time zones, JSON, the partial index, and clear messages when it is gone.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from siaga_tui.cli import main
from siaga_tui.core import migrate
from siaga_tui.core.db import SCHEMA_HEAD, open_database
from siaga_tui.core.errors import StorageError
from siaga_tui.core.migrate import current_revision
from siaga_tui.core.models import EVENT, REPORT
from siaga_tui.services.reports import NewReport, ReportService


def test_empty_server_database_is_migrated_to_the_models(pg_url: str) -> None:
    db = open_database(pg_url)
    assert db.engine.dialect.name == "postgresql"
    assert current_revision(db) == SCHEMA_HEAD
    assert migrate.schema_differences(db) == []
    db.dispose()


def test_upgrade_from_every_revision_keeps_rows(pg_url: str) -> None:
    db = open_database(pg_url, migrate=False)
    migrate.upgrade(db, "0001")
    with db.write() as conn:
        conn.exec_driver_sql(
            "INSERT INTO report_number_sequence (year, last_value) VALUES (2019, 41)"
        )
    migrate.upgrade(db)
    assert current_revision(db) == SCHEMA_HEAD
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT last_value FROM report_number_sequence").scalar() == 41
    db.dispose()


def test_two_positions_starting_on_an_empty_database_migrate_once(pg_url: str) -> None:
    script = "import sys; from siaga_tui.core.db import open_database; open_database(sys.argv[1]).dispose()"
    children = [
        subprocess.Popen([sys.executable, "-c", script, pg_url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    db = open_database(pg_url)
    assert current_revision(db) == SCHEMA_HEAD
    db.dispose()


def test_times_are_aware_utc_with_microseconds(migrated_pg_url: str) -> None:
    db = open_database(migrated_pg_url)
    moment = datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    desk = ReportService(db, operator="ani", clock=lambda: moment.astimezone(UTC))
    saved = desk.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description="api"))
    detail = desk.get_report(saved.id)
    assert detail.summary.created_at == moment
    assert detail.summary.created_at.tzinfo == UTC
    assert saved.number == "112-2026-000001"
    with pytest.raises(sa.exc.StatementError), db.write() as conn:
        conn.execute(sa.update(REPORT).values(updated_at=datetime(2026, 1, 1)))
    db.dispose()


def test_event_details_keep_unicode_and_nesting(migrated_pg_url: str) -> None:
    db = open_database(migrated_pg_url)
    desk = ReportService(db, operator="ani")
    text = 'Kebakaran di Jl. Sam Ratulangi \u2014 "asap" \U0001f525 \u00e9\u00e8'
    saved = desk.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description=text))
    with db.read() as conn:
        details = conn.execute(
            sa.select(EVENT.c.details).where(EVENT.c.report_id == saved.id)
        ).scalar_one()
    assert details["description"] == text
    assert details["call_id"] >= 1
    db.dispose()


def test_numbers_count_per_year_through_the_upsert(migrated_pg_url: str) -> None:
    db = open_database(migrated_pg_url)
    moments = iter(
        [datetime(2026, 12, 31, 15, 59, tzinfo=UTC), datetime(2026, 12, 31, 16, 0, tzinfo=UTC)]
    )
    desk = ReportService(db, operator="ani", clock=lambda: next(moments))
    first = desk.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description="a"))
    second = desk.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description="b"))
    assert (first.number, second.number) == ("112-2026-000001", "112-2027-000001")
    db.dispose()


def test_the_open_queue_index_is_partial(migrated_pg_url: str) -> None:
    db = open_database(migrated_pg_url)
    with db.read() as conn:
        definition = conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_report_open_queue'"
        ).scalar_one()
    assert "WHERE" in definition and "selesai" in definition
    db.dispose()


def test_a_server_that_is_gone_is_a_clear_storage_error(pg_server_url: str) -> None:
    url = sa.make_url(pg_server_url).set(port=1).render_as_string(hide_password=False)
    with pytest.raises(StorageError) as caught:
        open_database(url)
    assert "127.0.0.1" in str(caught.value) or "connect" in str(caught.value).lower()


def test_backup_refuses_a_server_database(migrated_pg_url: str, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--db", migrated_pg_url, "--lang", "en", "backup", str(tmp_path / "copy.db")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "PostgreSQL" in err and "Traceback" not in err
    assert not (tmp_path / "copy.db").exists()


# --- Export and import give the same bytes on both engines ------------------------------


def file_some_reports(db_url: str) -> None:
    from tests.conftest import FROZEN_NOW, MutableClock

    db = open_database(db_url)
    clock = MutableClock(FROZEN_NOW - timedelta(days=3))  # the import refuses future dates
    desk = ReportService(db, operator="ani", clock=clock)
    fire = desk.create_report(
        NewReport(
            category="kebakaran",
            kelurahan="Bahu",
            description='Rumah terbakar, "asap" tebal',
            phone="0812-3456-7890",
            caller_name="Budi Santoso",
            address="Jl. Sam Ratulangi 5",
        )
    )
    clock.advance(minutes=2)
    referral = desk.forward(fire.id, "damkar")
    clock.advance(minutes=3)
    desk.acknowledge(fire.id, referral, acknowledged_by="Pak Tono")
    clock.advance(minutes=40)
    desk.change_status(fire.id, "selesai", note="Padam")
    again = desk.create_report(
        NewReport(
            category="kebakaran",
            kelurahan="Bahu",
            description="=1+2 asap lagi",
            phone="+62 811 430 112",
        )
    )
    desk.mark_duplicate(again.id, fire.number)
    clock.advance(hours=30)
    desk.create_report(
        NewReport(category="pohon-tumbang", kelurahan="Malalayang Satu", description="dahan")
    )
    db.dispose()


def export_bytes(db_url: str, folder, name: str, *extra: str) -> bytes:
    target = folder / name
    try:
        main(["--db", db_url, "--lang", "en", "--operator", "sari", "export", str(target), *extra])
    except SystemExit as exit_:
        assert not exit_.code
    return target.read_bytes()


@pytest.mark.parametrize(
    "flags", [(), ("--include-personal-data",), ("--excel",), ("--stats", "--year", "2026")]
)
def test_exports_are_identical_on_both_engines(
    db_path, migrated_pg_url: str, tmp_path, flags
) -> None:
    open_database(db_path).dispose()
    for url in (str(db_path), migrated_pg_url):
        file_some_reports(url)
    from_sqlite = export_bytes(str(db_path), tmp_path, "sqlite.csv", *flags)
    from_postgres = export_bytes(migrated_pg_url, tmp_path, "postgres.csv", *flags)
    assert from_sqlite.count(b"\n") >= 3
    assert from_postgres == from_sqlite


def test_an_export_imported_on_the_other_engine_exports_the_same(
    db_path, migrated_pg_url: str, tmp_path
) -> None:
    open_database(db_path).dispose()
    file_some_reports(str(db_path))
    original = export_bytes(str(db_path), tmp_path, "original.csv", "--include-personal-data")
    for _ in range(2):  # the second import adds nothing
        try:
            main(
                [
                    "--db",
                    migrated_pg_url,
                    "--lang",
                    "en",
                    "--operator",
                    "sari",
                    "import",
                    str(tmp_path / "original.csv"),
                ]
            )
        except SystemExit as exit_:
            assert not exit_.code
    copied = export_bytes(migrated_pg_url, tmp_path, "copied.csv", "--include-personal-data")
    assert copied == original
    from siaga_tui.services import audit

    db = open_database(migrated_pg_url)
    assert audit.verify(db).ok
    db.dispose()
