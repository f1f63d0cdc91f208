"""``stats``: the phone's figures as a terminal table (``services/phone_stats.py``)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from siaga_tui.cli.base import t
from siaga_tui.core.timeutil import format_duration
from siaga_tui.services.phone_stats import (
    ANSWER_WITHIN,
    PROCESS_WITHIN,
    TARGETS,
    PhoneFigures,
    Spread,
)
from siaga_tui.services.stats import Share


def render_phone(figures: PhoneFigures, lang: str) -> RenderableType:
    """The phone's table, or one line saying the period has no phone-system records."""
    if figures.offered == 0:
        return Text(t("stats_phone_none"), style="dim")
    table = Table(title=Text(t("stats_phone_title")), title_justify="left", show_edge=True)
    table.add_column(Text(t("stats_col_figure")), justify="left")
    table.add_column(Text(t("stats_col_value")), justify="right")
    rows: list[tuple[str, str]] = [
        (t("stats_phone_offered"), str(figures.offered)),
        (t("stats_phone_answered"), str(figures.answered)),
        (t("stats_phone_abandoned"), f"{figures.abandoned}  ({_pct(figures.abandoned_share)})"),
        (t("stats_phone_dropped"), str(figures.dropped)),
        (t("stats_phone_answer_time"), _spread(figures.answer_time, lang)),
        *(
            (t("stats_phone_within", seconds=s), _pct(figures.answered_within[s]))
            for s in ANSWER_WITHIN
        ),
        *((t(f"stats_phone_target_{name}"), _met(figures.targets[name])) for _, _, name in TARGETS),
        (t("stats_phone_callbacks"), f"{figures.callbacks} / {figures.callbacks_reached}"),
        (t("stats_phone_called_back"), _pct(figures.abandoned_called_back)),
        (t("stats_phone_time_to_callback"), _spread(figures.time_to_callback, lang)),
        (t("stats_phone_answer_to_saved"), _spread(figures.answer_to_saved, lang)),
        (t("stats_phone_saved_within", seconds=PROCESS_WITHIN), _pct(figures.saved_within)),
    ]
    for label, value in rows:
        table.add_row(Text(label), Text(value))
    table.caption = Text(t("stats_phone_caption"))
    return Group(table)


def _pct(share: Share) -> str:
    return "–" if share.percent is None else f"{share.percent} % ({share.count}/{share.total})"


def _spread(spread: Spread, lang: str) -> str:
    if not spread.n:
        return "– / –  n=0"
    return f"{format_duration(spread.median, lang)} / {format_duration(spread.p90, lang)}  n={spread.n}"


def _met(met: bool | None) -> str:
    return "–" if met is None else t("stats_phone_met" if met else "stats_phone_not_met")
