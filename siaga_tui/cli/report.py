"""``siaga112 report``: the month's (or year's) workbook a head of office reads.

``siaga112 report --month 2019-03 laporan-2019-03.xlsx`` writes the front sheet and one
sheet per breakdown with native charts (``services/report_workbook.py``), in the
interface's language (``--lang``). The figures carry no caller's number or name, but the
front sheet names who made the report, so once accounts exist it is made by the
signed-in operator. ``export --stats`` stays the machine table.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import typer

from siaga_tui.cli.base import app, fail, settings, t
from siaga_tui.cli.identity import signed_in
from siaga_tui.cli.stats import _period
from siaga_tui.cli.stats import clock as stats_clock
from siaga_tui.core.i18n import current_language
from siaga_tui.services.export import ExportRefused
from siaga_tui.services.stats import Period

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@app.command("report")
@signed_in
def report(
    destination: Path = typer.Argument(..., help="The workbook to write (.xlsx)."),
    month: str | None = typer.Option(None, "--month", "-m", help="A month, YYYY-MM (WITA)."),
    year: str | None = typer.Option(None, "--year", "-y", help="A calendar year, e.g. 2019."),
    date_from: str | None = typer.Option(None, "--from", help="First day, YYYY-MM-DD (WITA)."),
    date_to: str | None = typer.Option(
        None, "--to", help="Last day, YYYY-MM-DD (included; default: today)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace the file if it exists."),
) -> None:
    """A workbook with a front sheet and one sheet per breakdown, with charts, for
    printing (default period: this month)."""
    from siaga_tui.services.report_workbook import write_report

    if destination.suffix.lower() != ".xlsx":
        raise fail(t("report_needs_xlsx", path=str(destination)))
    if destination.exists() and not force:
        raise fail(t("report_exists", path=str(destination)))
    chosen = sum(
        [month is not None, year is not None, date_from is not None or date_to is not None]
    )
    if chosen > 1:
        raise fail(t("report_one_period"))
    if month is not None:
        period = month_period(month)
    elif year is None and date_from is None and date_to is None:
        period = Period.month(stats_clock)
    else:
        period = _period(year, date_from, date_to, False)
    try:
        written = write_report(
            settings.database(),
            period,
            destination,
            lang=current_language(),
            made_by=settings.operator_name,
            clock=stats_clock,
        )
    except ExportRefused as refused:
        raise fail(str(refused)) from None
    print(
        t(
            "report_written",
            path=str(destination),
            sheets=len(written.sheets),
            total=written.statistics.total,
            period=period.describe(),
        )
    )


def month_period(value: str) -> Period:
    """``2019-03`` as the period from 1 to 31 March 2019, WITA."""
    found = _MONTH.fullmatch(value.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise fail(t("report_bad_month", value=value))
    first = date(int(found.group(1)), int(found.group(2)), 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Period.between(first, last)
