"""``siaga112 backup``: a consistent, checked copy while another process keeps filing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from siaga_tui.cli import main
from siaga_tui.core.db import open_database
from siaga_tui.core.models import REPORT
from siaga_tui.services import backup as backup_service
from siaga_tui.services.backup import BackupRefused, backup_sqlite, sqlite_source
from tests.test_export_memory import bulk_reports

#: Files reports one transaction at a time until killed; prints each number once saved.
_WRITER = """
import sys
from siaga_tui.core.db import open_database
from siaga_tui.services.reports import NewReport, ReportService
service = ReportService(open_database(sys.argv[1]), operator="writer")
while True:
    saved = service.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description="Asap tebal"))
    print(saved.number, flush=True)
"""


def _numbers(path: Path) -> set[str]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return {n for (n,) in conn.execute("SELECT number FROM report")}
    finally:
        conn.close()


def test_backup_while_another_process_files_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "live.db"
    bulk_reports(source, 20_000)
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        for _ in range(5):  # the writer is filing
            assert writer.stdout.readline().startswith("112-")
        acknowledged = _numbers(source)  # every save committed before the backup starts
        monkeypatch.setattr(backup_service, "PAGES_PER_STEP", 64)
        steps: list[tuple[int, int]] = []

        def progress(done: int, total: int) -> None:
            steps.append((done, total))
            time.sleep(0.002)  # let the writer commit between steps

        result = backup_sqlite(source, tmp_path / "copy.db", progress=progress)
        during = writer.stdout.readline()
        assert during.startswith("112-") and writer.poll() is None  # still saving, never blocked
    finally:
        writer.kill()
        _, errors = writer.communicate(timeout=30)
    assert "Traceback" not in errors
    assert len(steps) > 10 and steps[-1][0] == steps[-1][1]
    copy = result.destination
    check = sqlite3.connect(copy)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        check.close()
    copied = _numbers(copy)
    assert acknowledged <= copied
    assert result.reports == len(copied) >= 20_005
    # The copy is a database this program opens as it is.
    db = open_database(copy)
    try:
        with db.read() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar() == len(
                copied
            )
    finally:
        db.dispose()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_backup_into_a_folder_keeps_the_name(tmp_path: Path) -> None:
    source = tmp_path / "live.db"
    open_database(source).dispose()
    folder = tmp_path / "backups"
    folder.mkdir()
    assert backup_sqlite(source, folder).destination == folder / "live.db"
    with pytest.raises(BackupRefused):
        backup_sqlite(source, source)
    with pytest.raises(BackupRefused):
        backup_sqlite(source, tmp_path / "missing" / "copy.db")


@pytest.mark.parametrize(
    "url", ["postgresql://siaga@localhost/siaga112", "postgresql+psycopg://x@db/y"]
)
def test_server_databases_are_refused_with_pg_dump(url: str) -> None:
    with pytest.raises(BackupRefused) as caught:
        sqlite_source(url)
    assert "pg_dump" in caught.value.message("en") and "pg_dump" in caught.value.message("id")


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "live.db"
    open_database(source).dispose()

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(["--lang", "en", *args])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        return (code, *capsys.readouterr())

    code, out, _ = run("--db", str(source), "backup", str(tmp_path / "copy.db"))
    assert code == 0 and "integrity checked: ok" in out and (tmp_path / "copy.db").is_file()
    code, _, err = run(
        "--db", "postgresql://siaga@localhost/siaga112", "backup", str(tmp_path / "pg.db")
    )
    assert code == 2 and "pg_dump" in err and len(err.strip().splitlines()) == 1
    code, _, err = run("--db", str(tmp_path / "none.db"), "backup", str(tmp_path / "x.db"))
    assert code == 2 and "does not exist" in err
