"""Files: who may read them, what is never replaced, and a database that goes away.

- Modes: the database, its -wal and -shm, the default data folder, errors.log and the
  audit key are created for the owner only (or the group SIAGA112_GROUP names); the
  error log never holds a statement's values (caller numbers).
- Clobbering: export and backup never replace a device, a FIFO, a directory or what a
  symbolic link points to unless it is a regular file; backup replaces only its own
  backups unless --force.
- A database deleted, replaced or its -wal removed under a running program: noticed,
  said in words, never written into the lost file, nothing acknowledged lost; the CLI
  never makes a fresh database where one was (112-YYYY-000001 again).
"""

from __future__ import annotations

import grp
import os
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from siaga_tui.core.db import Database, open_database
from siaga_tui.core.errors import StorageError
from siaga_tui.core.models import REPORT
from siaga_tui.services.reports import NewReport, ReportService
from tests.reliability.conftest import CliRunner, assert_no_traceback

FIRE = NewReport(
    category="kebakaran", kelurahan="Bahu", description="Rumah terbakar", phone="081234567890"
)
ADD = (
    "add",
    "--category",
    "kebakaran",
    "--kelurahan",
    "Bahu",
    "--description",
    "Api",
    "--phone",
    "081234567890",
)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def numbers(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT number FROM report ORDER BY id")]
    finally:
        conn.close()


# --- Modes ----------------------------------------------------------------------------


def test_database_wal_and_shm_are_for_the_owner_only(
    tmp_path: Path, figures: dict[str, Any]
) -> None:
    path = tmp_path / "center.db"
    db = open_database(path)
    ReportService(db, operator="rel").create_report(FIRE)
    modes = {
        name: mode(tmp_path / name) for name in ("center.db", "center.db-wal", "center.db-shm")
    }
    db.dispose()
    assert modes == {"center.db": 0o600, "center.db-wal": 0o600, "center.db-shm": 0o600}
    figures.update(files=len(modes))


def test_default_data_folder_and_file_are_private() -> None:
    from siaga_tui.core.db import default_database_path

    code, _, err = _run_default(*ADD)
    assert code == 0, err
    path = default_database_path()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def _run_default(*args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    from siaga_tui.cli import main
    from siaga_tui.cli.base import settings

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--operator", "rel", *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            settings.reset()
    return code, out.getvalue(), err.getvalue()


def test_a_named_group_gets_the_files_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    group = grp.getgrgid(os.getgid()).gr_name
    monkeypatch.setenv("SIAGA112_GROUP", group)
    monkeypatch.setenv("SIAGA112_AUDIT_KEY", str(tmp_path / "keys" / "audit.key"))
    path = tmp_path / "shared.db"
    db = open_database(path)
    ReportService(db, operator="rel").create_report(FIRE)
    found = {
        p.name: (mode(p), os.stat(p).st_gid)
        for p in (path, Path(f"{path}-wal"), tmp_path / "keys" / "audit.key")
    }
    db.dispose()
    assert set(found.values()) == {(0o660, os.getgid())}
    assert mode(tmp_path / "keys") == 0o770


def test_an_unknown_group_is_one_clear_line(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIAGA112_GROUP", "no-such-group-112")
    code, out, err = cli.at(cli.db_path.with_name("other.db"), *ADD)
    assert code == 2 and "no-such-group-112" in err
    assert_no_traceback(out + err)


def test_error_log_is_private_and_holds_no_caller_number(cli: CliRunner, db_path: Path) -> None:
    import platformdirs

    code, _, _ = cli(*ADD)
    assert code == 0
    conn = sqlite3.connect(db_path)
    conn.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON report BEGIN SELECT RAISE(ABORT, 'boom'); END"
    )
    conn.close()
    code, _, err = cli(*ADD[:-1], "081299998888")
    assert code == 1 and "081299998888" not in err and "6281299998888" not in err
    log = Path(platformdirs.user_log_dir("siaga112", appauthor=False)) / "errors.log"
    text = log.read_text(encoding="utf-8")
    assert "boom" in text and "6281299998888" not in text and "Bahu" not in text
    assert mode(log) == 0o600 and mode(log.parent) == 0o700


# --- Clobbering -------------------------------------------------------------------------


def _special(kind: str, tmp_path: Path) -> Path:
    target = tmp_path / f"dest-{kind}"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
        (target / "inside.txt").write_text("keep", encoding="utf-8")
    elif kind == "device":
        if os.geteuid() != 0:
            return Path("/dev/null")  # cannot be replaced without root either way
        os.mknod(target, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    elif kind == "symlink-to-directory":
        (tmp_path / "adir").mkdir(exist_ok=True)
        target.symlink_to(tmp_path / "adir")
    elif kind == "symlink-to-fifo":
        os.mkfifo(tmp_path / "afifo")
        target.symlink_to(tmp_path / "afifo")
    elif kind == "dangling-symlink":
        target.symlink_to(tmp_path / "nowhere")
    return target


def _kind_of(path: Path) -> int:
    return stat.S_IFMT(os.lstat(path).st_mode)


SPECIAL = ["device", "fifo", "directory", "symlink-to-fifo", "dangling-symlink"]


@pytest.mark.parametrize("kind", SPECIAL)
def test_export_never_replaces_a_special_file(
    kind: str, cli: CliRunner, tmp_path: Path, figures: dict[str, Any]
) -> None:
    assert cli(*ADD)[0] == 0
    target = _special(kind, tmp_path)
    before = _kind_of(target)
    code, out, err = cli("export", str(target))
    assert code == 2, (out, err)
    assert_no_traceback(out + err)
    assert _kind_of(target) == before
    if kind == "directory":
        assert [p.name for p in target.iterdir()] == ["inside.txt"]
    figures.update(tried=1, caught=1)


@pytest.mark.parametrize("kind", [*SPECIAL, "symlink-to-directory-file"])
def test_backup_never_replaces_a_special_file(
    kind: str, cli: CliRunner, tmp_path: Path, figures: dict[str, Any]
) -> None:
    assert cli(*ADD)[0] == 0
    if kind == "symlink-to-directory-file":
        target = tmp_path / "dest-link"
        target.symlink_to(tmp_path / "adir")
        (tmp_path / "adir").mkdir()
    else:
        target = _special(kind, tmp_path)
    before = _kind_of(target)
    code, out, err = cli("backup", str(target))
    assert_no_traceback(out + err)
    assert _kind_of(target) == before
    if kind == "directory":
        assert code == 0  # a folder means "into this folder", under the database's name
        assert sorted(p.name for p in target.iterdir()) == ["inside.txt", "siaga112.db"]
    elif kind == "symlink-to-directory-file":
        assert code == 2 and list((tmp_path / "adir").iterdir()) == []
    else:
        assert code == 2, (out, err)
    figures.update(tried=1, caught=1)


def test_export_writes_through_a_symlink_to_a_regular_file(cli: CliRunner, tmp_path: Path) -> None:
    assert cli(*ADD)[0] == 0
    real = tmp_path / "real.csv"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    code, _, err = cli("export", "--force", str(link))
    assert code == 0, err
    assert link.is_symlink() and "kebakaran" in real.read_text(encoding="utf-8-sig")


def test_backup_replaces_only_its_own_backups_unless_forced(cli: CliRunner, tmp_path: Path) -> None:
    assert cli(*ADD)[0] == 0
    other = tmp_path / "thesis.docx"
    other.write_bytes(b"three years of work")
    code, _, err = cli("backup", str(other))
    assert code == 2 and "--force" in err
    assert other.read_bytes() == b"three years of work"
    live = tmp_path / "another-center.db"
    shutil.copyfile(cli.db_path, live)
    assert cli("backup", str(live))[0] == 2  # a live database is not a backup either
    first = tmp_path / "nightly.db"
    assert cli("backup", str(first))[0] == 0
    assert cli(*ADD)[0] == 0
    assert cli("backup", str(first))[0] == 0  # an older backup of its own: replaced
    assert len(numbers(first)) == 2
    code, _, err = cli("backup", "--force", str(other))
    assert code == 0, err
    assert len(numbers(other)) == 2


def test_backup_of_a_read_only_database_leaves_no_wal_or_shm(
    cli: CliRunner, tmp_path: Path
) -> None:
    assert cli(*ADD)[0] == 0
    cli.db_path.chmod(0o444)
    try:
        code, _, err = cli("backup", str(tmp_path / "copy.db"))
        assert code == 0, err
        assert not Path(f"{cli.db_path}-wal").exists() and not Path(f"{cli.db_path}-shm").exists()
    finally:
        cli.db_path.chmod(0o600)
    assert len(numbers(tmp_path / "copy.db")) == 1


# --- The database going away -----------------------------------------------------------


def test_cli_refuses_a_database_that_was_there(cli: CliRunner, figures: dict[str, Any]) -> None:
    path = cli.db_path.with_name("center.db")
    assert cli.at(path, *ADD)[0] == 0
    path.unlink()
    code, out, err = cli.at(path, *ADD)
    assert code == 2 and "tidak ada" in err and "000001" in err
    assert_no_traceback(out + err)
    assert not path.exists()  # no fresh database handing out 112-2026-000001 again
    figures.update(tried=1, caught=1)


def test_db_new_starts_afresh_only_on_purpose(cli: CliRunner) -> None:
    path = cli.db_path.with_name("center.db")
    assert cli.at(path, *ADD)[0] == 0
    assert cli.at(path, "db", "new")[0] == 2  # a file is there: nothing is replaced
    path.unlink()
    assert cli.at(path, *ADD)[0] == 2
    code, _, err = cli.at(path, "db", "new")
    assert code == 0, err
    code, out, _ = cli.at(path, *ADD)
    assert code == 0 and "112-2026-000001" in out


def test_cli_refuses_a_missing_database_whose_wal_is_left(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.db"
    Path(f"{path}-wal").write_bytes(b"")
    code, _, err = cli.at(path, *ADD)
    assert code == 2 and not path.exists(), err


def test_deleted_under_a_running_program_is_never_written_again(
    db_path: Path, figures: dict[str, Any]
) -> None:
    db = open_database(db_path)
    desk = ReportService(db, operator="rel")
    kept = [desk.create_report(FIRE).number for _ in range(3)]
    saved_aside = db_path.with_name("moved-away.db")
    os.link(db_path, saved_aside)
    db_path.unlink()
    with pytest.raises(StorageError) as refused:
        desk.create_report(FIRE)
    assert refused.value.key == "db_file_missing"
    assert db.file_problem() == "db_file_missing" and not db_path.exists()
    assert db.rescued is not None and numbers(db.rescued) == kept  # copied aside
    with pytest.raises(StorageError):
        desk.create_report(FIRE)  # still refused, still not created
    assert not db_path.exists()
    os.link(saved_aside, db_path)  # the file is back
    later = desk.create_report(FIRE).number
    db.dispose()
    assert numbers(db_path) == [*kept, later]
    figures.update(written=4, found=len(numbers(db_path)), lost=4 - len(numbers(db_path)))


def test_replaced_under_a_running_program_switches_to_the_new_file(
    db_path: Path, tmp_path: Path, figures: dict[str, Any]
) -> None:
    db = open_database(db_path)
    desk = ReportService(db, operator="rel")
    first = desk.create_report(FIRE).number
    backup = tmp_path / "backup.db"
    from siaga_tui.services.backup import backup_sqlite

    backup_sqlite(db_path, backup)
    since_backup = desk.create_report(FIRE).number
    os.replace(backup, db_path)  # mv backup.db center.db: a restore under a running console
    with pytest.raises(StorageError) as refused:
        desk.create_report(FIRE)
    assert refused.value.key == "db_file_replaced"
    assert db.rescued is not None and numbers(db.rescued) == [first, since_backup]
    after = desk.create_report(FIRE).number  # saved into the restored file
    db.dispose()
    assert numbers(db_path) == [first, after]
    figures.update(written=3, found=3, lost=0)


def test_wal_deleted_under_a_running_program_loses_nothing(
    db_path: Path, figures: dict[str, Any]
) -> None:
    db = open_database(db_path)
    desk = ReportService(db, operator="rel")
    acknowledged = [desk.create_report(FIRE).number for _ in range(3)]
    Path(f"{db_path}-wal").unlink()
    assert db.file_problem() == "db_wal_missing"
    acknowledged.append(desk.create_report(FIRE).number)  # folded in first, then saved
    acknowledged.append(desk.create_report(FIRE).number)
    db.dispose()
    found = numbers(db_path)
    assert found == acknowledged
    check = sqlite3.connect(db_path)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()
    figures.update(written=len(acknowledged), found=len(found), lost=len(acknowledged) - len(found))


def test_a_read_only_database_is_read_and_writes_get_one_line(cli: CliRunner) -> None:
    assert cli(*ADD)[0] == 0
    cli.db_path.chmod(0o444)
    try:
        db = open_database(cli.db_path)
        assert db.read_only
        with db.read() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar_one() == 1
        with pytest.raises(StorageError) as refused:
            ReportService(db, operator="rel").create_report(FIRE)
        assert refused.value.key == "db_read_only"
        db.dispose()
    finally:
        cli.db_path.chmod(0o600)
    assert not Path(f"{cli.db_path}-wal").exists()


# --- Under a running console --------------------------------------------------------------


async def _wait_for_notice(pilot: Any, text: str, seconds: float = 10.0) -> list[str]:
    """Let the console's live watch (one look a second) notice; returns the notices."""
    import time

    deadline = time.monotonic() + seconds
    messages: list[str] = []
    while time.monotonic() < deadline:
        messages = [n.message for n in pilot.app._notifications]
        if any(text in m for m in messages):
            break
        await pilot.pause(0.2)
    return messages


@pytest.mark.parametrize("how", ["deleted", "replaced", "wal-deleted"])
async def test_console_notices_the_database_going_away_and_keeps_the_form(
    how: str, db: Database, db_path: Path, tmp_path: Path, figures: dict[str, Any]
) -> None:
    from siaga_tui.core.i18n import translate
    from siaga_tui.screens.entry import EntryScreen
    from siaga_tui.screens.entry_draft import EntryDraft
    from siaga_tui.services.backup import backup_sqlite
    from tests.conftest import FROZEN_NOW, MutableClock
    from tests.reliability.test_console import console, settle

    desk = ReportService(db, operator="rel", clock=MutableClock(FROZEN_NOW))
    before = desk.create_report(FIRE).number
    backup_sqlite(db_path, tmp_path / "backup.db")
    acknowledged = [before, desk.create_report(FIRE).number]
    app = console(db, MutableClock(FROZEN_NOW))
    typed = EntryDraft(
        opened_at=FROZEN_NOW, category="kesehatan", phone="0813 5555 1212", kelurahan="Paal Dua",
        address="Jl. Babe Palar", description="Orang pingsan di pasar",
    )  # fmt: skip
    aside = tmp_path / "aside.db"
    key = {
        "deleted": "db_file_missing",
        "replaced": "db_file_replaced",
        "wal-deleted": "db_wal_missing",
    }[how]
    words = translate(key, "id", path=str(db_path), rescued="").split(":")[0]
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EntryScreen)
        screen.load_draft(typed)
        if how == "deleted":
            os.link(db_path, aside)
            db_path.unlink()
        elif how == "replaced":
            os.replace(tmp_path / "backup.db", db_path)
        else:
            Path(f"{db_path}-wal").unlink()
        messages = await _wait_for_notice(pilot, words)
        assert any(words in m for m in messages), messages  # told in words, unasked
        if how == "deleted":
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is screen and screen.draft == typed  # nothing typed is lost
            assert not db_path.exists()  # and no fresh file made
            os.link(aside, db_path)  # the file is back
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.is_running
    db.dispose()
    found = numbers(db_path)
    if how == "replaced":
        assert (
            found[:-1] == [before]
            and db.rescued is not None
            and numbers(db.rescued) == acknowledged
        )
    else:
        assert found[:-1] == acknowledged
    assert len(found) == len(found[:-1]) + 1  # the kept form, saved once the file was there
    figures.update(written=len(acknowledged) + 1, found=len(found) + (how == "replaced"), lost=0)
