"""``siaga112 export``: reports (or the figures, calls, referrals) to CSV or xlsx.

Without a period an export covers everything (``--all`` says so), for ``--stats`` too.
An existing file is replaced only after asking (or with ``--force``).

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
from siaga_tui.core.text import terminal_safe
from siaga_tui.services.audit import audit_head_line
from siaga_tui.services.export import (
    XLSX_MAX_ROWS,
    CsvFlavour,
    ExportFilter,
    ExportRefused,
    atomic_path,
    atomic_text,
    call_sheet,
    count_reports,
    record_personal_data_export,
    referral_sheet,
    report_sheet,
    write_csv,
    write_stats_csv,
    write_stats_xlsx,
    write_xlsx,
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
    everything: bool = typer.Option(
        False, "--all", help="Everything recorded, every year (the default without a period)."
    ),
    status: list[str] = typer.Option(
        [], "--status", help="menunggu, ditangani or selesai (repeatable)."
    ),
    kind: list[str] = typer.Option([], "--kind", help="darurat or non_darurat (repeatable)."),
    category: list[str] = typer.Option([], "--category", help="Category code (repeatable)."),
    agency: list[str] = typer.Option(
        [], "--agency", help="Forwarded to this agency code (repeatable)."
    ),
    counted_only: bool = typer.Option(
        False,
        "--counted-only",
        help="Only the rows the statistics count: duplicates left out (their original counts).",
    ),
    excel: bool = typer.Option(
        False,
        "--excel",
        help="For Excel/LibreOffice in Indonesian: UTF-8 BOM, ';', decimal commas, "
        "dates as DD/MM/YYYY HH:MM:SS.",
    ),
    personal: bool = typer.Option(
        False,
        "--include-personal-data",
        help="Full caller phone numbers and names (recorded in the audit log). Default: masked.",
    ),
    stats: bool = typer.Option(
        False, "--stats", help="The statistics tables instead of the reports."
    ),
    calls: bool = typer.Option(
        False, "--calls", help="The calls (time, disposition, operator, report, phone masked)."
    ),
    referrals: bool = typer.Option(
        False,
        "--referrals",
        help="Every referral of the reports, with its acknowledgement (import it with them).",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite the file without asking."),
) -> None:
    """Reports for a period and filters (default: all) to CSV or xlsx, for spreadsheets."""
    xlsx = destination.lower().endswith(".xlsx")
    target = None if destination == STDOUT else Path(destination).expanduser()
    if target is not None and target.is_dir():
        raise fail(t("export_destination_is_folder", path=str(target)))
    if sum([stats, calls, referrals]) > 1:
        raise fail(t("export_one_kind"))
    no_period = year is None and date_from is None and date_to is None and not today
    if everything and not no_period:
        raise fail(t("stats_one_period"))
    if (stats or calls) and (status or kind or category or agency or counted_only):
        # The statistics and the calls cover the whole period; a filter would be ignored.
        raise fail(t("export_stats_no_filters"))
    period = Period.all() if no_period else _period(year, date_from, date_to, today)
    if target is not None and target.exists() and not force:
        _confirm_overwrite(target)
    db = settings.database()
    if stats:
        figures = compute_statistics(db, period, clock=stats_clock)
        if target is None:
            _to_stdout(lambda out: write_stats_csv(figures, out, excel=excel), excel)
        elif xlsx:
            with atomic_path(target) as temp:
                rows = write_stats_xlsx(figures, temp)
        else:
            with atomic_text(target, CsvFlavour(excel).encoding) as out:
                rows = write_stats_csv(figures, out, excel=excel)
        if target is not None:
            label = t("stats_period_all") if period.is_all else period.describe()
            print(
                t(
                    "export_stats_done",
                    rows=rows,
                    reports=figures.total,
                    period=label,
                    path=str(target),
                ),
                file=sys.stderr,
            )
        print(audit_head_line(db), file=sys.stderr)  # to note on the paper copy
        return
    filters = ExportFilter(
        period, tuple(status), tuple(kind), tuple(category), tuple(agency), counted_only
    ).checked(load_catalogue())
    lang = current_language()
    if calls:
        sheet = call_sheet(period, personal=personal)
        done_key = "export_calls_done"
    elif referrals:
        sheet = referral_sheet(filters)
        done_key = "export_referrals_done"
    else:
        sheet = report_sheet(filters, personal=personal, lang=lang)
        done_key = "export_done"
    total = count_reports(db, filters) if sheet.name == "laporan" else sheet.count(db)
    if xlsx and target is not None and total >= XLSX_MAX_ROWS:
        raise ExportRefused("export_xlsx_too_many", limit=XLSX_MAX_ROWS - 1)
    if personal and not referrals:
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
    with _progress(total, enabled=target is not None) as advance:
        if target is None:
            written = _to_stdout(lambda out: write_csv(db, out, sheet, excel=excel), excel)
        elif xlsx:
            with atomic_path(target) as temp:
                written = write_xlsx(db, temp, sheet, progress=advance)
        else:
            with atomic_text(target, CsvFlavour(excel).encoding) as out:
                written = write_csv(db, out, sheet, excel=excel, progress=advance)
    if target is not None:
        print(t(done_key, count=written, path=str(target)), file=sys.stderr)


def _confirm_overwrite(target: Path) -> None:
    """Ask before replacing a file; with no one to ask (no terminal), refuse."""
    if not sys.stdin.isatty():
        raise fail(t("export_exists_use_force", path=str(target)))
    if not typer.confirm(t("export_overwrite_ask", path=str(target)), default=False, err=True):
        raise fail(t("export_not_overwritten", path=str(target)))


def _to_stdout(write: Callable[[io.TextIOWrapper], int], excel: bool) -> int:
    """CSV on standard output, in bytes we choose (UTF-8, CRLF rows, BOM in Excel mode)."""
    sys.stdout.flush()
    out = io.TextIOWrapper(sys.stdout.buffer, encoding=CsvFlavour(excel).encoding, newline="")
    try:
        return write(_TerminalSafe(out))  # type: ignore[arg-type]
    finally:
        out.flush()
        out.detach()


class _TerminalSafe:
    """Writes through to ``out`` without escape sequences, controls or bidi overrides
    (text another tool put in the database must not drive the reader's terminal)."""

    def __init__(self, out: io.TextIOWrapper) -> None:
        self._out = out

    def write(self, text: str) -> int:
        self._out.write(terminal_safe(text))
        return len(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._out, name)


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
