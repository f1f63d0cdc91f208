"""The report a head of office reads: one workbook per month or year, with charts.

``write_report(db, period, path, …)`` writes an xlsx workbook (xlsxwriter) in the
interface's language:

- a front sheet: the center, the period, when and by whom it was made, the audit head
  to note in the paper log, the headline figures and the aim said in words, and a pie
  of the statuses;
- one sheet per breakdown (``services.breakdowns``): per day (a month) or per month (a
  longer period) with a line chart, per category (bar), per kecamatan (bar), per agency
  (bar of the median times), per shift and per operator. Each sheet has a title, the
  period, labelled columns, numbers as numbers, shares as percent cells, times as
  durations (``[h]:mm:ss``), and an empty cell for what is unknown (never 0);
- the phone's sheet (``services.phone_stats``, the phone system's clock): calls offered,
  answered, abandoned and their share, the share answered within 10/15/20 s against
  NFPA 1225 and NENA-STA-020.1 with a column chart of those shares and their targets,
  answer time, call-backs and time to call back, answer → saved. Its headline (answered
  within 15 s, abandoned) is on the front sheet too. A period with no phone records says
  so, with empty cells.

Every sheet prints landscape, one page wide, with the header row repeated and page
numbers in the footer. Nothing here imports the console.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Final

from siaga_tui.core.catalogue import KINDS, Catalogue, load_catalogue
from siaga_tui.core.db import Database
from siaga_tui.core.i18n import translate
from siaga_tui.core.timeutil import Clock, format_local, system_clock
from siaga_tui.services.audit import audit_head
from siaga_tui.services.breakdowns import Breakdown, Group, compute_breakdown
from siaga_tui.services.phone_stats import (
    ANSWER_WITHIN,
    PROCESS_WITHIN,
    TARGETS,
    PhoneFigures,
    Spread,
    compute_phone_figures,
)
from siaga_tui.services.stats import STATUSES, Period, Share, Statistics, compute_statistics

#: Where the table of every breakdown sheet starts (0-based): title, period, blank, header.
HEADER_ROW: Final = 3
FIRST_ROW: Final = 4
#: Longer periods than this many days are shown per month rather than per day.
DAILY_UP_TO_DAYS: Final = 62


@dataclass(frozen=True)
class ReportColumn:
    """One column of a breakdown sheet: heading key, value (None: empty cell), format."""

    heading: str
    value: Callable[[Group], Any]
    style: str = "count"  # count | percent | duration | text


@dataclass(frozen=True)
class SheetPlan:
    """One breakdown sheet: its name key, dimension, chart, and columns (ids of
    ``_columns``); ``chart_columns`` are the ids the chart draws."""

    name: str
    dimension: str
    chart: str  # line | bar | column | none
    chart_columns: tuple[str, ...]
    columns: tuple[str, ...]


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def _minutes(seconds: float | None) -> float | None:
    """Seconds as a spreadsheet duration (days), for the ``[h]:mm:ss`` format."""
    return None if seconds is None else seconds / 86400


def _columns(lang: str) -> dict[str, ReportColumn]:
    """Every column a sheet may show, by id."""
    from siaga_tui.services.stats import DISPOSITIONS

    def tr(key: str) -> str:
        return translate(key, lang)

    def duration(name: str, which: str = "median") -> Callable[[Group], Any]:
        return lambda g: _minutes(getattr(g.timing(name), which))

    columns = {
        "reports": ReportColumn(tr("breakdown_col_reports"), lambda g: g.total),
        "forwarded": ReportColumn(tr("report_col_forwarded"), lambda g: g.total),
        "acknowledged": ReportColumn(tr("stats_col_acknowledged"), lambda g: g.acknowledged),
        "darurat": ReportColumn(tr("stats_kind_darurat"), lambda g: g.kinds.get("darurat", 0)),
        "non_darurat": ReportColumn(
            tr("stats_kind_non_darurat"), lambda g: g.kinds.get("non_darurat", 0)
        ),
        "done_share": ReportColumn(
            tr("report_col_done_share"), lambda g: g.aim.done.fraction, "percent"
        ),
        "open_share": ReportColumn(
            tr("report_col_open_share"), lambda g: g.open.fraction, "percent"
        ),
        "forward_target": ReportColumn(
            tr("report_col_forward_target"), lambda g: g.target("forward").fraction, "percent"
        ),
        "finish_target": ReportColumn(
            tr("report_col_finish_target"), lambda g: g.target("finish").fraction, "percent"
        ),
        "answer_time": ReportColumn(
            tr("report_col_answer_time"), duration("answer_to_saved"), "duration"
        ),
        "ack_time": ReportColumn(
            tr("report_col_ack_time"), duration("forwarded_to_acknowledged"), "duration"
        ),
        "done_time": ReportColumn(
            tr("report_col_done_time"), duration("forwarded_to_done"), "duration"
        ),
        "done_p90": ReportColumn(
            tr("report_col_done_p90"), duration("forwarded_to_done", "p90"), "duration"
        ),
        "calls": ReportColumn(tr("breakdown_col_calls"), lambda g: g.calls_total),
        "previous_year": ReportColumn(tr("report_col_previous_year"), lambda g: g.previous),
        "change": ReportColumn(tr("report_col_change"), lambda g: g.change, "change"),
    }
    for status in STATUSES:
        columns[status] = ReportColumn(tr(f"status_{status}"), partial(_status_of, status))
    for disposition in DISPOSITIONS:
        columns[f"calls_{disposition}"] = ReportColumn(
            tr(f"disposition_{disposition}"), partial(_calls_of, disposition)
        )
    return columns


def _status_of(status: str, group: Group) -> int:
    return int(group.statuses.get(status, 0))


def _calls_of(disposition: str, group: Group) -> int:
    return int((group.calls or {}).get(disposition, 0))


CALL_COLUMNS: Final = (
    "calls", "calls_laporan", "calls_iseng", "calls_hening", "calls_informasi",
    "calls_salah_sambung",
)  # fmt: skip


def sheet_plans(period: Period, lang: str) -> list[SheetPlan]:
    """The breakdown sheets of a report on ``period``, in order."""
    days = None
    if period.first_day is not None and period.last_day is not None:
        days = (period.last_day - period.first_day).days + 1
    over_time = "day" if days is not None and days <= DAILY_UP_TO_DAYS else "month"
    statuses = ("selesai", "ditangani", "menunggu")
    return [
        SheetPlan(
            f"report_sheet_{over_time}",
            over_time,
            "line",
            ("reports", "selesai"),
            (
                "reports",
                "darurat",
                "non_darurat",
                *statuses,
                "done_share",
                "forward_target",
                "finish_target",
                "answer_time",
                "calls",
                "calls_laporan",
            ),
        ),
        SheetPlan(
            "report_sheet_category",
            "category",
            "bar",
            ("reports",),
            (
                "reports",
                *statuses,
                "done_share",
                "forward_target",
                "finish_target",
                "done_time",
                "done_p90",
            ),
        ),
        SheetPlan(
            "report_sheet_kecamatan",
            "kecamatan",
            "column",
            ("darurat", "non_darurat"),
            ("reports", "darurat", "non_darurat", "open_share", "done_share", "done_time"),
        ),
        SheetPlan(
            "report_sheet_agency",
            "agency",
            "bar",
            ("ack_time", "done_time"),
            (
                "forwarded",
                "acknowledged",
                "selesai",
                "ack_time",
                "done_time",
                "done_p90",
                "forward_target",
                "finish_target",
            ),
        ),
        SheetPlan(
            "report_sheet_shift",
            "shift",
            "column",
            ("reports", "calls"),
            ("reports", "darurat", "done_share", "answer_time", *CALL_COLUMNS),
        ),
        SheetPlan(
            "report_sheet_operator",
            "operator",
            "none",
            (),
            ("reports", "answer_time", "forward_target", *CALL_COLUMNS),
        ),
    ]


@dataclass(frozen=True)
class WrittenReport:
    path: Path
    sheets: tuple[str, ...]
    statistics: Statistics
    phone: PhoneFigures


def write_report(
    db: Database,
    period: Period,
    path: Path,
    *,
    lang: str,
    made_by: str,
    catalogue: Catalogue | None = None,
    clock: Clock = system_clock,
) -> WrittenReport:
    """Write the workbook for ``period`` to ``path`` (replaced whole, never half-written)."""
    import xlsxwriter

    from siaga_tui.services.export import atomic_path

    catalogue = catalogue or load_catalogue()
    stats = compute_statistics(db, period, catalogue=catalogue, clock=clock, oldest_waiting=0)
    phone = compute_phone_figures(db, period)
    head = audit_head(db)
    plans = sheet_plans(period, lang)
    breakdowns = [
        compute_breakdown(
            db,
            period,
            [plan.dimension],
            catalogue=catalogue,
            clock=clock,
            trend=plan.dimension == "month",
        )
        for plan in plans
    ]
    names: list[str] = []
    with atomic_path(path) as temporary:
        workbook = xlsxwriter.Workbook(
            str(temporary), {"strings_to_formulas": False, "strings_to_urls": False}
        )
        try:
            styles = _styles(workbook)
            names.append(_front_sheet(workbook, styles, stats, phone, head, lang, made_by, clock()))
            for plan, breakdown in zip(plans, breakdowns, strict=True):
                names.append(_breakdown_sheet(workbook, styles, plan, breakdown, lang))
            names.append(_phone_sheet(workbook, styles, stats.period, phone, lang))
        finally:
            workbook.close()
    return WrittenReport(path, tuple(names), stats, phone)


def _styles(workbook: Any) -> dict[str, Any]:
    return {
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "subtitle": workbook.add_format({"italic": True, "font_color": "#555555"}),
        "header": workbook.add_format(
            {"bold": True, "bottom": 1, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"}
        ),
        "label": workbook.add_format({"bold": True}),
        "count": workbook.add_format({"num_format": "#,##0"}),
        "percent": workbook.add_format({"num_format": "0%"}),
        "change": workbook.add_format({"num_format": "+0%;-0%;0%"}),
        "duration": workbook.add_format({"num_format": "[h]:mm:ss"}),
        "text": workbook.add_format({}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
        "good": workbook.add_format({"bold": True, "font_color": "#006100"}),
        "bad": workbook.add_format({"bold": True, "font_color": "#9C0006"}),
    }


def _print_setup(sheet: Any, header_row: int | None, lang: str) -> None:
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)  # one page wide, as many long as needed
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    if header_row is not None:
        sheet.repeat_rows(header_row)
    page = translate("report_page", lang)
    sheet.set_footer(f"&L{translate('report_center', lang)}&R{page} &P / &N")


def _sheet_name(key: str, lang: str) -> str:
    return translate(key, lang)[:31]


def _front_sheet(
    workbook: Any,
    styles: dict[str, Any],
    stats: Statistics,
    phone: PhoneFigures,
    head: Any,
    lang: str,
    made_by: str,
    now: datetime,
) -> str:
    def tr(key: str, **params: Any) -> str:
        return translate(key, lang, **params)

    name = _sheet_name("report_sheet_front", lang)
    sheet = workbook.add_worksheet(name)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 3, 14)
    period = tr("stats_period_all") if stats.period.is_all else stats.period.describe()
    sheet.write_string(0, 0, tr("report_center"), styles["title"])
    sheet.write_string(1, 0, tr("report_heading", period=period), styles["subtitle"])
    facts = [
        (tr("report_made_at"), format_local(now)),
        (tr("report_made_by"), made_by),
        (tr("report_audit_head"), f"#{head.id} {head.hash}"),
    ]
    row = 3
    for label, value in facts:
        sheet.write_string(row, 0, label, styles["label"])
        sheet.write_string(row, 1, value)
        row += 1
    row += 1
    headline_row = row
    sheet.write_string(row, 0, tr("report_headline"), styles["header"])
    sheet.write_string(row, 1, tr("breakdown_col_reports"), styles["header"])
    sheet.write_string(row, 2, tr("report_col_share"), styles["header"])
    row += 1
    sheet.write_string(row, 0, tr("report_total"), styles["label"])
    sheet.write_number(row, 1, stats.total, styles["count"])
    row += 1
    for kind in KINDS:
        figure = stats.kind(kind)
        sheet.write_string(row, 0, tr(f"stats_kind_{kind}"))
        sheet.write_number(row, 1, figure.count, styles["count"])
        _write(sheet, row, 2, figure.share.fraction, styles["percent"])
        row += 1
    status_first = row
    for status in stats.statuses:
        sheet.write_string(row, 0, tr(f"status_{status.status}"))
        sheet.write_number(row, 1, status.count, styles["count"])
        _write(sheet, row, 2, status.share.fraction, styles["percent"])
        row += 1
    status_last = row - 1
    row += 1
    aim = stats.aim
    words = tr(
        "report_aim_met" if aim.met else "report_aim_not_met",
        done=aim.shown(lang).removesuffix(" %"),
        count=aim.done.count,
        total=stats.total,
        aim=aim.aim_percent,
    )
    sheet.merge_range(row, 0, row + 1, 3, words, styles["good" if aim.met else "bad"])
    row += 3
    if stats.duplicates:
        sheet.write_string(
            row, 0, tr("report_duplicates", count=stats.duplicates), styles["subtitle"]
        )
        row += 1
    sheet.set_row(row, 60)
    sheet.merge_range(row, 0, row, 3, tr("report_rules"), styles["wrap"])
    row += 2
    sheet.write_string(row, 0, tr("report_phone_headline"), styles["header"])
    sheet.write_string(row, 1, tr("report_col_calls"), styles["header"])
    sheet.write_string(row, 2, tr("report_col_share"), styles["header"])
    row += 1
    if not phone.offered:
        sheet.write_string(row, 0, tr("stats_phone_none"), styles["subtitle"])
    else:
        within = phone.answered_within[15]
        headline = [
            (tr("stats_phone_offered"), phone.offered, None),
            (tr("stats_phone_within", seconds=15), within.count, within.fraction),
            (tr("stats_phone_abandoned"), phone.abandoned, phone.abandoned_share.fraction),
        ]
        for label, calls, share in headline:
            sheet.write_string(row, 0, label)
            sheet.write_number(row, 1, calls, styles["count"])
            _write(sheet, row, 2, share, styles["percent"])
            row += 1
        sheet.write_string(row, 0, tr("report_phone_answer_median"))
        _write(sheet, row, 1, _minutes(phone.answer_time.median), styles["duration"])

    if stats.total:
        pie = workbook.add_chart({"type": "pie"})
        pie.add_series(
            {
                "name": tr("stats_statuses_title"),
                "categories": [name, status_first, 0, status_last, 0],
                "values": [name, status_first, 1, status_last, 1],
                "data_labels": {"percentage": True, "category": True},
                "points": [{"fill": {"color": c}} for c in ("#70AD47", "#FFC000", "#C00000")],
            }
        )
        pie.set_title({"name": tr("stats_statuses_title")})
        pie.set_legend({"position": "bottom"})
        sheet.insert_chart(headline_row, 4, pie, {"x_offset": 20, "x_scale": 0.9, "y_scale": 0.9})
    _print_setup(sheet, None, lang)
    return name


def _write(sheet: Any, row: int, col: int, value: Any, style: Any) -> None:
    """A number, or an empty cell when the figure is unknown (never a 0)."""
    if value is None:
        sheet.write_blank(row, col, None, style)
    elif isinstance(value, str):
        sheet.write_string(row, col, value, style)
    else:
        sheet.write_number(row, col, value, style)


def _phone_sheet(
    workbook: Any, styles: dict[str, Any], period: Period, phone: PhoneFigures, lang: str
) -> str:
    """The phone's figures: one row per figure, labelled columns, a chart of the
    answered-within shares against the standards' targets."""

    def tr(key: str, **params: Any) -> str:
        return translate(key, lang, **params)

    name = _sheet_name("report_sheet_phone", lang)
    sheet = workbook.add_worksheet(name)
    shown = "*" if period.is_all else period.describe()
    sheet.write_string(0, 0, tr("report_sheet_phone_title"), styles["title"])
    sheet.write_string(1, 0, tr("report_heading", period=shown), styles["subtitle"])
    headings = ("figure", "count", "of", "share", "median", "p90", "target", "met")
    for col, heading in enumerate(headings):
        sheet.write_string(HEADER_ROW, col, tr(f"report_phone_col_{heading}"), styles["header"])
    sheet.set_row(HEADER_ROW, 30)
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, len(headings) - 1, 12)
    known = phone.offered > 0  # no phone records: every figure unknown, empty cells
    targets = {seconds: (required, key) for seconds, required, key in TARGETS}
    row = FIRST_ROW

    def put(label: str, count: int | None = None, of: int | None = None) -> int:
        """One figure's row (counts); the row written."""
        nonlocal row
        sheet.write_string(row, 0, label)
        _write(sheet, row, 1, count if known else None, styles["count"])
        _write(sheet, row, 2, of if known else None, styles["count"])
        row += 1
        return row - 1

    def share(label: str, figure: Share, count: int | None = None) -> int:
        at = put(label, figure.count if count is None else count, figure.total)
        _write(sheet, at, 3, figure.fraction if known else None, styles["percent"])
        return at

    def spread(label: str, figure: Spread) -> None:
        at = put(label, figure.n)
        _write(sheet, at, 4, _minutes(figure.median), styles["duration"])
        _write(sheet, at, 5, _minutes(figure.p90), styles["duration"])

    put(tr("stats_phone_offered"), phone.offered)
    put(tr("stats_phone_answered"), phone.answered)
    share(tr("stats_phone_abandoned"), phone.abandoned_share, phone.abandoned)
    put(tr("stats_phone_dropped"), phone.dropped)
    spread(tr("stats_phone_answer_time"), phone.answer_time)
    within_first = row
    for seconds in ANSWER_WITHIN:
        at = share(tr("stats_phone_within", seconds=seconds), phone.answered_within[seconds])
        required, key = targets[seconds]
        sheet.write_number(at, 6, required / 100, styles["percent"])
        met = phone.targets[key] if known else None
        if met is None:
            sheet.write_blank(at, 7, None)
        else:
            verdict = tr("stats_phone_met" if met else "stats_phone_not_met")
            sheet.write_string(at, 7, verdict, styles["good" if met else "bad"])
    within_last = row - 1
    put(tr("report_phone_callbacks_made"), phone.callbacks)
    put(tr("report_phone_callbacks_reached"), phone.callbacks_reached)
    share(tr("stats_phone_called_back"), phone.abandoned_called_back)
    spread(tr("stats_phone_time_to_callback"), phone.time_to_callback)
    spread(tr("stats_phone_answer_to_saved"), phone.answer_to_saved)
    share(tr("stats_phone_saved_within", seconds=PROCESS_WITHIN), phone.saved_within)
    row += 1
    sheet.merge_range(
        row, 0, row, 5, tr("stats_phone_caption" if known else "stats_phone_none"), styles["wrap"]
    )
    sheet.set_row(row, 30)
    sheet.freeze_panes(FIRST_ROW, 1)
    _print_setup(sheet, HEADER_ROW, lang)
    if known and phone.answer_time.n:
        chart = workbook.add_chart({"type": "column"})
        for col, color in ((3, "#4472C4"), (6, "#A5A5A5")):
            chart.add_series(
                {
                    "name": [name, HEADER_ROW, col],
                    "categories": [name, within_first, 0, within_last, 0],
                    "values": [name, within_first, col, within_last, col],
                    "fill": {"color": color},
                    "data_labels": {"value": True, "num_format": "0%"},
                }
            )
        chart.set_title({"name": tr("report_phone_chart_title")})
        chart.set_y_axis({"min": 0, "max": 1, "num_format": "0%"})
        chart.set_legend({"position": "bottom"})
        sheet.set_h_pagebreaks([row + 2])
        sheet.insert_chart(row + 2, 0, chart, {"x_scale": 1.6, "y_scale": 1.2})
    return name


