"""``siaga112 backup DEST``: a checked copy of the live SQLite database."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from siaga_tui.cli.base import app, settings, t
from siaga_tui.cli.identity import require_operator, signs_in_itself
from siaga_tui.services.backup import backup_sqlite, record_backup, sqlite_source


@app.command("backup")
@signs_in_itself
def backup(
    destination: Path = typer.Argument(..., help="File (or folder) to write the copy to."),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing file that is not one of siaga112's backups."
    ),
) -> None:
    """Copy the SQLite database while operators keep working, and check the copy."""
    source = sqlite_source(settings.db_value)
    require_operator()
    if not record_backup(
        settings.database(), operator=settings.operator_name, destination=destination
    ):
        print(t("backup_not_recorded_read_only"), file=sys.stderr)
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        with Progress(
            TextColumn(t("backup_progress")),
            BarColumn(),
            TaskProgressColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("backup", total=None)
            result = backup_sqlite(
                source,
                destination,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                force=force,
            )
    else:
        result = backup_sqlite(source, destination, force=force)
    print(
        t(
            "backup_done",
            path=str(result.destination),
            size=f"{result.size / 1_048_576:.1f}",
            reports=result.reports,
        )
    )
