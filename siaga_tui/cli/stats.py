"""``siaga112 stats``: the center's figures for a period, laid out like the city's report.

On a terminal the figures are Rich tables; ``--format csv`` writes one flat table
(``stats.ROW_FIELDS``: section, key, kind, count, of, percent, median_seconds,
p90_seconds) and ``--format json`` the nested figures (``Statistics.to_dict``), both
with stable field names for scripts and spreadsheets. Every cell is ``rich.text.Text``:
nothing in the data is read as markup.
"""

from __future__ import annotations

import csv
import re
import sys
from datetime import date

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from siaga_tui.cli.base import app, fail, print_json, settings, t
from siaga_tui.core.catalogue import NOT_NAMED_AGENCY, load_catalogue
from siaga_tui.core.errors import NotFound
from siaga_tui.core.i18n import current_language
from siaga_tui.core.period import YEARS, Period
from siaga_tui.core.timeutil import Clock, format_duration, format_local, system_clock
from siaga_tui.services.audit import audit_head_line
from siaga_tui.services.stats import (
    INTERVAL_SAMPLE,
    INTERVALS,
    ROW_FIELDS,
    IntervalFigure,
    Statistics,
    compute_statistics,
    figure_rows,
    percent,
)

FORMATS = ("table", "csv", "json")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR = re.compile(r"\d{4}")

#: The clock the command reads "today" and "this year" from (tests freeze it).
clock: Clock = system_clock


@app.command("stats")
def stats(
    year: str | None = typer.Option(None, "--year", "-y", help="A calendar year, e.g. 2019."),
    date_from: str | None = typer.Option(None, "--from", help="First day, YYYY-MM-DD (WITA)."),
    date_to: str | None = typer.Option(
        None, "--to", help="Last day, YYYY-MM-DD (included; default: today)."
    ),
    today: bool = typer.Option(False, "--today", help="Today only (WITA)."),
    everything: bool = typer.Option(False, "--all", help="Everything recorded, every year."),
    output: str = typer.Option(
        "table", "--format", "-f", help="table (default), csv or json (stable fields, see README)."
    ),
    by: list[str] = typer.Option(
        [],
        "--by",
        help="Break the figures down: month, week, day, weekday, hour, shift, kecamatan, "
        "kelurahan, agency, operator, kind, category (several allowed: --by month --by kind).",
    ),
) -> None:
    """Figures for a period (default: this year): reports, kinds, categories, statuses,
    agencies, handling times and calls, as the city reports them."""
    if output not in FORMATS:
        raise fail(t("choice_unknown", value=output, field="--format", allowed=", ".join(FORMATS)))
    period = Period.all() if everything and not (year or date_from or date_to or today) else None
    if everything and period is None:
        raise fail(t("stats_one_period"))
    period = period or _period(year, date_from, date_to, today)
    if by:
        _breakdown(period, by, output)
        return
    figures = compute_statistics(settings.database(), period, clock=clock)
    from siaga_tui.services.phone_stats import compute_phone_figures

    phone = compute_phone_figures(settings.database(), period)
    if output == "json":
        print_json({**figures.to_dict(), "phone": phone.to_dict()})
    elif output == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=ROW_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(figure_rows(figures))
        from siaga_tui.services.phone_stats import phone_rows

        writer.writerows(phone_rows(phone))
    else:
        Console(highlight=False).print(render(figures, current_language()))
        from siaga_tui.cli.phone_stats_view import render_phone

        Console(highlight=False).print(render_phone(phone, current_language()))
    # The audit head, to note beside the printed figures (stderr keeps csv/json clean).
    print(
        audit_head_line(settings.database()), file=sys.stdout if output == "table" else sys.stderr
    )


def _breakdown(period: Period, by: list[str], output: str) -> None:
    from siaga_tui.cli import breakdown_view
    from siaga_tui.services.breakdowns import compute_breakdown, parse_dimensions

    dimensions = parse_dimensions(by)
    breakdown = compute_breakdown(settings.database(), period, dimensions, clock=clock)
    breakdown_view.write(breakdown, output, current_language())
    print(
        audit_head_line(settings.database()), file=sys.stdout if output == "table" else sys.stderr
    )


def _period(year: str | None, date_from: str | None, date_to: str | None, today: bool) -> Period:
    chosen = sum([year is not None, date_from is not None or date_to is not None, today])
    if chosen > 1:
        raise fail(t("stats_one_period"))
    if today:
        return Period.today(clock)
    if year is not None:
        if not _YEAR.fullmatch(year.strip()):
            raise fail(t("stats_bad_year", value=year))
        return Period.year(int(year))
    if date_to is not None and date_from is None:
        raise fail(t("stats_to_needs_from"))
    if date_from is not None:
        first = _date("--from", date_from)
        last = _date("--to", date_to) if date_to is not None else Period.today(clock).first_day
        assert last is not None
        return Period.between(first, last)
    return Period.this_year(clock)


def _date(option: str, value: str) -> date:
    text = value.strip()
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise fail(t("stats_bad_date", option=option, value=value)) from None
    if day.year not in YEARS:  # what the periods can move between zones
        raise fail(
            t("stats_year_out_of_range", year=day.year, first=YEARS.start, last=YEARS.stop - 1)
        )
    return day


# --- The terminal layout --------------------------------------------------------------