def _breakdown_sheet(
    workbook: Any, styles: dict[str, Any], plan: SheetPlan, breakdown: Breakdown, lang: str
) -> str:
    name = _sheet_name(plan.name, lang)
    sheet = workbook.add_worksheet(name)
    known = _columns(lang)
    ids = [c for c in plan.columns if breakdown.has_calls or not c.startswith("calls")]
    if breakdown.with_trend:  # the same month a year before, when that year has data
        ids[1:1] = ["previous_year", "change"]
    columns = [known[c] for c in ids]
    period = "*" if breakdown.period.is_all else breakdown.period.describe()
    title = translate(f"{plan.name}_title", lang)
    sheet.write_string(0, 0, title, styles["title"])
    sheet.write_string(1, 0, translate("report_heading", lang, period=period), styles["subtitle"])
    sheet.write_string(
        HEADER_ROW, 0, translate(f"breakdown_by_{plan.dimension}", lang), styles["header"]
    )
    for index, column in enumerate(columns, start=1):
        sheet.write_string(HEADER_ROW, index, column.heading, styles["header"])
    sheet.set_row(HEADER_ROW, 60)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, len(columns), 11)
    row = FIRST_ROW
    for group in breakdown.groups:
        sheet.write_string(row, 0, breakdown.label(plan.dimension, group.key[0], lang))
        for index, column in enumerate(columns, start=1):
            _write(sheet, row, index, column.value(group), styles[column.style])
        row += 1
    last = row - 1
    sheet.freeze_panes(FIRST_ROW, 1)
    if breakdown.groups:
        sheet.autofilter(HEADER_ROW, 0, last, len(columns))
    _print_setup(sheet, HEADER_ROW, lang)
    if plan.chart != "none" and breakdown.groups:
        # The chart prints on a page of its own, below the table.
        sheet.set_h_pagebreaks([row + 1])
        _chart(workbook, sheet, name, plan, ids, columns, last, row + 1, lang)
    return name


