"""The lean save path: statements run on the driver's cursor store what Core stores,
fail as Core fails, and the audit hashes keep their canonical form."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from siaga_tui.core.db import Database, DriverInsert, DriverStatement
from siaga_tui.core.errors import StorageError
from siaga_tui.core.models import CALL, EVENT
from siaga_tui.services import audit
from siaga_tui.services.reports import NewReport, ReportService

WITA = timezone(timedelta(hours=8))


def _stored(conn: sa.Connection, table: sa.Table, row_id: int) -> tuple:
    """The row as the driver returns it (no type processing), without its id."""
    columns = ", ".join(c.name for c in table.c if c.name != "id")
    return tuple(
        conn.exec_driver_sql(f"SELECT {columns} FROM {table.name} WHERE id = {int(row_id)}").one()
    )


def test_a_driver_insert_stores_exactly_what_core_stores(any_db: Database, clock) -> None:
    report = ReportService(any_db, operator="budi", clock=clock).create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="Rumah terbakar")
    )
    at = datetime(2026, 11, 28, 9, 30, 15, 123456, tzinfo=WITA)
    call = {
        "answered_at": at,
        "caller_phone": "+6281234567890",
        "disposition": "laporan",
        "operator": "budi",
        "note": "Bau asap, lantai 2 — ½ jam",
        "report_id": report.id,
    }
    event = {
        "report_id": report.id,
        "at": at,
        "operator": "budi",
        "kind": "note_added",
        "details": {"number": "112-2026-000001", "priority": 1, "nested": {"ok": [1, None]}},
    }
    with any_db.write() as conn:
        core_call = conn.execute(sa.insert(CALL), call).inserted_primary_key[0]
        lean_call = DriverInsert(CALL, list(call)).execute(conn, call)
        core_event = conn.execute(sa.insert(EVENT), event).inserted_primary_key[0]
        lean_event = DriverInsert(EVENT, list(event)).execute(conn, event)
    assert lean_call == core_call + 1 and lean_event == core_event + 1
    with any_db.read() as conn:
        assert _stored(conn, CALL, lean_call) == _stored(conn, CALL, core_call)
        assert _stored(conn, EVENT, lean_event) == _stored(conn, EVENT, core_event)
        stored_at = conn.execute(
            sa.select(CALL.c.answered_at).where(CALL.c.id == lean_call)
        ).scalar()
    assert stored_at == at.astimezone(UTC)


def test_an_insert_needs_every_column_it_was_built_for(any_db: Database) -> None:
    insert = DriverInsert(CALL, ["answered_at", "caller_phone", "disposition", "operator"])
    with pytest.raises(KeyError), any_db.write() as conn:
        insert.execute(
            conn, {"answered_at": datetime.now(UTC), "disposition": "iseng", "operator": "x"}
        )


def test_driver_errors_are_raised_as_sqlalchemy_errors(any_db: Database, clock) -> None:
    ReportService(any_db, operator="budi", clock=clock).create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="Rumah terbakar")
    )
    head = audit.audit_head(any_db)
    again = DriverStatement(
        sa.insert(audit.AUDIT),
        ["id", "at", "operator", "action", "subject", "details", "prev_hash", "hash"],
    )
    entry = {
        "id": head.id,
        "at": clock(),
        "operator": "x",
        "action": "a",
        "subject": "",
        "details": {},
        "prev_hash": audit.GENESIS,
        "hash": "f" * 64,
    }
    with pytest.raises(sa.exc.IntegrityError), any_db.write() as conn:
        again.execute(conn, entry)
    # The failed transaction is gone, the connection is usable, the chain is whole.
    assert audit.audit_head(any_db) == head
    assert audit.verify(any_db).ok


def test_a_storage_failure_on_the_driver_path_reads_as_one(db: Database, clock) -> None:
    broken = DriverStatement(sa.text("INSERT INTO no_such_table VALUES (:x)"))
    with pytest.raises(StorageError) as caught, db.write() as conn:
        broken.execute(conn, {"x": 1})
    assert "no_such_table" in str(caught.value.params.get("reason", ""))


@pytest.mark.parametrize(
    "details",
    [
        {"event_id": 7, "report_id": 3, "event_sha256": "ab" * 32},
        {"note": "Ünïcode ✓ \u202e", "n": 1.5, "none": None, "list": [1, {"b": 1, "a": 2}]},
        # Not JSON-ready: the hash takes the full canonical walk.
        {"when": datetime(2026, 1, 1, 8, tzinfo=WITA), "tags": {"x"}, "pair": (1, 2)},
    ],
)
def test_hashes_are_sha256_of_the_canonical_text(details: dict) -> None:
    at = datetime(2026, 11, 28, 10, 0, 0, 5, tzinfo=WITA)
    entry = {
        "id": 9,
        "at": at,
        "operator": "budi",
        "action": "report.created",
        "subject": "112-2026-000009",
        "details": details,
        "prev_hash": audit.GENESIS,
    }
    expected = audit.canonical({**entry, "details": details})
    assert audit.entry_hash(entry) == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    event = {
        "id": 4,
        "report_id": 3,
        "kind": "created",
        "operator": "budi",
        "at": at,
        "details": details,
    }
    expected = audit.canonical(event)
    assert audit.event_digest(event) == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    assert entry["at"] is at and event["at"] is at  # the caller's mapping is left alone
