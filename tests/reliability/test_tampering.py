"""Tampering with the database behind the program's back: each kind is caught.

Someone with the database file (the ``sqlite3`` shell; ``psql`` on PostgreSQL) but not
the audit key tries each change below; ``siaga112 audit verify`` must exit 1 with a
line naming the entry or row. A case marked ``paper`` also reverts everything the cut
entries recorded, so nothing inside the database can tell: the head noted on paper
(``audit verify --head``) must catch it.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from siaga_tui.core.db import Database, open_database
from siaga_tui.services import audit
from siaga_tui.services.calls import CallService
from siaga_tui.services.operators import OperatorService
from siaga_tui.services.reports import NewReport, ReportService

PASSWORD = "kata-sandi-rahasia-1"


@dataclass(frozen=True)
class Tamper:
    id: str
    sql: str  # {engine-neutral SQL}; run after the triggers are dropped
    names: str  # what the finding line must name ("entry #7", "report row 3", …)
    paper: bool = False  # caught only against the head noted on paper


TAMPERINGS: list[Tamper] = [
    Tamper("wipe-audit-log", "DELETE FROM audit_entry", "report row 1"),
    Tamper(
        "delete-last-entries",
        "DELETE FROM audit_entry WHERE id > (SELECT max(id) - 2 FROM audit_entry)",
        "row",
    ),
    Tamper(
        "append-forged-entry",
        "INSERT INTO audit_entry (id, at, operator, action, subject, details, prev_hash, hash) "
        "SELECT max(id) + 1, '2026-11-28 02:00:00.000000', 'mallory', 'signin', 'mallory', '{}', "
        "(SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1), "
        "'0000000000000000000000000000000000000000000000000000000000000001' FROM audit_entry",
        "entry #",
    ),
    Tamper(
        "append-entry-with-guessed-key",
        "INSERT INTO audit_entry (id, at, operator, action, subject, details, prev_hash, hash) "
        "SELECT max(id) + 1, '2026-11-28 02:00:00.000000', 'mallory', 'signin', 'mallory', "
        '\'{"key": "0000000000000000"}\', (SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1), '
        "'0000000000000000000000000000000000000000000000000000000000000002' FROM audit_entry",
        "entry #",
    ),
    Tamper(
        "remove-newest-report-with-history",
        "DELETE FROM audit_entry WHERE id >= (SELECT min(id) FROM audit_entry WHERE subject = '112-2026-000003');"
        "DELETE FROM report_event WHERE report_id = 3; DELETE FROM call WHERE report_id = 3;"
        "DELETE FROM report WHERE id = 3",
        "112-2026-000003",
    ),
    Tamper(
        "update-report-description",
        "UPDATE report SET description = 'tidak ada apa-apa' WHERE id = 1",
        "report row 1",
    ),
    Tamper(
        "update-report-status",
        "UPDATE report SET status = 'selesai', closed_at = updated_at WHERE id = 2",
        "report row 2",
    ),
    Tamper(
        "update-report-caller",
        "UPDATE report SET caller_phone = '+6281111111111' WHERE id = 1",
        "report row 1",
    ),
    Tamper(
        # The interval columns are worked out by the database and cannot be written; a
        # table rebuilt with plain columns in their place can (see FORGE_INTERVAL).
        "forge-stored-interval",
        "{forge_interval}; UPDATE report SET answer_to_saved_s = 1 WHERE id = 1",
        "report row 1",
    ),
    Tamper(
        "insert-report",
        "INSERT INTO report (number, year, seq, category, kind, priority, status, queue_rank, "
        "kelurahan_code, kecamatan_code, address, description, operator, created_at, updated_at, version) "
        "VALUES ('112-2026-000099', 2026, 99, 'kebakaran', 'darurat', 1, 'menunggu', 0, '71.71.09.1002', "
        "'71.71.09', '', 'palsu', 'mallory', '2026-11-28 02:00:00.000000', '2026-11-28 02:00:00.000000', 1)",
        "report row 4",
    ),
    Tamper(
        "delete-report-middle",
        "DELETE FROM referral WHERE report_id = 2; DELETE FROM report_event WHERE report_id = 2;"
        " DELETE FROM call WHERE report_id = 2; DELETE FROM report WHERE id = 2",
        "report row 2",
    ),
    Tamper(
        "update-referral",
        "UPDATE referral SET agency = 'bpbd', acknowledged_at = NULL WHERE id = 1",
        "referral row 1",
    ),
    Tamper("delete-referral", "DELETE FROM referral WHERE id = 1", "referral row 1"),
    Tamper(
        "update-call", "UPDATE call SET caller_phone = '+6281222222222' WHERE id = 4", "call row 4"
    ),
    Tamper("delete-call", "DELETE FROM call WHERE id = 4", "call row 4"),
    Tamper(
        "promote-operator",
        "UPDATE operator SET role = 'supervisor' WHERE username = 'budi'",
        "operator row 2",
    ),
    Tamper(
        "replace-password-hash",
        "UPDATE operator SET password_hash = (SELECT password_hash FROM operator "
        "WHERE username = 'budi') WHERE username = 'sari'",
        "operator row 1",
    ),
    Tamper(
        "enable-disabled-account",
        "UPDATE operator SET active = {true} WHERE username = 'lama'",
        "operator row 3",
    ),
    Tamper(
        "insert-operator",
        "INSERT INTO operator (username, display_name, role, active, password_hash, "
        "failed_attempts, created_at) SELECT 'mallory', 'Mallory', 'supervisor', {true}, password_hash, 0, "
        "created_at FROM operator WHERE username = 'sari'",
        "operator row 4",
    ),
    Tamper(
        "update-audit-entry", "UPDATE audit_entry SET operator = 'mallory' WHERE id = 3", "entry #3"
    ),
    Tamper("delete-middle-entry", "DELETE FROM audit_entry WHERE id = 4", "entry #5"),
    Tamper(
        "update-event",
        "UPDATE report_event SET operator = 'mallory' WHERE id = 2",
        "report_event row 2",
    ),
    Tamper("delete-event", "DELETE FROM report_event WHERE id = 2", "report_event row 2"),
    Tamper(
        "insert-event",
        "INSERT INTO report_event (report_id, at, operator, kind, details) "
        "VALUES (1, '2026-11-28 02:00:00.000000', 'mallory', 'note_added', '{\"note\": \"x\"}')",
        "report_event row",
    ),
    Tamper(
        "cut-and-revert-to-paper-head",
        "DELETE FROM audit_entry WHERE id > {head_id}; DELETE FROM report_event WHERE report_id = 3;"
        "DELETE FROM call WHERE report_id = 3; DELETE FROM report WHERE id = 3;"
        "UPDATE report_number_sequence SET last_value = 2",
        "paper",
        paper=True,
    ),
]


def work(db: Database, clock: Any) -> audit.AuditHead:
    """Accounts, three reports worked a little, a prank call; returns the head noted
    on paper before the third report (the last cut case cuts back to it)."""
    accounts = OperatorService(db, clock=clock)
    sari = accounts.add("sari", "Sari", "supervisor", PASSWORD)
    accounts.add("budi", "Budi", "operator", PASSWORD, by=sari_actor())
    accounts.add("lama", "Lama", "operator", PASSWORD, by=sari_actor())
    accounts.disable("lama", by=sari_actor())
    assert sari.role == "supervisor"
    desk = ReportService(db, operator="budi", clock=clock)
    first = desk.create_report(
        NewReport(
            category="kebakaran",
            kelurahan="Bahu",
            description="Rumah terbakar",
            phone="081234567890",
            caller_name="Budi Santoso",
        )
    )
    referral = desk.forward(first.id, "damkar")
    clock.advance(minutes=2)
    desk.acknowledge(first.id, referral, acknowledged_by="Pak Joni")
    second = desk.create_report(
        NewReport(category="kesehatan", kelurahan="Bahu", description="Pingsan")
    )
    desk.add_note(second.id, "Ambulans berangkat")
    CallService(db, operator="budi", clock=clock).log_call("iseng", phone="081298765432")
    head = audit.audit_head(db)
    clock.advance(minutes=2)
    desk.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description="Asap"))
    return head


def paper_head(db: Database) -> audit.AuditHead:
    return audit.audit_head(db)


def sari_actor() -> Any:
    from siaga_tui.services.operators import Actor

    return Actor(username="sari", display_name="Sari", role="supervisor")


def drop_triggers_sql(engine: str) -> str:
    if engine == "sqlite":
        return "".join(
            f"DROP TRIGGER {table}_no_{op};"
            for table in ("audit_entry", "report_event")
            for op in ("update", "delete")
        )
    return "".join(
        f"DROP TRIGGER {table}_append_only ON {table};" for table in ("audit_entry", "report_event")
    )


def sqlite_shell(path: Path, script: str) -> None:
    """Run ``script`` as someone at the machine would: the sqlite3 shell (or, where it
    is not installed, Python's sqlite3 module, which runs the same library)."""
    shell = shutil.which("sqlite3")
    if shell:
        done = subprocess.run(
            [shell, str(path)], input=script, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0 and not done.stderr, done.stderr
        return
    conn = sqlite3.connect(path)
    try:
        conn.executescript(script)
    finally:
        conn.close()


#: Each engine's way to turn the generated interval columns into plain ones.
FORGE_INTERVAL = {
    "sqlite": "CREATE TABLE report_copy AS SELECT * FROM report; DROP TABLE report;"
    " ALTER TABLE report_copy RENAME TO report",
    "postgresql": "ALTER TABLE report ALTER COLUMN answer_to_saved_s DROP EXPRESSION",
}


def tamper(db: Database, url: str, case: Tamper, head: audit.AuditHead) -> None:
    engine = "sqlite" if db.is_sqlite else "postgresql"
    sql = drop_triggers_sql(engine) + (
        case.sql.replace("{head_id}", str(head.id))
        .replace("{true}", "1" if engine == "sqlite" else "true")
        .replace("{forge_interval}", FORGE_INTERVAL[engine])
    )
    if engine == "sqlite":
        db.dispose()
        assert db.path is not None
        sqlite_shell(db.path, sql)
    else:
        with db.write() as conn:
            for statement in filter(None, (s.strip() for s in sql.split(";"))):
                conn.exec_driver_sql(statement.replace("%", "%%"))


def run_verify(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from siaga_tui.cli import main
    from siaga_tui.cli.base import settings

    capsys.readouterr()
    try:
        main(["--db", url, "--lang", "en", "audit", "verify", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        settings.reset()
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """The supervisor runs the checks (once accounts exist, commands need sign-in)."""
    monkeypatch.setenv("SIAGA112_OPERATOR", "sari")
    monkeypatch.setenv("SIAGA112_PASSWORD", PASSWORD)
    monkeypatch.setenv("SIAGA112_PASSWORD_HASH", "fast")


@pytest.mark.parametrize("case", TAMPERINGS, ids=[c.id for c in TAMPERINGS])
def test_tampering_is_caught(
    case: Tamper,
    any_db_url: str,
    clock: Any,
    capsys: pytest.CaptureFixture[str],
    signed_in: None,
    figures: dict[str, Any],
) -> None:
    db = open_database(any_db_url)
    cut = work(db, clock)
    noted = paper_head(db)  # the head a handover sheet would show
    code, out = run_verify(any_db_url, capsys)
    assert code == 0, out
    tamper(db, any_db_url, case, cut)
    db.dispose()
    figures["tried"] = 1
    if case.paper:
        code, out = run_verify(any_db_url, capsys)
        assert code == 0, "caught without the paper head: make the case harder\n" + out
        code, out = run_verify(any_db_url, capsys, "--head", noted.hash[:16])
        assert code == 1 and noted.hash[:16] in out, out
    else:
        code, out = run_verify(any_db_url, capsys)
        assert code == 1, out
        assert "BROKEN" in out and case.names in out, out
    figures["caught"] = 1


def test_an_untouched_log_passes_with_its_paper_head(
    any_db_url: str, clock: Any, capsys: pytest.CaptureFixture[str], signed_in: None
) -> None:
    db = open_database(any_db_url)
    work(db, clock)
    head = paper_head(db)
    db.dispose()
    code, out = run_verify(any_db_url, capsys, "--head", f"#{head.id} {head.hash[:20]}")
    assert code == 0 and "is in the log" in out, out


def test_without_the_key_verify_says_where_it_looked(
    any_db_url: str,
    clock: Any,
    capsys: pytest.CaptureFixture[str],
    signed_in: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    db = open_database(any_db_url)
    work(db, clock)
    db.dispose()
    monkeypatch.setenv("SIAGA112_AUDIT_KEY", str(tmp_path / "nowhere" / "audit.key"))
    code, out = run_verify(any_db_url, capsys)
    assert code == 1 and "no audit key at" in out and "nowhere" in out, out


def test_every_covered_table_column_is_declared() -> None:
    """A column added to a covered table must be put in the digest or said to be left out."""
    from siaga_tui.services.audit_state import NOT_COVERED, STATE_COLUMNS, TABLES

    for name, table in TABLES.items():
        declared = {c if isinstance(c, str) else c[0] for c in STATE_COLUMNS[name]}
        left_out = set(NOT_COVERED.get(name, {}))
        assert {c.name for c in table.columns} - {"id"} == declared | left_out, name
        assert not declared & left_out


def test_the_key_is_private_and_made_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from siaga_tui.services.audit_key import load_key

    path = tmp_path / "cfg" / "audit.key"
    monkeypatch.setenv("SIAGA112_AUDIT_KEY", str(path))
    assert load_key(create=False) is None
    key = load_key(create=True)
    assert key is not None and path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert load_key(create=True) == key
    with sa.create_engine("sqlite://").connect():
        pass


def test_every_way_rows_are_written_is_covered_by_the_log(
    tmp_path: Path, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reports, calls without a report, imports of both and the demo: verify holds after
    each (a writer that left its rows out of the log would show as rows in no entry)."""
    from siaga_tui.cli import main
    from siaga_tui.cli.base import settings
    from siaga_tui.services.demo import build_demo

    def run(*args: str) -> int:
        try:
            main(["--lang", "en", "--operator", "rel", *args])
            return 0
        except SystemExit as exc:
            return int(exc.code or 0)
        finally:
            settings.reset()

    source = tmp_path / "source.db"
    db = open_database(source)
    desk = ReportService(db, operator="budi", clock=clock)
    first = desk.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description="Api"))
    desk.forward(first.id, "damkar")
    desk.attach_call(first.id, phone="081234567890")
    CallService(db, operator="budi", clock=clock).log_call("iseng", phone="081298765432")
    db.dispose()
    assert run("--db", str(source), "export", str(tmp_path / "reports.csv")) == 0
    assert run("--db", str(source), "export", "--calls", str(tmp_path / "calls.csv")) == 0
    target = tmp_path / "target.db"
    assert (
        run(
            "--db",
            str(target),
            "import",
            str(tmp_path / "reports.csv"),
            str(tmp_path / "calls.csv"),
        )
        == 0
    )
    capsys.readouterr()
    for path in (source, target):
        checked = open_database(path)
        result = audit.verify(checked)
        assert result.ok and result.rows_checked >= 4, result.findings
        checked.dispose()
    demo = open_database(tmp_path / "demo.db")
    build_demo(demo, seed=3, clock=clock)
    assert audit.verify(demo).ok
    demo.dispose()