def _chart(
    workbook: Any,
    sheet: Any,
    name: str,
    plan: SheetPlan,
    ids: Sequence[str],
    columns: Sequence[ReportColumn],
    last: int,
    at_row: int,
    lang: str,
) -> None:
    """The sheet's native chart, drawing ``plan.chart_columns`` over the table's rows."""
    chart = workbook.add_chart({"type": plan.chart})
    for column_id in plan.chart_columns:
        col = ids.index(column_id) + 1
        series: dict[str, Any] = {
            "name": [name, HEADER_ROW, col],
            "categories": [name, FIRST_ROW, 0, last, 0],
            "values": [name, FIRST_ROW, col, last, col],
        }
        if plan.chart == "line":
            series["marker"] = {"type": "circle", "size": 4}
        chart.add_series(series)
    chart.set_title({"name": translate(f"{plan.name}_title", lang)})
    chart.set_legend({"position": "bottom"})
    if any(columns[ids.index(c)].style == "duration" for c in plan.chart_columns):
        axis = {"num_format": "[h]:mm", "name": translate("report_axis_time", lang)}
        (chart.set_x_axis if plan.chart == "bar" else chart.set_y_axis)(axis)
    if plan.chart == "bar":
        chart.set_y_axis({"reverse": True})  # the first row on top, as in the table
    groups = last - FIRST_ROW + 1
    height = max(1.4, groups / 10) if plan.chart == "bar" else 1.4
    sheet.insert_chart(at_row, 0, chart, {"x_scale": 2.0, "y_scale": height})
