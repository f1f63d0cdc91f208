"""``siaga112 db``: where the database is, and its schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from siaga_tui.cli.base import app, fail, print_json, settings, t
from siaga_tui.cli.identity import signed_in
from siaga_tui.cli.json_output import DatabaseCheck
from siaga_tui.core.db import (
    SCHEMA_HEAD,
    clear_damaged,
    forget_database,
    mark_damaged,
    resolve_database_url,
    sqlite_file,
)
from siaga_tui.core.errors import StorageError
from siaga_tui.core.migrate import current_revision
from siaga_tui.core.text import visible_controls

db_app = typer.Typer(
    help="The database: where it is, check it, upgrade its schema.", no_args_is_help=True
)
app.add_typer(db_app, name="db")


@db_app.command("new")
def db_new() -> None:
    """Start a new, empty database where one was before (on purpose: report numbers
    start again at 112-YYYY-000001). Refused while a file is still there."""
    url = resolve_database_url(settings.db_value)
    path = sqlite_file(url)
    if path is None:
        raise fail(t("db_new_sqlite_only"))
    if path.exists():
        raise fail(t("db_new_exists", path=visible_controls(str(path))))
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    forget_database(path)
    settings.database()
    print(t("db_new_done", path=visible_controls(str(path))))


@db_app.command("path")
def db_path() -> None:
    """Print where the data is kept (file or URL, without password)."""
    url = resolve_database_url(settings.db_value)
    if url.startswith("sqlite:///"):
        print(visible_controls(url.removeprefix("sqlite:///")))
    else:
        from sqlalchemy.engine import make_url

        print(visible_controls(make_url(url).render_as_string(hide_password=True)))


@db_app.command("upgrade")
@signed_in(migrate=False)
def db_upgrade() -> None:
    """Create the database or bring its schema up to date (done at every start too)."""
    from siaga_tui.core import migrate

    db = settings.database(migrate=False)
    before = migrate.upgrade(db)
    after = current_revision(db)
    if before == after:
        print(t("db_schema_current", revision=after, path=db.describe()))
    else:
        print(t("db_schema_upgraded", before=before or "-", after=after, path=db.describe()))


@db_app.command("check")
def db_check(as_json: bool = typer.Option(False, "--json", help="Output as JSON.")) -> None:
    """Check the schema revision and the file's integrity; exit 1 when something is wrong."""
    db = settings.database(migrate=False)
    revision = current_revision(db)
    problems: list[str] = []
    if revision != SCHEMA_HEAD:
        problems.append(t("db_check_revision", revision=revision or "-", expected=SCHEMA_HEAD))
    integrity = "ok"
    if db.is_sqlite:
        fk: list[Any] = []
        try:
            with db.read() as conn:
                rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
                fk = list(conn.exec_driver_sql("PRAGMA foreign_key_check").all())
        except StorageError as error:  # so damaged that the check itself cannot finish
            rows = [error.message()]
        integrity = "ok" if rows == ["ok"] else "; ".join(map(str, rows[:5]))
        if integrity != "ok":
            problems.append(t("db_check_integrity", detail=integrity))
        if fk:
            problems.append(t("db_check_foreign_keys", count=len(fk)))
        if db.path is not None:
            # Writes are refused while the file is marked (every workstation sees it).
            if integrity != "ok":
                mark_damaged(db.path, integrity)
            else:
                clear_damaged(db.path)
    if as_json:
        result = DatabaseCheck(
            database=db.describe(),
            revision=revision,
            expected_revision=SCHEMA_HEAD,
            integrity=integrity,
            problems=problems,
        )
        print_json(result.model_dump())
    else:
        print(
            t("db_check_summary", path=db.describe(), revision=revision or "-", integrity=integrity)
        )
        for problem in problems:
            print(f"  ! {problem}")
    if problems:
        raise typer.Exit(1)
