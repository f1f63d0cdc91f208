"""Faults of the storage, the clock and the machine: each is said in one clear line (or
a non-zero exit), and nothing that was acknowledged is ever lost.

Tests run as root here, and root ignores file permissions. The read-only cases run the
CLI under ``setpriv`` with the capabilities that override permissions removed from its
bounding set, so the operating system really refuses the write, as it would for an
operator's account; where ``setpriv`` is missing they are skipped, not faked.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

import siaga_tui.core.db as core_db
from siaga_tui.core.db import Database, open_database
from siaga_tui.core.errors import StorageError
from siaga_tui.core.i18n import translate
from siaga_tui.core.models import REPORT
from siaga_tui.services.queue import QueueService
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import MutableClock
from tests.reliability.conftest import assert_no_traceback, assert_terminal_safe

FIRE = NewReport(category="kebakaran", kelurahan="Bahu", description="Api di dapur")
ADD = ("add", "--category=kebakaran", "--kelurahan=Bahu", "--description=Api di dapur")

FILER = """
import sys
from siaga_tui.core.db import open_database
from siaga_tui.services.reports import NewReport, ReportService
db = open_database(sys.argv[1])
desk = ReportService(db, operator="burst")
i = 0
while True:
    saved = desk.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description=f"api {i}"))
    print(saved.number, flush=True)
    i += 1
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def numbers_in(db_path: Path) -> set[str]:
    db = open_database(db_path, migrate=False)
    try:
        with db.read() as conn:
            return set(conn.execute(sa.select(REPORT.c.number)).scalars())
    finally:
        db.dispose()


def file_reports(db_path: Path, count: int, *, description: str = "Api di dapur") -> list[str]:
    db = open_database(db_path)
    desk = ReportService(db, operator="rel")
    numbers = [
        desk.create_report(
            NewReport(category="kebakaran", kelurahan="Bahu", description=f"{description} {i}")
        ).number
        for i in range(count)
    ]
    db.dispose()  # the last connection closing checkpoints the WAL into the file
    return numbers


def account(figures: dict[str, Any], written: list[str] | set[str], found: set[str]) -> None:
    """Record and check that every acknowledged report is still there."""
    lost = set(written) - found
    figures.update(written=len(written), found=len(found), lost=len(lost))
    assert not lost


def assert_one_clear_line(code: int, err: str, expected_key: str | None = None) -> None:
    assert code != 0
    assert_no_traceback(err)
    assert_terminal_safe(err)
    assert len(err.strip().splitlines()) == 1, err
    if expected_key is not None:
        head = translate(expected_key).split("{")[0]  # the sentence up to its first value
        assert head in err, (head, err)


# --- kill -9 in the middle of a burst of saves ----------------------------------------


