"""The audit log: one entry per report event, an unbroken hash chain, append-only tables."""

from __future__ import annotations

import itertools
import json

import pytest
import sqlalchemy as sa

from siaga_tui.cli import main
from siaga_tui.core.db import Database
from siaga_tui.core.models import AUDIT, EVENT
from siaga_tui.services import audit
from siaga_tui.services.reports import NewReport, ReportService


def fire(n: int = 0) -> NewReport:
    return NewReport(category="kebakaran", kelurahan="Bahu", description=f"Rumah terbakar {n}")


def work_some_reports(db: Database, clock) -> ReportService:
    desk = ReportService(db, operator="budi", clock=clock)
    first = desk.create_report(fire(1))
    desk.forward(first.id, "damkar")
    clock.advance(minutes=3)
    desk.add_note(first.id, "Petugas di lokasi")
    second = desk.create_report(fire(2))
    desk.change_status(second.id, "selesai", note="Sudah padam")
    return desk


def raw(db: Database, sql: str) -> None:
    with db.write() as conn:
        conn.exec_driver_sql(sql)


def test_every_report_event_has_one_chained_entry(any_db: Database, clock) -> None:
    work_some_reports(any_db, clock)
    entries = audit.list_entries(any_db)
    with any_db.read() as conn:
        events = conn.execute(sa.select(EVENT).order_by(EVENT.c.id)).mappings().all()
    assert [e.action for e in entries] == [f"report.{e['kind']}" for e in events]
    assert [e.details["event_id"] for e in entries] == [e["id"] for e in events]
    assert entries[0].prev_hash == audit.GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
        assert after.id == before.id + 1
    assert entries[0].subject.startswith("112-2026-")
    result = audit.verify(any_db)
    assert result.ok and result.checked == len(events) == 5
    assert audit.audit_head(any_db) == audit.AuditHead(entries[-1].id, entries[-1].hash)


def test_empty_log_has_the_genesis_head(any_db: Database) -> None:
    assert audit.audit_head(any_db) == audit.AuditHead(0, audit.GENESIS)
    assert audit.verify(any_db).ok


@pytest.mark.parametrize("table", ["audit_entry", "report_event"])
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET operator = 'mallory'", "DELETE FROM {table}"]
)
def test_the_database_refuses_to_rewrite_history(
    any_db: Database, clock, table: str, statement: str
) -> None:
    work_some_reports(any_db, clock)
    with pytest.raises(sa.exc.DBAPIError) as caught:
        raw(any_db, statement.format(table=table))
    assert "append-only" in str(caught.value)
    assert audit.verify(any_db).ok


def test_truncate_is_refused_on_postgresql(migrated_pg_url: str, clock) -> None:
    from siaga_tui.core.db import open_database

    db = open_database(migrated_pg_url)
    work_some_reports(db, clock)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        raw(db, "TRUNCATE audit_entry")
    db.dispose()


def drop_triggers(db: Database) -> None:
    """What someone with direct database access would have to do first."""
    if db.is_sqlite:
        for table in ("audit_entry", "report_event"):
            for statement in ("update", "delete"):
                raw(db, f"DROP TRIGGER {table}_no_{statement}")
    else:
        for table in ("audit_entry", "report_event"):
            raw(db, f"DROP TRIGGER {table}_append_only ON {table}")


@pytest.mark.parametrize(
    ("tamper", "problem", "broken"),
    [
        ("UPDATE audit_entry SET operator = 'mallory' WHERE id = 3", "audit_broken_hash", 3),
        ("DELETE FROM audit_entry WHERE id = 2", "audit_broken_gap", 3),
        ("UPDATE audit_entry SET prev_hash = '{zero}' WHERE id = 4", "audit_broken_link", 4),
        (
            "UPDATE report_event SET operator = 'mallory' WHERE id = 2",
            "audit_broken_event_changed",
            2,
        ),
        ("DELETE FROM report_event WHERE id = 5", "audit_broken_event_missing", 5),
    ],
)
def test_verify_finds_the_first_broken_entry(
    any_db: Database, clock, tamper: str, problem: str, broken: int
) -> None:
    work_some_reports(any_db, clock)
    drop_triggers(any_db)
    raw(any_db, tamper.format(zero=audit.GENESIS))
    result = audit.verify(any_db)
    assert not result.ok
    assert (result.broken_id, result.problem) == (broken, problem)


def test_verify_finds_an_event_written_without_its_entry(any_db: Database, clock) -> None:
    work_some_reports(any_db, clock)
    with any_db.write() as conn:
        conn.execute(
            sa.insert(EVENT).values(
                report_id=1, at=clock(), operator="mallory", kind="note_added", details={}
            )
        )
    result = audit.verify(any_db)
    assert result.problem == "audit_broken_unlogged_event"


