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

from siaga_tui.core.db import BUSY_TIMEOUT_SECONDS, Database, resolve_database_url
from siaga_tui.core.errors import SiagaError
from siaga_tui.core.models import REPORT
from siaga_tui.services.export import atomic_path, record_bulk_read

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
    source: Path, destination: Path, *, progress: BackupProgress | None = None
) -> BackupResult:
    """Copy ``source`` to ``destination`` consistently, check the copy, then rename it."""
    destination = destination.expanduser()
    if destination.is_dir():
        destination = destination / source.name
    if destination.resolve() == source.resolve():
        raise BackupRefused("backup_same_file", path=str(destination))
    folder = destination.parent
    if not folder.is_dir():
        raise BackupRefused("backup_folder_missing", path=str(folder))
    with atomic_path(destination) as temp:
        pages, reports = _copy(source, temp, progress)
    return BackupResult(
        destination=destination, pages=pages, size=destination.stat().st_size, reports=reports
    )


def _copy(source: Path, temp: Path, progress: BackupProgress | None) -> tuple[int, int]:
    src = sqlite3.connect(
        f"{source.resolve().as_uri()}?mode=ro",
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
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupRefused("backup_integrity_failed", problem="; ".join(problems[:3]))
    except sqlite3.DatabaseError as exc:
        raise BackupRefused("backup_failed", reason=str(exc)) from exc
    finally:
        dst.close()
        src.close()
    return pages, reports


def record_backup(db: Database, *, operator: str, destination: Path) -> None:
    """Put the backup on record before it is taken: a copy of every caller's number
    and name is a personal-data export (UU 27/2022)."""
    with db.read() as conn:
        reports = int(conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar_one())
    record_bulk_read(db, operator=operator, via="backup", subject=str(destination), rows=reports)
