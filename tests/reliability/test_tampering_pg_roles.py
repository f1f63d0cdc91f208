"""PostgreSQL least-privilege roles (deploy/postgresql-roles.sql): the program's login
cannot switch off the triggers that keep the history and the audit log append-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from siaga_tui.core.db import open_database
from siaga_tui.services import audit
from siaga_tui.services.reports import NewReport, ReportService

SCRIPT = Path(__file__).parents[2] / "deploy" / "postgresql-roles.sql"

#: What someone with the program's login might try, and must be refused.
BYPASSES = [
    "SET session_replication_role = replica",
    "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only",
    "ALTER TABLE report_event DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_entry_append_only ON audit_entry",
    "UPDATE audit_entry SET operator = 'mallory'",
    "DELETE FROM audit_entry",
    "TRUNCATE audit_entry",
    "UPDATE report_event SET operator = 'mallory'",
    "DELETE FROM report",
    "TRUNCATE report CASCADE",
    "ALTER TABLE report OWNER TO siaga_app",
    "CREATE TABLE sneaky (x int)",
]


@pytest.fixture
def roles(migrated_pg_url: str) -> dict[str, str]:
    admin = sa.create_engine(migrated_pg_url)
    with admin.begin() as conn:
        # As psql -f would: the whole script, without placeholder processing.
        conn.connection.dbapi_connection.cursor().execute(SCRIPT.read_text(encoding="utf-8"))  # type: ignore[union-attr]
        conn.exec_driver_sql("ALTER ROLE siaga_app PASSWORD 'app-secret'")
        conn.exec_driver_sql("ALTER ROLE siaga_owner PASSWORD 'owner-secret'")
    admin.dispose()
    url = sa.engine.make_url(migrated_pg_url)
    return {
        "app": url.set(username="siaga_app", password="app-secret").render_as_string(
            hide_password=False
        ),
        "owner": url.set(username="siaga_owner", password="owner-secret").render_as_string(
            hide_password=False
        ),
    }


def test_the_program_works_under_its_login(roles: dict[str, str], clock: Any) -> None:
    db = open_database(roles["app"])
    desk = ReportService(db, operator="budi", clock=clock)
    saved = desk.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description="Api"))
    desk.forward(saved.id, "damkar")
    desk.add_note(saved.id, "Petugas di lokasi")
    assert audit.verify(db).ok
    db.dispose()
    owner = open_database(roles["owner"])  # the owner runs migrations: nothing to do here
    owner.dispose()


@pytest.mark.parametrize("statement", BYPASSES)
def test_the_login_cannot_bypass_the_triggers(
    roles: dict[str, str], clock: Any, statement: str
) -> None:
    db = open_database(roles["app"])
    ReportService(db, operator="budi", clock=clock).create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="Api")
    )
    with pytest.raises(sa.exc.DBAPIError) as refused, db.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    text = str(refused.value.orig).lower()
    assert "permission denied" in text or "must be owner" in text or "append-only" in text, text
    assert audit.verify(db).ok
    db.dispose()


def test_what_the_login_may_change_directly_is_caught_by_verify(
    roles: dict[str, str], clock: Any
) -> None:
    """The program must update reports, so its login can too: verify names the row."""
    db = open_database(roles["app"])
    ReportService(db, operator="budi", clock=clock).create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="Api")
    )
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE report SET status = 'selesai'")
        conn.exec_driver_sql("UPDATE operator SET role = 'supervisor'")
    result = audit.verify(db)
    assert [(f.problem, f.table, f.row) for f in result.findings] == [
        ("audit_row_changed", "report", 1)
    ]
    db.dispose()
