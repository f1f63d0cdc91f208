"""``siaga112 stats --by …``: a breakdown as a terminal table, CSV or JSON.

The CSV and JSON carry every figure of every group with stable field names
(``breakdowns.row_fields``); the terminal table picks the columns a supervisor reads
for the dimensions asked (agencies: forwarded, acknowledged, done and their times;
places: kinds and the open share; shifts and operators: calls and answer → saved).
Every cell is ``rich.text.Text``: nothing in the data is read as markup.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from typing import Any

from rich import box
from rich.console import Console
from rich.console import Group as RichGroup
from rich.table import Table
from rich.text import Text

from siaga_tui.cli.base import print_json, t
from siaga_tui.core.i18n import current_language
from siaga_tui.core.timeutil import format_duration
from siaga_tui.services.breakdowns import (
    Breakdown,
    Dimension,
    Group,
    breakdown_rows,
    row_fields,
)
from siaga_tui.services.stats import Share

Column = tuple[str, Callable[[Group], str]]


def write(breakdown: Breakdown, output: str, lang: str) -> None:
    if output == "json":
        print_json(breakdown.to_dict() | {"groups": breakdown_rows(breakdown, lang)})
    elif output == "csv":
        fields = row_fields(breakdown)
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in breakdown_rows(breakdown, lang):
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    else:
        Console(highlight=False).print(render(breakdown, lang))


def number(value: int | None, lang: str) -> str:
    if value is None:
        return "\u2013"
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "id" else text


def share(value: Share) -> str:
    return "\u2013" if value.percent is None else f"{value.percent} %"


def columns(breakdown: Breakdown, lang: str) -> list[Column]:
    """The figures shown for these dimensions (every figure is in CSV and JSON)."""
    dims = {Dimension(d) for d in breakdown.by}
    cols: list[Column] = [(t("breakdown_col_reports"), lambda g: number(g.total, lang))]
    if breakdown.with_trend:
        cols.append((t("breakdown_col_previous"), lambda g: number(g.previous, lang)))
        cols.append((t("breakdown_col_change"), lambda g: _change(g.change)))
    if dims & {Dimension.KECAMATAN, Dimension.KELURAHAN}:
        cols.append((t("stats_kind_darurat"), lambda g: number(g.kinds.get("darurat", 0), lang)))
        cols.append(
            (t("stats_kind_non_darurat"), lambda g: number(g.kinds.get("non_darurat", 0), lang))
        )
        cols.append((t("breakdown_col_open"), lambda g: share(g.open)))
    elif Dimension.KIND not in dims:
        cols.append((t("breakdown_col_emergency_share"), lambda g: share(g.kind("darurat"))))
    if Dimension.AGENCY in dims:
        cols.append((t("stats_col_acknowledged"), lambda g: number(g.acknowledged, lang)))
        cols.append((t("stats_col_done"), lambda g: number(g.statuses.get("selesai", 0), lang)))
        cols.append(
            (t("breakdown_col_ack_time"), lambda g: _timing(g, "forwarded_to_acknowledged"))
        )
        cols.append((t("breakdown_col_done_time"), lambda g: _timing(g, "forwarded_to_done")))
    else:
        cols.append((t("breakdown_col_done"), _done))
    cols.append((t("breakdown_col_forward_target"), lambda g: share(g.target("forward"))))
    cols.append((t("breakdown_col_finish_target"), lambda g: share(g.target("finish"))))
    if breakdown.has_calls:
        cols.append((t("breakdown_col_calls"), lambda g: number(g.calls_total, lang)))
        cols.append((t("breakdown_col_nuisance"), lambda g: number(_nuisance(g), lang)))
        cols.append((t("breakdown_col_answer_time"), lambda g: _timing(g, "answer_to_saved")))
    elif Dimension.AGENCY not in dims:
        cols.append((t("breakdown_col_done_time"), lambda g: _timing(g, "forwarded_to_done")))
    return cols


def render(breakdown: Breakdown, lang: str) -> RichGroup:
    period = t("stats_period_all") if breakdown.period.is_all else breakdown.period.describe()
    by = " \u00d7 ".join(t(f"breakdown_by_{d}") for d in breakdown.by)
    table = Table(
        title=Text(t("breakdown_title", by=by, period=period)),
        title_justify="left",
        show_edge=False,
        expand=False,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    chosen = fitting(breakdown, columns(breakdown, lang), Console().width)
    rows = [
        [breakdown.label(d, k, lang) for d, k in zip(breakdown.by, group.key, strict=True)]
        + [cell(group) for _, cell in chosen]
        for group in breakdown.groups
    ]
    headings = [t(f"breakdown_by_{d}") for d in breakdown.by] + [h for h, _ in chosen]
    for index, heading in enumerate(headings):
        is_key = index < len(breakdown.by)
        table.add_column(
            Text(heading),
            justify="left" if is_key else "right",
            min_width=_width(heading, [row[index] for row in rows], is_key),
            overflow="fold",
        )
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    parts: list[Any] = [table]
    if not breakdown.groups:
        parts.append(Text(t("stats_no_reports")))
    notes = [t("breakdown_note_times"), t("breakdown_note_targets")]
    if Dimension.AGENCY in breakdown.by:
        notes.append(t("breakdown_note_agencies"))
    parts.append(Text("\n".join(notes), style="dim"))
    return RichGroup(*parts)


def _width(heading: str, cells: list[str], is_key: bool) -> int:
    """As wide as the widest figure and the longest word of the heading (keys: ≤ 22)."""
    widest = max([len(c) for c in cells] + [len(w) for w in heading.split()] + [1])
    return min(widest, 22) if is_key else widest


def fitting(breakdown: Breakdown, cols: list[Column], width: int) -> list[Column]:
    """The first columns that fit ``width`` (keys always shown; the rest in order)."""
    keys = sum(
        _width(
            t(f"breakdown_by_{d}"), [breakdown.label(d, g.key[i]) for g in breakdown.groups], True
        )
        + 3
        for i, d in enumerate(breakdown.by)
    )
    chosen: list[Column] = []
    used = keys
    for heading, cell in cols:
        need = _width(heading, [cell(g) for g in breakdown.groups], False) + 3
        if chosen and used + need > width:
            break
        chosen.append((heading, cell))
        used += need
    return chosen


def _timing(group: Group, name: str) -> str:
    timing = group.timing(name)
    return format_duration(timing.median) if timing.count else "\u2013"


def _done(group: Group) -> str:
    """The done share as the aim is read (a decimal near the line), a tick above it."""
    text = group.aim.shown(current_language()) if group.total else "\u2013"
    return f"{text} \u2713" if group.aim.met else text


def _change(change: float | None) -> str:
    if change is None:
        return "\u2013"
    return f"{change * 100:+.0f} %"


def _nuisance(group: Group) -> int | None:
    if group.calls is None:
        return None
    return (group.calls_total or 0) - group.calls.get("laporan", 0)