def number(value: int, lang: str) -> str:
    """1132 as the language writes it: ``1.132`` in Indonesian, ``1,132`` in English."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "id" else text


def _pct(value: int | None) -> Text:
    return Text("–" if value is None else f"{value} %")


def _table(title: str, *columns: str, text_columns: int = 1) -> Table:
    """A titled table: the first ``text_columns`` columns left, the figures right."""
    table = Table(title=Text(title), title_justify="left", expand=False, show_edge=True)
    for index, column in enumerate(columns):
        table.add_column(Text(column), justify="left" if index < text_columns else "right")
    return table


def render(figures: Statistics, lang: str) -> Group:
    """The figures as the city lays them out: totals, kinds, categories, statuses, …"""
    parts: list[Panel | Table | Text] = []
    heading = Text(t("stats_reports_total", total=number(figures.total, lang)), style="bold")
    if figures.duplicates:
        heading.append(
            "  " + t("stats_duplicates_note", count=number(figures.duplicates, lang)), style="dim"
        )
    period = t("stats_period_all") if figures.period.is_all else figures.period.describe()
    parts.append(Panel(heading, title=Text(t("stats_title", period=period)), expand=False))
    if not figures.total:
        parts.append(Text(t("stats_no_reports")))

    kinds = _table(
        t("stats_kinds_title"), t("stats_col_kind"), t("stats_col_count"), t("stats_col_share")
    )
    for kind in figures.kinds:
        kinds.add_row(
            Text(t(f"stats_kind_{kind.kind}")),
            Text(number(kind.count, lang)),
            _pct(kind.share.percent),
        )
    parts.append(kinds)

    for kind in figures.kinds:
        table = _table(
            t("stats_categories_title", kind=t(f"stats_kind_{kind.kind}")),
            t("stats_col_category"),
            t("stats_col_count"),
            t("stats_col_share"),
        )
        for category in kind.categories:
            table.add_row(
                Text(category.label(lang)),
                Text(number(category.count, lang)),
                _pct(category.share.percent),
            )
        parts.append(table)

    statuses = _table(
        t("stats_statuses_title"), t("stats_col_status"), t("stats_col_count"), t("stats_col_share")
    )
    for status in figures.statuses:
        statuses.add_row(
            Text(t(f"status_{status.status}")),
            Text(number(status.count, lang)),
            _pct(status.share.percent),
        )
    parts.append(statuses)
    aim_key = "stats_aim_met" if figures.aim.met else "stats_aim_not_met"
    parts.append(
        Text(
            t(aim_key, done=figures.aim.shown(lang), aim=figures.aim.aim_percent),
            style="green" if figures.aim.met else "yellow",
        )
    )

    if figures.agencies:
        agencies = _table(
            t("stats_agencies_title"),
            t("stats_col_agency"),
            t("stats_col_forwarded"),
            t("stats_col_acknowledged"),
            t("stats_col_done"),
        )
        for agency in figures.agencies:
            name = (
                t("stats_agency_not_named")
                if agency.code == NOT_NAMED_AGENCY
                else agency.short_name
            )
            agencies.add_row(
                Text(name),
                Text(number(agency.forwarded, lang)),
                Text(number(agency.acknowledged, lang)),
                Text(number(agency.done, lang)),
            )
        parts.append(agencies)

    intervals = _table(
        t("stats_intervals_title"),
        t("stats_col_interval"),
        t("stats_kind_darurat"),
        t("stats_kind_non_darurat"),
        t("stats_col_all"),
    )
    for name in INTERVALS:
        cells = [Text(t(f"stats_interval_{name}"))]
        for kind_code in ("darurat", "non_darurat", None):
            figure = figures.interval(name, kind_code)
            cells.append(Text(_interval_cell(figure, lang)))
        intervals.add_row(*cells)
    if any(figure.sampled for figure in figures.intervals):
        intervals.caption = Text(t("stats_intervals_sampled", size=number(INTERVAL_SAMPLE, lang)))
    parts.append(intervals)

    calls = _table(
        t("stats_calls_title"),
        t("stats_col_disposition"),
        t("stats_col_count"),
        t("stats_col_share"),
    )
    for call in figures.calls:
        calls.add_row(
            Text(t(f"disposition_{call.disposition}")),
            Text(number(call.count, lang)),
            _pct(percent(call.count, figures.calls_total)),
        )
    calls.add_section()
    calls.add_row(
        Text(t("stats_calls_total"), style="bold"),
        Text(number(figures.calls_total, lang)),
        Text(""),
    )
    parts.append(calls)
    if figures.reports_without_calls:
        unrecorded = number(figures.reports_without_calls, lang)
        parts.append(Text(t("stats_calls_unrecorded", count=unrecorded), style="dim"))

    if figures.oldest_waiting:
        waiting = _table(
            t("stats_waiting_title"),
            t("stats_col_number"),
            t("stats_col_category"),
            t("stats_col_recorded"),
            t("stats_col_waiting"),
            text_columns=3,
        )
        now = figures.generated_at
        for report in figures.oldest_waiting:
            waiting.add_row(
                Text(report.number),
                Text(_category_label(report.category, lang)),
                Text(format_local(report.created_at)),
                Text(format_duration((now - report.created_at).total_seconds(), lang)),
            )
        parts.append(waiting)
    return Group(*parts)


def _interval_cell(figure: IntervalFigure, lang: str) -> str:
    """``median / p90`` in the language's units, and how many reports it covers."""
    if not figure.count:
        return "– / –\nn=0"
    median = format_duration(figure.median, lang)
    p90 = format_duration(figure.p90, lang)
    return f"{median} / {p90}\nn={number(figure.count, lang)}"


def _category_label(code: str, lang: str) -> str:
    try:
        return load_catalogue().category(code).label(lang)
    except NotFound:
        return code
