"""A consistent copy of a live SQLite database, taken while operators keep working.

SQLite's online backup API (``sqlite3.Connection.backup``) copies the file page by page.
The source connection holds one read transaction for the whole copy, so every step
reads the same snapshot: in WAL mode that neither blocks the operators' saves nor makes
the copy restart when they write (a copy without it starts over after every write by
another connection, and on a busy center may never finish). The copy is written under a
temporary name in the destination folder, checked with ``PRAGMA integrity_check``,
synced to disk and only then renamed to the name asked for.

A server database (PostgreSQL) is refused with the tool to use instead: ``pg_dump``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from siaga_tui.core.db import BUSY_TIMEOUT_SECONDS, Database, resolve_database_url, sqlite_open_mode
from siaga_tui.core.errors import SiagaError
from siaga_tui.core.models import REPORT
from siaga_tui.core.private import cannot_write
from siaga_tui.services.export import atomic_path, record_bulk_read, writable_destination

#: Pages copied per step (4 MiB with SQLite's default 4 KiB pages).
PAGES_PER_STEP: Final = 1024


class BackupRefused(SiagaError):
    """The backup cannot be made as asked; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    destination: Path
    pages: int
    size: int
    reports: int


#: Called with (pages copied, pages in all) after each step.
BackupProgress = Callable[[int, int], None]


def sqlite_source(db_value: str | None) -> Path:
    """The SQLite file a ``--db`` value names; refuses a server database by name."""
    url = resolve_database_url(db_value)
    if not url.startswith("sqlite"):
        scheme = url.split("://", 1)[0].split("+", 1)[0]
        if scheme.startswith("postgres"):
            raise BackupRefused("backup_postgres_refused")
        raise BackupRefused("backup_engine_refused", engine=scheme)
    path = Path(url.split(":///", 1)[1])
    if not path.is_file():
        raise BackupRefused("backup_source_missing", path=str(path))
    return path


def backup_sqlite(
    source: Path,
    destination: Path,
    *,
    progress: BackupProgress | None = None,
    force: bool = False,
) -> BackupResult:
    """Copy ``source`` to ``destination`` consistently, check the copy, then rename it.

    An existing file at the destination is replaced only if it is one of this
    program's backups (marked with ``BACKUP_APPLICATION_ID``), or when ``force``;
    a device, FIFO or directory never is (see ``export.atomic_path``).
    """
    destination = destination.expanduser()
    if destination.is_dir() and not destination.is_symlink():
        destination = destination / source.name
    if destination.resolve() == source.resolve():
        raise BackupRefused("backup_same_file", path=str(destination))
    folder = destination.parent
    if not folder.is_dir():
        raise BackupRefused("backup_folder_missing", path=str(folder))
    target = writable_destination(destination)
    if target.exists() and not force and not is_backup(target):
        raise BackupRefused("backup_would_overwrite", path=str(destination))
    with atomic_path(destination) as temp:
        pages, reports = _copy(source, temp, progress)
    return BackupResult(
        destination=destination, pages=pages, size=destination.stat().st_size, reports=reports
    )


#: ``PRAGMA application_id`` of a copy made by ``siaga112 backup`` ("S112").
BACKUP_APPLICATION_ID: Final = 0x53313132


def is_backup(path: Path) -> bool:
    """Whether ``path`` is a copy ``siaga112 backup`` made (an older one may be replaced)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(72)
    except OSError:
        return False
    return (
        len(header) == 72
        and header[:16] == b"SQLite format 3\x00"
        and int.from_bytes(header[68:72], "big") == BACKUP_APPLICATION_ID
    )


def _copy(source: Path, temp: Path, progress: BackupProgress | None) -> tuple[int, int]:
    # A source that cannot be written is opened so that SQLite creates no read-only
    # -wal and -shm beside it (they would stop every later writer).
    read_only = cannot_write(source)
    mode = sqlite_open_mode(source.resolve(), read_only=True) if read_only else "mode=ro"
    src = sqlite3.connect(
        f"{source.resolve().as_uri()}?{mode}",
        uri=True,
        timeout=BUSY_TIMEOUT_SECONDS,
        isolation_level=None,
    )
    dst = sqlite3.connect(temp, isolation_level=None)
    try:
        src.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        # One snapshot for the whole copy (see the module's docstring).
        src.execute("BEGIN")
        reports = int(src.execute("SELECT count(*) FROM report").fetchone()[0])

        def step(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        src.backup(dst, pages=PAGES_PER_STEP, progress=step, sleep=0)
        src.execute("COMMIT")
        pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
        # The copy keeps the source's WAL setting in its header; make it a plain file
        # that opens anywhere, with nothing left in a -wal beside the temporary name.
        dst.execute("PRAGMA journal_mode = DELETE")
        dst.execute(f"PRAGMA application_id = {BACKUP_APPLICATION_ID}")
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupRefused("backup_integrity_failed", problem="; ".join(problems[:3]))
    except sqlite3.DatabaseError as exc:
        raise BackupRefused("backup_failed", reason=str(exc)) from exc
    finally:
        dst.close()
        src.close()
    return pages, reports


def record_backup(db: Database, *, operator: str, destination: Path) -> bool:
    """Put the backup on record before it is taken: a copy of every caller's number
    and name is a personal-data export (UU 27/2022). A read-only database cannot take
    the entry: returns False then (the caller says so), True when recorded."""
    if db.read_only:
        return False
    with db.read() as conn:
        reports = int(conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar_one())
    record_bulk_read(db, operator=operator, via="backup", subject=str(destination), rows=reports)
    return True