def rewrite_chain(db: Database, key: object) -> None:
    """Recompute every hash after changing the first entry's time (with ``key``, as
    someone who has the audit key could; without it, as someone with the file only)."""
    with db.write() as conn:
        rows = conn.execute(sa.select(AUDIT).order_by(AUDIT.c.id)).mappings().all()
        prev = audit.GENESIS
        for row in rows:
            entry = {**row, "prev_hash": prev}
            if row["id"] == 1:
                entry["at"] = row["at"].replace(year=2025)
            entry["hash"] = audit.entry_hash(entry, key)  # type: ignore[arg-type]
            conn.execute(
                sa.update(AUDIT)
                .where(AUDIT.c.id == row["id"])
                .values(at=entry["at"], prev_hash=prev, hash=entry["hash"])
            )
            prev = entry["hash"]


def test_a_chain_rewritten_without_the_key_is_caught(any_db: Database, clock) -> None:
    work_some_reports(any_db, clock)
    drop_triggers(any_db)
    rewrite_chain(any_db, None)
    result = audit.verify(any_db)
    assert not result.ok and result.broken_id == 1


def test_a_chain_rewritten_with_the_key_changes_the_paper_head(any_db: Database, clock) -> None:
    """Someone who also has the key can recompute the chain: the head noted on paper
    is then no longer in the log, and ``verify --head`` says so."""
    from siaga_tui.services.audit_key import load_key

    work_some_reports(any_db, clock)
    printed = audit.audit_head(any_db).hash
    drop_triggers(any_db)
    rewrite_chain(any_db, load_key(create=False))
    assert audit.verify(any_db).ok
    assert audit.audit_head(any_db).hash != printed
    result = audit.verify(any_db, head=printed[:16])
    assert [f.problem for f in result.findings] == ["audit_paper_head_missing"]


def test_list_filters(any_db: Database, clock) -> None:
    work_some_reports(any_db, clock)
    audit.record(any_db, operator="sari", action=audit.Action.SIGN_IN, clock=clock)
    assert [e.operator for e in audit.list_entries(any_db, operator="sari")] == ["sari"]
    assert len(audit.list_entries(any_db, action="report.")) == 5
    assert [e.action for e in audit.list_entries(any_db, action="report.forwarded")] == [
        "report.forwarded"
    ]
    later = audit.list_entries(any_db, since=clock.now)
    assert {e.action for e in later} == {
        "report.note_added",
        "report.created",
        "report.status_changed",
        "signin",
    }
    assert len(audit.list_entries(any_db, until=clock.now)) == 2
    assert len(audit.list_entries(any_db, limit=2)) == 2


def cli(db_url: str, *args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--db", db_url, "--lang", "en", *args])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_cli_audit_verify_and_list(any_db_url: str, clock) -> None:
    from siaga_tui.core.db import open_database

    db = open_database(any_db_url)
    work_some_reports(db, clock)
    code, out, _ = cli(any_db_url, "audit", "verify")
    assert code == 0 and "5 entries checked" in out
    assert audit.audit_head(db).hash in out
    code, out, _ = cli(any_db_url, "audit", "--action", "report.forwarded", "--json")
    assert code == 0
    assert [e["action"] for e in json.loads(out)] == ["report.forwarded"]
    code, out, _ = cli(any_db_url, "audit", "--from", "2026-11-28", "--to", "2026-11-28")
    assert code == 0 and "report.created" in out
    code, _, err = cli(any_db_url, "audit", "--from", "yesterday")
    assert code == 2 and "yesterday" in err
    drop_triggers(db)
    raw(db, "UPDATE audit_entry SET subject = 'x' WHERE id = 4")
    code, out, _ = cli(any_db_url, "audit", "verify")
    assert code == 1 and "#4" in out and "BROKEN" in out
    db.dispose()


def test_the_head_is_printed_with_statistics_and_their_export(
    any_db_url: str, clock, tmp_path
) -> None:
    from siaga_tui.core.db import open_database

    db = open_database(any_db_url)
    work_some_reports(db, clock)
    head = audit.audit_head(db).hash
    code, out, _ = cli(any_db_url, "stats", "--all")
    assert code == 0 and head in out
    code, out, err = cli(any_db_url, "stats", "--all", "--format", "json")
    assert code == 0 and head in err and head not in out
    code, _, err = cli(
        any_db_url, "export", str(tmp_path / "stats.csv"), "--stats", "--year", "2026"
    )
    assert code == 0 and head in err
    db.dispose()