def test_kill_9_during_a_burst_loses_no_acknowledged_report(
    db_path: Path, cli: Any, figures: dict[str, Any]
) -> None:
    open_database(db_path).dispose()
    process = subprocess.Popen(
        [sys.executable, "-c", FILER, str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    printed: list[str] = []
    for line in process.stdout:
        printed.append(line.strip())
        if len(printed) == 150:
            process.send_signal(signal.SIGKILL)
            break
    rest, _ = process.communicate(timeout=30)
    printed.extend(rest.split())  # acknowledged before the kill landed
    assert process.returncode == -signal.SIGKILL

    code, out, err = cli("db", "check")
    assert code == 0, out + err
    found = numbers_in(db_path)
    lost = set(printed) - found
    figures.update(written=len(printed), found=len(found), lost=len(lost))
    assert not lost
    # At most the one save that was in flight is in the file without having been printed.
    assert len(found - set(printed)) <= 1


# --- Read-only file, missing or read-only folder --------------------------------------


def restricted(*args: str) -> subprocess.CompletedProcess[str]:
    """Run siaga112 with root's power to ignore file permissions taken away."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    command = [
        setpriv,
        "--bounding-set=-dac_override,-dac_read_search,-fowner",
        "--",
        sys.executable,
        "-m",
        "siaga_tui",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="siaga-rel-"))
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)


def test_read_only_database_file_is_read_writes_refused_and_left_as_it_was(
    shared_folder: Path, figures: dict[str, Any]
) -> None:
    db_path = shared_folder / "siaga112.db"
    numbers = file_reports(db_path, 3)
    db_path.chmod(0o444)
    before = sha256(db_path)
    result = restricted("--db", str(db_path), *ADD)
    assert_one_clear_line(result.returncode, result.stderr, "db_read_only")
    assert sha256(db_path) == before
    # Reading works: every reading command, and nothing is left beside the file.
    export = shared_folder / "out.csv"
    for args in (
        ("show", numbers[0]),
        ("list", "--json"),
        ("stats", "--all"),
        ("export", str(export)),
        ("db", "check"),
        ("audit", "verify"),
    ):
        result = restricted("--db", str(db_path), *args)
        assert result.returncode == 0, (args, result.stderr)
        assert_no_traceback(result.stdout + result.stderr)
    assert numbers[0] in restricted("--db", str(db_path), "show", numbers[0]).stdout
    assert sha256(db_path) == before
    assert sorted(p.name for p in shared_folder.iterdir()) == ["out.csv", "siaga112.db"]
    db_path.chmod(0o644)
    account(figures, numbers, numbers_in(db_path))


def test_database_becoming_read_only_while_in_use_fails_the_save_clearly(db: Database) -> None:
    desk = ReportService(db, operator="rel")
    kept = desk.create_report(FIRE)
    db.engine.dispose()
    event.listen(
        db.engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA query_only = 1")
    )
    with pytest.raises(StorageError) as refused:
        desk.create_report(FIRE)
    assert refused.value.key == "db_read_only_now"
    assert_terminal_safe(refused.value.message())
    with db.read() as conn:
        assert conn.execute(sa.select(REPORT.c.number)).scalars().all() == [kept.number]


def test_missing_folder_is_refused_and_not_created(tmp_path: Path) -> None:
    target = tmp_path / "gone" / "siaga112.db"
    from siaga_tui.cli import main

    code, _, err = _run_main(main, target, *ADD)
    assert_one_clear_line(code, err, "db_folder_missing")
    assert not target.parent.exists()


def cli_main() -> Any:
    from siaga_tui.cli import main

    return main


def _run_main(main: Any, db_path: Path, *args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    from siaga_tui.cli.base import settings

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--db", str(db_path), "--operator", "rel", *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    settings.reset()
    return code, out.getvalue(), err.getvalue()


def test_folder_that_cannot_be_written_is_refused(shared_folder: Path) -> None:
    folder = shared_folder / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    result = restricted("--db", str(folder / "siaga112.db"), *ADD)
    assert_one_clear_line(result.returncode, result.stderr, "db_folder_not_writable")
    assert list(folder.iterdir()) == []


def test_database_in_a_folder_that_became_read_only_fails_clearly(
    shared_folder: Path, figures: dict[str, Any]
) -> None:
    db_path = shared_folder / "siaga112.db"
    numbers = file_reports(db_path, 2)
    shared_folder.chmod(0o555)  # SQLite cannot create its journal beside the file
    result = restricted("--db", str(db_path), *ADD)
    assert_one_clear_line(result.returncode, result.stderr, "db_read_only_now")
    shared_folder.chmod(0o755)
    account(figures, numbers, numbers_in(db_path))


# --- Corrupt file, not a database -----------------------------------------------------


def test_corrupt_database_is_reported_by_db_check(tmp_path: Path) -> None:
    db_path = tmp_path / "siaga112.db"
    file_reports(db_path, 300, description="Laporan panjang " * 20)
    data = bytearray(db_path.read_bytes())
    rng = random.Random(112)
    middle = len(data) // 2
    data[middle : middle + 8192] = bytes(rng.randrange(256) for _ in range(8192))
    db_path.write_bytes(bytes(data))
    code, out, err = _run_main(cli_main(), db_path, "db", "check")
    assert code != 0
    assert_no_traceback(out + err)
    assert_terminal_safe(out + err)
    said = out + err
    assert translate("db_check_integrity", detail="").split(":")[0] in said or "siaga112:" in err
    # Every other command refuses in one line or works; none crashes.
    for args in (("list",), ADD):
        code, out, err = _run_main(cli_main(), db_path, *args)
        assert_no_traceback(out + err)
        if code != 0:
            assert_one_clear_line(code, err)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"Skripsi Bab 1\nPendahuluan...\n" * 200, id="text-file"),
        pytest.param(
            bytes(random.Random(7).randrange(256) for _ in range(20_000)), id="random-bytes"
        ),
        pytest.param(b"SQLite format 3\x00" + b"\xff" * 4000, id="bad-header"),
    ],
)
@pytest.mark.parametrize(
    "command", [ADD, ("db", "check"), ("db", "upgrade"), ("list",), ("tui",)], ids=" ".join
)
def test_file_that_is_no_database_is_refused_and_never_overwritten(
    tmp_path: Path, content: bytes, command: tuple[str, ...]
) -> None:
    from siaga_tui.cli import main

    target = tmp_path / "thesis.db"
    target.write_bytes(content)
    before = sha256(target)
    code, _out, err = _run_main(main, target, *command)
    assert_one_clear_line(code, err)
    assert sha256(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.db"]


def test_sqlite_file_of_another_program_is_left_untouched(tmp_path: Path) -> None:
    from siaga_tui.cli import main

    target = tmp_path / "other.db"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.close()
    before = sha256(target)
    code, _, err = _run_main(main, target, *ADD)
    assert_one_clear_line(code, err, "db_not_siaga")
    assert sha256(target) == before


# --- Locked longer than the busy timeout ----------------------------------------------

HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


def test_database_locked_by_another_process_says_so_and_saves_nothing(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, figures: dict[str, Any]
) -> None:
    from siaga_tui.cli import main

    numbers = file_reports(db_path, 1)
    monkeypatch.setattr(core_db, "BUSY_TIMEOUT_SECONDS", 0.3)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, _, err = _run_main(main, db_path, *ADD)
        assert_one_clear_line(code, err, "db_locked")
        # The queue can still be read while another process writes.
        code, _out, err = _run_main(main, db_path, "list", "--json")
        assert code == 0, err
    finally:
        holder.communicate("", timeout=30)
    account(figures, numbers, numbers_in(db_path))
    code, _out, err = _run_main(main, db_path, *ADD)
    assert code == 0, err
    figures.update(busy_timeout_s=core_db.BUSY_TIMEOUT_SECONDS)


# --- Disk full ------------------------------------------------------------------------


def _fill_the_disk(engine: sa.engine.Engine) -> None:
    """From now on the file cannot grow by a single page (SQLite's max_page_count)."""

    def full(dbapi: sqlite3.Connection, _record: Any) -> None:
        pages = dbapi.execute("PRAGMA page_count").fetchone()[0]
        dbapi.execute(f"PRAGMA max_page_count = {pages}")

    engine.dispose()
    event.listen(engine, "connect", full)


def test_disk_full_fails_the_save_clearly_and_keeps_what_was_saved(
    db: Database, figures: dict[str, Any]
) -> None:
    desk = ReportService(db, operator="rel")
    kept = [desk.create_report(FIRE).number for _ in range(3)]
    _fill_the_disk(db.engine)
    refused = 0
    for _ in range(5):
        try:
            desk.create_report(
                NewReport(category="kebakaran", kelurahan="Bahu", description="x" * 8000)
            )
        except StorageError as error:
            assert error.key == "db_full"
            refused += 1
    assert refused >= 1
    with db.read() as conn:
        stored = set(conn.execute(sa.select(REPORT.c.number)).scalars())
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    account(figures, kept, stored)
    figures.update(refused_when_full=refused)


def test_disk_full_in_the_cli_is_one_line(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from siaga_tui.cli import main

    file_reports(db_path, 1)
    real = core_db.create_engine

    def create_full_engine(url: str, **options: Any) -> sa.engine.Engine:
        engine = real(url, **options)
        _fill_the_disk(engine)
        return engine

    monkeypatch.setattr(core_db, "create_engine", create_full_engine)
    long_add = (*ADD[:-1], "--description=" + "x" * 8000)
    outcomes = [_run_main(main, db_path, *long_add)[0] for _ in range(3)]
    code, _, err = _run_main(main, db_path, *long_add)
    assert 2 in outcomes or code == 2
    if code:
        assert_one_clear_line(code, err, "db_full")


# --- A database from a newer version --------------------------------------------------


def test_database_from_a_newer_version_is_refused_untouched(db_path: Path) -> None:
    from siaga_tui.cli import main

    file_reports(db_path, 1)
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    before = sha256(db_path)
    for command in (ADD, ("list",), ("db", "upgrade")):
        code, _, err = _run_main(main, db_path, *command)
        assert_one_clear_line(code, err, "db_too_new")
        assert "9999" in err
    assert sha256(db_path) == before


# --- The clock steps backwards --------------------------------------------------------


def test_clock_stepping_back_keeps_order_by_sequence_and_intervals_sane(
    db: Database, clock: MutableClock
) -> None:
    desk = ReportService(db, operator="rel", clock=clock)
    queue = QueueService(db)
    first = desk.create_report(FIRE)
    seen = queue.last_change()
    clock.advance(hours=-2)  # NTP corrects a clock that ran fast
    second = desk.create_report(FIRE)
    assert second.number > first.number  # numbers follow the sequence, not the clock
    assert queue.changes_since(seen).report_ids == {second.id}
    clock.advance(hours=-1)
    desk.forward(second.id, "damkar")
    desk.forward(first.id, "damkar")
    referral = desk.get_report(first.id).referrals[0]
    clock.advance(hours=-1)
    desk.acknowledge(first.id, referral.id)
    desk.change_status(first.id, "selesai", note="padam")
    desk.mark_duplicate(second.id, first.id)
    for report_id in (first.id, second.id):
        summary = desk.get_report(report_id).summary
        detail = desk.get_report(report_id)
        assert summary.first_forwarded_at >= summary.created_at
        assert summary.closed_at is not None and summary.closed_at >= summary.first_forwarded_at
        if detail.first_acknowledged_at is not None:
            assert detail.first_acknowledged_at >= summary.first_forwarded_at
        event_ids = [e.id for e in detail.events]
        assert event_ids == sorted(event_ids)


# --- A network filesystem -------------------------------------------------------------


def test_database_on_a_network_filesystem_is_warned_about(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from siaga_tui.cli import main

    assert core_db.filesystem_warning(db_path) is None  # the test's own folder is local
    monkeypatch.setattr(core_db, "_filesystem_type", lambda folder: "nfs4")
    code, out, err = _run_main(main, db_path, *ADD)
    assert code == 0, err
    assert "nfs4" in err and str(db_path) in err
    assert out.strip().startswith("112-")


def test_network_filesystem_is_found_in_the_mount_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mounts = tmp_path / "mounts"
    share = tmp_path / "share"
    share.mkdir()
    mounts.write_text(
        f"overlay / overlay rw 0 0\nfileserver:/siaga {share} nfs4 rw,relatime 0 0\n",
        encoding="utf-8",
    )
    real_path = core_db.Path

    class FakeProc(type(real_path())):  # type: ignore[misc]
        def __new__(cls, *parts: Any) -> Any:
            if parts == ("/proc/mounts",):
                return real_path(mounts)
            return real_path(*parts)

    monkeypatch.setattr(core_db, "Path", FakeProc)
    warning = core_db.filesystem_warning(share / "siaga112.db")
    assert warning is not None and "nfs4" in warning
    assert core_db.filesystem_warning(tmp_path / "siaga112.db") is None
