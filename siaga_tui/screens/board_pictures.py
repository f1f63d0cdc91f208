"""The status board's pictures: today per hour, the last 30 days, places, agencies.

Plain functions from ``services.board_charts.BoardCharts`` to what the board's widgets
show (``widgets/board_chart.BoardChart`` and two text sections of bars); the board
screen calls ``show_pictures`` after each count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

from textual.content import Content
from textual.widgets import Static

from siaga_tui.core.i18n import translate
from siaga_tui.core.timeutil import as_utc, format_age
from siaga_tui.services.board_charts import BoardCharts
from siaga_tui.widgets.board_chart import BoardChart
from siaga_tui.widgets.share_bar import share_bar

if TYPE_CHECKING:
    from textual.screen import Screen

#: How many kecamatan and agencies the bars list (the rest are summed in one line).
TOP: Final = 6
BAR: Final = 16


def count(value: int, lang: str) -> str:
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "id" else text


def scale(data: Sequence[int], lang: str) -> tuple[str, ...]:
    """What the lowest and the highest bar stand for, ``▁ 0 · █ 11``; shorter, ``█ 11``
    (the highest alone, when the lowest is 0), for narrow charts."""
    if not data:
        return ()
    low, high = count(min(data), lang), count(max(data), lang)
    full = translate("board_chart_scale", lang, low=low, high=high)
    return (full, f"\u2588 {high}") if min(data) == 0 else (full,)


def show_pictures(screen: Screen[None], charts: BoardCharts, lang: str, now: datetime) -> None:
    hours = ("00", "12", "23")
    reports = screen.query_one("#chart-reports-hour", BoardChart)
    reports.show(
        Content.styled(
            translate(
                "board_chart_reports_hour", lang, total=count(sum(charts.reports_per_hour), lang)
            ),
            "bold $primary",
        ),
        charts.reports_per_hour,
        hours,
        *scale(charts.reports_per_hour, lang),
    )
    calls = screen.query_one("#chart-calls-hour", BoardChart)
    calls.show(
        Content.styled(
            translate(
                "board_chart_calls_hour", lang, total=count(sum(charts.calls_per_hour), lang)
            ),
            "bold $primary",
        ),
        charts.calls_per_hour,
        hours,
        *scale(charts.calls_per_hour, lang),
    )
    days = charts.days
    labels = (
        days[0].strftime("%d/%m"),
        days[len(days) // 2].strftime("%d/%m"),
        days[-1].strftime("%d/%m"),
    )
    screen.query_one("#chart-days", BoardChart).show(
        Content.styled(
            translate(
                "board_chart_days",
                lang,
                days=len(days),
                total=count(sum(charts.reports_per_day), lang),
            ),
            "bold $primary",
        ),
        charts.reports_per_day,
        labels,
        *scale(charts.reports_per_day, lang),
    )
    screen.query_one("#board-places", Static).update(places(charts, lang))
    screen.query_one("#board-agency-waits", Static).update(agency_waits(charts, lang, now))


def places(charts: BoardCharts, lang: str) -> Content:
    """Open reports per kecamatan: emergencies and the rest, as stacked bars."""
    lines = [Content.styled(translate("board_places_title", lang), "bold $primary")]
    if not charts.open_places:
        lines.append(Content.styled(translate("board_none", lang), "dim"))
    most = max((p.total for p in charts.open_places), default=0)
    for place in charts.open_places[:TOP]:
        emergency = round(BAR * place.emergency / most) if most else 0
        lines.append(
            Content.assemble(
                place.name[:17].ljust(17),
                " ",
                (count(place.total, lang).rjust(5), "bold"),
                " ",
                share_bar(1.0 if emergency else 0.0, emergency, style="$error")
                if emergency
                else "",
                share_bar(place.other / most if most else 0.0, BAR - emergency, style="$secondary"),
            )
        )
    rest = charts.open_places[TOP:]
    if rest:
        others = sum(p.total for p in rest)
        lines.append(
            Content.styled(
                translate("board_places_rest", lang, places=len(rest), total=count(others, lang)),
                "dim",
            )
        )
    lines.append(
        Content.assemble(
            ("\u2588 ", "$error"),
            translate("kind_darurat", lang),
            "  ",
            ("\u2588 ", "$secondary"),
            translate("kind_non_darurat", lang),
        )
    )
    return Content("\n").join(lines)


def agency_waits(charts: BoardCharts, lang: str, now: datetime) -> Content:
    """Agencies whose acknowledgement is awaited, the longest wait first."""
    lines = [Content.styled(translate("board_agency_waits_title", lang), "bold $primary")]
    if not charts.agency_waits:
        lines.append(Content.styled(translate("board_none", lang), "dim"))
    longest = max(
        ((as_utc(now) - w.oldest).total_seconds() for w in charts.agency_waits), default=0.0
    )
    for wait in charts.agency_waits[:TOP]:
        seconds = (as_utc(now) - wait.oldest).total_seconds()
        lines.append(
            Content.assemble(
                wait.name[:12].ljust(12),
                " ",
                (format_age(as_utc(now) - wait.oldest).rjust(6), "bold $text-warning"),
                " ",
                share_bar(seconds / longest if longest else None, BAR, style="$warning"),
                " ",
                (translate("board_agency_waiting", lang, count=count(wait.waiting, lang)), "dim"),
            )
        )
    return Content("\n").join(lines)
