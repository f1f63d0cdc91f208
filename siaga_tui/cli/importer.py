"""``siaga112 import FILE``: reports from an export file or a historical spreadsheet.

Every bad row is listed with its line number and the reason; nothing is written unless
every row is good (or ``--skip-bad``). Importing the same file again adds nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from siaga_tui.cli.base import app, fail, settings, t
from siaga_tui.cli.identity import signed_in
from siaga_tui.services.importer import Importer, ImportResult

#: Bad rows listed in full; the rest are counted.
SHOWN_BAD_ROWS = 50


@app.command("import")
@signed_in
def import_reports(
    file: Path = typer.Argument(
        ..., help="CSV file: an export of siaga112, or the minimal layout (see README)."
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Import the good rows and list the bad ones."
    ),
    encoding: str | None = typer.Option(
        None,
        "--encoding",
        help="The file's encoding when it is not UTF-8 or UTF-16 (e.g. latin-1).",
    ),
) -> None:
    """Import reports from CSV; a file imported twice adds nothing the second time."""
    if not file.is_file():
        raise fail(t("import_file_missing", path=str(file)))
    importer = Importer(settings.database(), operator=settings.operator_name)
    result = importer.run(file, skip_bad=skip_bad, encoding=encoding)
    if not result.written:
        print(t("import_bad_rows", count=len(result.bad)), file=sys.stderr)
        _list_bad(result)
        raise typer.Exit(2)
    if result.bad:
        print(t("import_skipped_rows", count=len(result.bad)), file=sys.stderr)
        _list_bad(result)
    print(
        t(
            "import_done",
            added=result.added,
            path=str(file),
            already=result.already,
            bad=len(result.bad),
        )
    )


def _list_bad(result: ImportResult) -> None:
    for row in result.bad[:SHOWN_BAD_ROWS]:
        print(t("import_bad_row", line=row.line, reason=row.describe()), file=sys.stderr)
    if len(result.bad) > SHOWN_BAD_ROWS:
        print(f"  … (+{len(result.bad) - SHOWN_BAD_ROWS})", file=sys.stderr)
