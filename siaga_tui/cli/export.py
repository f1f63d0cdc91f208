"""``siaga112 export``: reports (or the figures) to CSV or xlsx for spreadsheets.

The rows are built by the database and streamed to the file (``services/export.py``);
a file is written under a temporary name and renamed when complete; ``-`` writes CSV
to standard output. A progress bar is drawn on standard error when it is a terminal.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from siaga_tui.cli.base import app, fail, settings, t
from siaga_tui.cli.identity import signed_in
from siaga_tui.cli.stats import _period
from siaga_tui.cli.stats import clock as stats_clock
from siaga_tui.core.catalogue import load_catalogue
from siaga_tui.core.i18n import current_language
from siaga_tui.services.audit import audit_head_line
from siaga_tui.services.export import (
    XLSX_MAX_ROWS,
    CsvFlavour,
    ExportFilter,
    ExportRefused,
    atomic_path,
    atomic_text,
    count_reports,
    record_personal_data_export,
    write_reports_csv,
    write_reports_xlsx,
    write_stats_csv,
    write_stats_xlsx,
)
from siaga_tui.services.operators import Permission, check_permission
from siaga_tui.services.stats import Period, compute_statistics

STDOUT = "-"


@app.command("export")
@signed_in
def export(
    destination: str = typer.Argument(
        ..., help="File to write (.csv, or .xlsx for a workbook); - for standard output."
    ),
    year: str | None = typer.Option(
        None, "--year", "-y", help="Reports recorded in a calendar year, e.g. 2019."
    ),
    date_from: str | None = typer.Option(None, "--from", help="First day, YYYY-MM-DD (WITA)."),
    date_to: str | None = typer.Option(
        None, "--to", help="Last day, YYYY-MM-DD (included; default: today)."
    ),
    today: bool = typer.Option(False, "--today", help="Reports recorded today (WITA)."),
    status: list[str] = typer.Option(
        [], "--status", help="menunggu, ditangani or selesai (repeatable)."
    ),
    kind: list[str] = typer.Option([], "--kind", help="darurat or non_darurat (repeatable)."),
    category: list[str] = typer.Option([], "--category", help="Category code (repeatable)."),
    agency: list[str] = typer.Option(
        [], "--agency", help="Forwarded to this agency code (repeatable)."
    ),
    excel: bool = typer.Option(
        False,
        "--excel",
        help="For Excel/LibreOffice in Indonesian: UTF-8 BOM, ';' and decimal commas.",
    ),
    personal: bool = typer.Option(
        False,
        "--include-personal-data",
        help="Full caller phone numbers and names (recorded in the audit log). Default: masked.",
    ),
    stats: bool = typer.Option(
        False, "--stats", help="The statistics tables instead of the reports."
    ),
) -> None:
    """Reports for a period and filters (default: all) to CSV or xlsx, for spreadsheets."""
    xlsx = destination.lower().endswith(".xlsx")
    target = None if destination == STDOUT else Path(destination).expanduser()
    if target is not None and target.is_dir():
        raise fail(t("export_destination_is_folder", path=str(target)))
    no_period = year is None and date_from is None and date_to is None and not today
    if stats and (status or kind or category or agency):
        # The statistics describe every report of the period; a filter would be ignored.
        raise fail(t("export_stats_no_filters"))
    db = settings.database()
    if stats:
        figures = compute_statistics(
            db, _period(year, date_from, date_to, today), clock=stats_clock
        )
        if target is None:
            _to_stdout(lambda out: write_stats_csv(figures, out, excel=excel), excel)
        elif xlsx:
            with atomic_path(target) as temp:
                write_stats_xlsx(figures, temp)
        else:
            with atomic_text(target, CsvFlavour(excel).encoding) as out:
                write_stats_csv(figures, out, excel=excel)
        print(audit_head_line(db), file=sys.stderr)  # to note on the paper copy
        return
    period = Period.all() if no_period else _period(year, date_from, date_to, today)
    filters = ExportFilter(period, tuple(status), tuple(kind), tuple(category), tuple(agency))
    filters = filters.checked(load_catalogue())
    total = count_reports(db, filters)
    if xlsx and target is not None and total >= XLSX_MAX_ROWS:
        raise ExportRefused("export_xlsx_too_many", limit=XLSX_MAX_ROWS - 1)
    if personal:
        operator = settings.operator_name
        check_permission(
            db,
            operator=operator,
            role=settings.role,
            permission=Permission.EXPORT_PERSONAL_DATA,
            subject=destination[:120],
        )
        record_personal_data_export(
            db,
            operator=operator,
            destination=destination if target is None else str(target.resolve()),
            filters=filters,
            rows=total,
        )
    lang = current_language()
    with _progress(total, enabled=target is not None) as advance:
        if target is None:
            written = _to_stdout(
                lambda out: write_reports_csv(
                    db, out, filters, excel=excel, personal=personal, lang=lang
                ),
                excel,
            )
        elif xlsx:
            with atomic_path(target) as temp:
                written = write_reports_xlsx(
                    db, temp, filters, personal=personal, lang=lang, progress=advance
                )
        else:
            with atomic_text(target, CsvFlavour(excel).encoding) as out:
                written = write_reports_csv(
                    db, out, filters, excel=excel, personal=personal, lang=lang, progress=advance
                )
    if target is not None:
        print(t("export_done", count=written, path=str(target)), file=sys.stderr)


def _to_stdout(write: Callable[[io.TextIOWrapper], int], excel: bool) -> int:
    """CSV on standard output, in bytes we choose (UTF-8, CRLF rows, BOM in Excel mode)."""
    sys.stdout.flush()
    out = io.TextIOWrapper(sys.stdout.buffer, encoding=CsvFlavour(excel).encoding, newline="")
    try:
        return write(out)
    finally:
        out.flush()
        out.detach()


@contextmanager
def _progress(total: int, *, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on standard error when it is a terminal; nothing otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn(t("export_progress")),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("export", total=total)
        yield lambda n: bar.advance(task, n)
