"""``siaga112 import FILE…``: reports, referrals and calls from exports or spreadsheets.

Bad rows are listed with their file, line and field (the first 100, then a count);
nothing is written unless every row of every file given is good (or ``--skip-bad``),
and ``--dry-run`` writes nothing at all. Importing the same files again adds nothing. Rows older than the
backlog age (or every row, with ``--history``) are archived as history.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from siaga_tui.cli.base import app, fail, settings, t
from siaga_tui.cli.identity import signed_in
from siaga_tui.core.timeutil import Clock, system_clock
from siaga_tui.services.importer import Importer, ImportResult
from siaga_tui.services.queue import BACKLOG_DAYS, ENV_BACKLOG_DAYS

#: The clock "now" (future dates, the backlog age) is read from (tests freeze it).
clock: Clock = system_clock


@app.command("import")
@signed_in
def import_reports(
    files: list[Path] = typer.Argument(
        ...,
        help="CSV or .xlsx: an export of siaga112 (reports, and its --referrals and --calls "
        "files, given together), or the minimal layout (see README).",
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Import the good rows and list the bad ones."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check the files and say what would be imported; write nothing."
    ),
    history: bool = typer.Option(
        False,
        "--history",
        help="Archive every row as history: counted in the figures, never in the live queue.",
    ),
    backlog_days: int = typer.Option(
        BACKLOG_DAYS,
        "--backlog-days",
        min=1,
        max=3650,
        envvar=ENV_BACKLOG_DAYS,
        help="Rows recorded more than this many days ago are archived as history.",
    ),
    encoding: str | None = typer.Option(
        None,
        "--encoding",
        help="The file's encoding when it is not UTF-8 or UTF-16 (cp1252: Excel's CSV on Windows).",
    ),
) -> None:
    """Import reports (and their referrals and calls); files imported twice add nothing."""
    for file in files:
        if file.is_dir():
            raise fail(t("import_file_is_folder", path=str(file)))
        if not file.is_file():
            raise fail(t("import_file_missing", path=str(file)))
    importer = Importer(
        settings.database(),
        operator=settings.operator_name,
        clock=clock,
        history=history,
        backlog_days=backlog_days,
    )
    results = importer.run_all(list(files), skip_bad=skip_bad, encoding=encoding, dry_run=dry_run)
    for _path, result in results:
        if result.ignored:
            print(t("import_columns_ignored", columns=", ".join(result.ignored)), file=sys.stderr)
    # Every file is checked before any is written: one with bad rows stops them all.
    stopped = [(p, r) for p, r in results if not r.written and not r.dry_run and r.bad_count]
    if stopped:
        path, result = stopped[0]
        key = "import_bad_rows_of_several" if len(files) > 1 else "import_bad_rows"
        print(t(key, path=str(path), count=result.bad_count), file=sys.stderr)
        _list_bad(result)
        raise typer.Exit(2)
    for path, result in results:
        if result.bad:
            print(t("import_skipped_rows", count=result.bad_count), file=sys.stderr)
            _list_bad(result)
        print(_summary(path, result))
        if result.dry_run and result.bad_count and not skip_bad:
            raise typer.Exit(2)


def _summary(path: Path, result: ImportResult) -> str:
    if result.dry_run:
        return t(
            "import_dry_run",
            added=result.added,
            path=str(path),
            already=result.already,
            bad=result.bad_count,
        )
    if result.layout == "referrals":
        return t("import_referrals_read", added=result.added, path=str(path))
    if result.layout == "calls":
        return t("import_calls_done", added=result.added, path=str(path), already=result.already)
    line = t(
        "import_done",
        added=result.added,
        path=str(path),
        already=result.already,
        bad=result.bad_count,
    )
    if not result.added:  # "0 of them archived" of nothing added says nothing true
        return line
    return f"{line}\n{t('import_archived', archived=result.archived)}"


def _list_bad(result: ImportResult) -> None:
    for row in result.bad:
        print(t("import_bad_row", line=row.line, reason=row.describe()), file=sys.stderr)
    if result.bad_count > len(result.bad):
        print(t("import_more_bad_rows", count=result.bad_count - len(result.bad)), file=sys.stderr)
