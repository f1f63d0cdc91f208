"""Status board (Papan Status, F4): the center's figures for a period, live.

Every figure comes from ``services.stats.compute_statistics`` (the same function
``siaga112 stats`` prints), so the board and the city's report always agree, and the
phone's panel from ``services.phone_stats.compute_phone_figures`` (the phone system's
clock; "–" when the period has no phone records, never 0); this screen only lays them
out. It recounts when a report changes (the event sequence the
queue follows) or a call is logged, looking when the app's live watch says the database
moved, and when the period shown ends (midnight, the end of a shift).

When a count fails (the database locked by another process for too long, or gone) the
figures already shown stay up, a line under the periods says since when they are and
that the board retries, and it counts again every ``WATCH_RETRY`` seconds: never a
crash, never zeros. Before the first count succeeds the summary says it is counting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from textual import work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.timer import Timer
from textual.widgets import Static

from siaga_tui.core.catalogue import Catalogue
from siaga_tui.core.errors import NotFound, SiagaError
from siaga_tui.core.i18n import translate
from siaga_tui.core.timeutil import Clock, as_utc, format_age, format_duration, format_local
from siaga_tui.live import WATCH_RETRY
from siaga_tui.screens.base import ConsoleScreen
from siaga_tui.screens.board_pictures import show_pictures
from siaga_tui.screens.localised import Key, key_hints
from siaga_tui.services.board_charts import BoardCharts, board_charts
from siaga_tui.services.phone_stats import (
    ANSWER_WITHIN,
    TARGETS,
    PhoneFigures,
    compute_phone_figures,
    phone_mark,
)
from siaga_tui.services.stats import KINDS, Period, Statistics, compute_statistics, percent
from siaga_tui.services.views import ReportSummary
from siaga_tui.widgets.board_chart import BoardChart
from siaga_tui.widgets.key_footer import KeyFooter
from siaga_tui.widgets.queue_table import short_span
from siaga_tui.widgets.share_bar import share_bar

#: The longest wait for the end of the period shown: a clock stepped by the system is
#: followed within the hour.
MAX_PERIOD_WAIT: Final = 3600.0
#: The periods the board offers, by name, and how each is built from the clock.
PERIODS: Final[dict[str, Callable[[Clock], Period]]] = {
    "today": Period.today,
    "shift": Period.shift,
    "week": lambda clock: Period.days(7, clock),
    "month": Period.month,
    "year": Period.this_year,
    "all": lambda clock: Period.all(),
}
#: The intervals shown as medians: answer to saved, saved to forwarded, forwarded to done.
TIMES: Final = ("answer_to_saved", "saved_to_forwarded", "forwarded_to_done")
#: The reports awaiting an agency's acknowledgement listed (all are counted).
AWAITING_LISTED: Final = 8
#: Below this width the sections stack in one column.
NARROW: Final = 110
BAR: Final = 14
STATUS_STYLES: Final = {"selesai": "$success", "ditangani": "$warning", "menunggu": "$error"}

#: What was counted from: the last event id, the last call id, the phone's mark.
Seen = tuple[int, int, tuple[int, int, int, int]]
#: The standards' short names on the panel, by threshold (seconds).
STANDARDS: Final = {10: "NFPA", 15: "NENA", 20: "NENA"}
#: A count: the period's name, its figures, the change marks read, the pictures, the phone,
#: and the reports awaiting an agency's acknowledgement (how many, the longest waits).
Counted = tuple[str, Statistics, Seen, BoardCharts, PhoneFigures, tuple[int, list[ReportSummary]]]

KEYS = (
    Key("t", "period('today')", "board_period_today"),
    Key("s", "period('shift')", "board_period_shift"),
    Key("w", "period('week')", "board_period_week"),
    Key("m", "period('month')", "board_period_month"),
    Key("y", "period('year')", "board_period_year"),
    Key("a", "period('all')", "board_period_all"),
)


class BoardScreen(ConsoleScreen[None]):
    """Totals, kinds, statuses against the aim, categories, agencies, waits, times, calls."""

    CSS_PATH = "../styles/board.tcss"
    KEYS = KEYS
    KEY_LINE = True  # its keys are on its own line; the footer has the F-keys
    TITLE_KEY = "board_title"

    def __init__(self) -> None:
        super().__init__()
        self.period_name = "today"
        self.figures: Statistics | None = None
        self._seen: Seen = (-1, -1, (-1, -1, -1, -1))  # what the figures shown counted
        self._period_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield self.status_header()
        yield Static(id="board-periods")
        yield Static(id="board-state", markup=False)
        with VerticalScroll(id="board-scroll"):
            with Horizontal(id="board-top"):
                yield Static(id="board-summary")
                yield Static(id="board-phone")
            with Grid(id="board-charts"):
                for name in ("reports-hour", "calls-hour", "days"):
                    yield BoardChart(id=f"chart-{name}")
            with Grid(id="board-grid"):
                for name in (
                    "places",
                    "agency-waits",
                    "categories",
                    "agencies",
                    "waiting",
                    "awaiting",
                    "times",
                    "calls",
                ):
                    yield Static(id=f"board-{name}", classes="board-section")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self._show_title()
        self.query_one("#board-summary", Static).update(
            Content(translate("board_loading", self.lang))
        )
        self._recount(self.period_name)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

    # --- Keys ----------------------------------------------------------------------------

    def action_period(self, name: str) -> None:
        if name in PERIODS and name != self.period_name:
            self.period_name = name
            self._show_title()
            self._recount(name)

    def _show_title(self) -> None:
        current = f"period('{self.period_name}')"
        self.query_one("#board-periods", Static).update(
            key_hints(self, KEYS, self.lang, current=current)
        )
        self.show_title(
            f"{translate('board_title', self.lang)} \u00b7 {translate(f'board_period_{self.period_name}', self.lang)}"
        )

    # --- Counting, live ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="board", exit_on_error=False)
    def _recount(self, name: str) -> None:
        try:
            found = self._count_figures(name)
        except SiagaError as error:
            self.app.call_from_thread(self._count_failed, error)
            return
        self.app.call_from_thread(self._show, *found)

    def _count_failed(self, error: SiagaError) -> None:
        """Say why no figures are shown yet; count again shortly, and whenever the
        database moves."""
        self.look_failed(error)
        if not self.following_changes:
            self.watch_changes()
        self.set_timer(WATCH_RETRY, self.database_moved)

    def look_failed(self, error: SiagaError) -> None:
        """A count failed: the last figures stay, and the line says since when and why."""
        lang = self.lang
        reason = self.console.read_failure(error)
        if self.figures is None:
            text = translate("board_retrying_first", lang, reason=reason)
        else:
            since = format_local(self.figures.generated_at, "%H:%M")
            text = translate("board_retrying_last", lang, time=since, reason=reason)
        state = self.query_one("#board-state", Static)
        state.update(text)
        state.add_class("-retrying")

    def _count_figures(self, name: str) -> Counted:
        """Count the period's figures and the pictures (the change marks are read first,
        so none is missed), and the reports waiting for an agency's acknowledgement now."""
        app = self.console
        seen = (app.queue.last_change(), app.calls.last_call_id(), phone_mark(app.db))
        period = PERIODS[name](app.clock)
        figures = compute_statistics(app.db, period, catalogue=app.catalogue, clock=app.clock)
        charts = board_charts(app.db, catalogue=app.catalogue, clock=app.clock)
        return (
            name,
            figures,
            seen,
            charts,
            compute_phone_figures(app.db, period),
            app.queue.awaiting_acknowledgement(
                limit=AWAITING_LISTED, cutoff=app.todays_work().cutoff
            ),
        )

    def look_for_changes(self) -> Counted | None:
        """Recount when a report changed, a call was logged, or the period moved on."""
        app = self.console
        changed = (
            app.queue.changes_since(self._seen[0]).any
            or app.calls.last_call_id() != self._seen[1]
            or phone_mark(app.db) != self._seen[2]
        )
        name = self.period_name
        moved = self.figures is not None and PERIODS[name](app.clock) != self.figures.period
        return self._count_figures(name) if changed or moved else None

    def changes_seen(self, found: Counted | None) -> None:
        if found is not None:
            self._show(*found)
        elif self.figures is not None:
            self._wait_for_period_end(self.figures)  # a wake just before the end: wait on

    def _wait_for_period_end(self, figures: Statistics) -> None:
        """Look again when the period shown ends ("today" after midnight, a shift at its end)."""
        if self._period_timer is not None:
            self._period_timer.stop()
            self._period_timer = None
        end = figures.period.end
        if end is not None:
            wait = (end - self.console.clock()).total_seconds()
            self._period_timer = self.set_timer(
                min(max(wait, 1.0), MAX_PERIOD_WAIT), self.database_moved, name="board-period"
            )

    def _show(
        self,
        name: str,
        figures: Statistics,
        seen: Seen,
        charts: BoardCharts,
        phone_figures: PhoneFigures,
        awaiting: tuple[int, list[ReportSummary]],
    ) -> None:
        if not self.following_changes:
            self.watch_changes()
        if name != self.period_name:
            return  # the operator switched period meanwhile; that count is on its way
        self.figures, self._seen = figures, seen
        self.console.board_counted()  # before the figures change: one repaint shows both
        self.query_one("#board-state", Static).remove_class("-retrying")
        self._wait_for_period_end(figures)
        lang, now = self.lang, self.console.clock()
        self.query_one("#board-summary", Static).update(summary(figures, name, lang))
        self.query_one("#board-categories", Static).update(categories(figures, lang))
        self.query_one("#board-agencies", Static).update(agencies(figures, lang))
        self.query_one("#board-waiting", Static).update(
            waiting(figures, lang, now, self.console.catalogue)
        )
        self.query_one("#board-awaiting", Static).update(
            awaiting_acknowledgement(*awaiting, lang, now, self.console.catalogue)
        )
        self.query_one("#board-times", Static).update(times(figures, lang))
        self.query_one("#board-calls", Static).update(calls(figures, lang))
        self.query_one("#board-phone", Static).update(phone(phone_figures, lang))
        show_pictures(self, charts, lang, now)


# --- Layout of the figures (plain functions: Statistics in, Content out) ------------------


def count(value: int, lang: str) -> str:
    """1132 as the language writes it: ``1.132`` in Indonesian, ``1,132`` in English."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "id" else text


def pct(value: int | None) -> str:
    return "  \u2013" if value is None else f"{value:3d} %"


def _right(text: str, width: int, style: str = "bold") -> Content:
    """``text`` right-aligned in ``width`` cells (the padding outside the style)."""
    return Content.assemble(" " * max(0, width - len(text)), (text, style))


def _title(key: str, lang: str) -> Content:
    return Content.styled(translate(key, lang), "bold $primary")


def _lines(parts: list[Content]) -> Content:
    return Content("\n").join(parts)


def _row(
    label: str,
    width: int,
    number: int,
    percent: int | None,
    fraction: float | None,
    lang: str,
    *,
    style: str = "$accent",
    mark: float | None = None,
) -> Content:
    return Content.assemble(
        label[:width].ljust(width),
        " ",
        _right(count(number, lang), 7),
        " ",
        pct(percent),
        " ",
        share_bar(fraction, BAR, style=style, mark=mark),
    )


def summary(figures: Statistics, period_name: str, lang: str) -> Content:
    span = figures.period.describe()
    heading = translate(
        "board_heading", lang, period=translate(f"board_period_{period_name}", lang), span=span
    )
    total = Content.assemble(
        (translate("board_total", lang, total=count(figures.total, lang)), "bold"),
        (
            f"  {translate('board_duplicates', lang, count=count(figures.duplicates, lang))}"
            if figures.duplicates
            else "",
            "dim",
        ),
    )
    lines = [Content.assemble((heading, "bold $primary"), "   ", total)]
    for kind in figures.kinds:
        style = "$error" if kind.kind == KINDS[0] else "$secondary"
        lines.append(
            _row(
                translate(f"kind_{kind.kind}", lang),
                14,
                kind.count,
                kind.share.percent,
                kind.share.fraction,
                lang,
                style=style,
            )
        )
    for status in figures.statuses:
        lines.append(
            _row(
                translate(f"status_{status.status}", lang),
                14,
                status.count,
                status.share.percent,
                status.share.fraction,
                lang,
                style=STATUS_STYLES.get(status.status, "$accent"),
            )
        )
    aim = figures.aim
    verdict = translate("board_aim_met" if aim.met else "board_aim_not_met", lang)
    done = aim.shown(lang)  # 59,6 % near the line, so it agrees with the verdict
    lines.append(
        Content.assemble(
            (translate("board_aim", lang, done=done, aim=aim.aim_percent), "bold"),
            "  ",
            share_bar(
                aim.done.fraction,
                BAR,
                style="$success" if aim.met else "$warning",
                mark=aim.aim_percent / 100,
            ),
            " ",
            (verdict, "bold $text-success" if aim.met else "bold $text-warning"),
        )
    )
    return _lines(lines)


def categories(figures: Statistics, lang: str) -> Content:
    lines = [_title("board_categories_title", lang)]
    for kind in figures.kinds:
        lines.append(Content.styled(translate(f"kind_{kind.kind}", lang), "underline"))
        style = "$error" if kind.kind == KINDS[0] else "$secondary"
        for category in kind.categories:
            lines.append(
                _row(
                    category.label(lang),
                    27,
                    category.count,
                    category.share.percent,
                    category.share.fraction,
                    lang,
                    style=style,
                )
            )
    return _lines(lines)


def agencies(figures: Statistics, lang: str) -> Content:
    lines = [_title("board_agencies_title", lang)]
    if not figures.agencies:
        lines.append(Content.styled(translate("board_none", lang), "dim"))
    most = max((a.forwarded for a in figures.agencies), default=0)
    for agency in figures.agencies:
        still_open = agency.forwarded - agency.done
        lines.append(
            Content.assemble(
                agency.short_name[:12].ljust(12),
                " ",
                _right(count(agency.forwarded, lang), 6),
                " / ",
                _right(count(still_open, lang), 6, "bold $text-warning" if still_open else "dim"),
                " ",
                share_bar(still_open / most if most else None, BAR, style="$warning"),
            )
        )
    return _lines(lines)


def waiting(figures: Statistics, lang: str, now: datetime, catalogue: Catalogue) -> Content:
    lines = [_title("board_waiting_title", lang)]
    if not figures.oldest_waiting:
        lines.append(Content.styled(translate("board_none", lang), "dim"))
    for report in figures.oldest_waiting:
        try:
            label = catalogue.category(report.category).label(lang)
            place = catalogue.kelurahan_by_code(report.kelurahan_code).name
        except NotFound:
            label, place = report.category, report.kelurahan_code
        age = format_age(as_utc(now) - as_utc(report.created_at))
        marker = ("\u25cf ", "$error") if report.kind == KINDS[0] else ("  ", "")
        lines.append(
            Content.assemble(
                _right(age, 6, "bold $text-warning"),
                " ",
                marker,
                (report.number, "bold"),
                " ",
                f"{label} \u00b7 {place}",
            )
        )
    return _lines(lines)


def awaiting_acknowledgement(
    total: int, reports: list[ReportSummary], lang: str, now: datetime, catalogue: Catalogue
) -> Content:
    """Forwarded reports the agency has not acknowledged: time since forwarding against
    the category's target, the longest waits first (as the queue marks them)."""
    lines = [
        Content.assemble(_title("board_awaiting_title", lang), "  ", (count(total, lang), "dim"))
    ]
    if not reports:
        lines.append(Content.styled(translate("board_none", lang), "dim"))
    for report in reports:
        since = report.awaiting_ack_since
        if since is None:
            continue
        try:
            target = catalogue.category(report.category).forward_target
            agencies = ", ".join(catalogue.agency(code).short_name for code in report.agencies)
        except NotFound:
            target, agencies = None, ", ".join(report.agencies)
        waited = as_utc(now) - as_utc(since)
        late = target is not None and waited > target
        wait = format_age(waited) + (f"/{short_span(target)}" if target is not None else "")
        lines.append(
            Content.assemble(
                _right(wait, 10, "bold $text-warning" if late else "bold"),
                " ",
                (report.number, "bold"),
                " ",
                Content(agencies),
            )
        )
    return _lines(lines)


def times(figures: Statistics, lang: str) -> Content:
    """Each interval's median by kind and for all kinds, one interval to two lines."""
    lines = [_title("board_times_title", lang)]
    for name in TIMES:
        lines.append(Content(translate(f"stats_interval_{name}", lang)))
        cells: list[Content | str] = []
        for kind in (*KINDS, None):
            label = translate(f"kind_{kind}" if kind else "board_period_all", lang)
            median = format_duration(figures.interval(name, kind).median)
            cells.extend(
                [
                    "  " if not cells else " · ",
                    Content.styled(f"{label} ", "dim"),
                    Content.styled(median, "bold"),
                ]
            )
        lines.append(Content.assemble(*cells))
    return _lines(lines)


def calls(figures: Statistics, lang: str) -> Content:
    total = figures.calls_total
    lines = [
        Content.assemble(
            _title("board_calls_title", lang),
            "  ",
            (translate("board_calls_total", lang, total=count(total, lang)), "dim"),
        )
    ]
    for call in figures.calls:
        lines.append(
            _row(
                translate(f"disposition_{call.disposition}", lang),
                14,
                call.count,
                percent(call.count, total),
                call.count / total if total else None,
                lang,
            )
        )
    return _lines(lines)


def phone(figures: PhoneFigures, lang: str) -> Content:
    """The phone's panel: answered within 10/15/20 s against NFPA 1225 / NENA-STA-020.1,
    median/p90 answer, abandoned and share, call-backs, time to call back. Every figure
    is "–" when the period has no phone records (unknown, never 0)."""
    known = figures.offered > 0
    lines = [
        Content.assemble(
            _title("board_phone_title", lang),
            "  ",
            (
                translate("board_phone_offered", lang, count=count(figures.offered, lang))
                if known
                else translate("board_phone_unknown", lang),
                "dim",
            ),
        ),
        Content.styled(translate("board_phone_within", lang), "dim"),
    ]
    targets = {seconds: (required, name) for seconds, required, name in TARGETS}
    for seconds in ANSWER_WITHIN:
        share = figures.answered_within[seconds]
        required, name = targets[seconds]
        met = figures.targets[name] if known else None
        verdict = (
            ("  \u2013", "dim")
            if met is None
            else ((" \u2713", "bold $text-success") if met else (" \u2717", "bold $text-error"))
        )
        lines.append(
            Content.assemble(
                f"\u2264{seconds:>2} {translate('board_phone_seconds', lang)}".ljust(9),
                _right(f"{share.count}/{share.total}" if known and share.total else "\u2013", 7),
                " ",
                pct(share.percent if known else None),
                " ",
                share_bar(
                    share.fraction if known else None,
                    BAR,
                    style="$success" if met else "$warning",
                    mark=required / 100,
                ),
                " ",
                (f"{STANDARDS[seconds]} {required} %", "dim"),
                verdict,
            )
        )
    answer = figures.answer_time
    lines.append(_spread_line("board_phone_answer", answer.median, answer.p90, known, lang))
    ended = figures.abandoned_share
    lines.append(
        Content.assemble(
            translate("board_phone_abandoned", lang)[:9].ljust(9),
            _right(f"{figures.abandoned}/{ended.total}" if known else "\u2013", 7),
            " ",
            pct(ended.percent if known else None),
            " ",
            share_bar(ended.fraction if known else None, BAR, style="$error"),
        )
    )
    lines.append(
        Content.assemble(
            translate("board_phone_callbacks", lang),
            " ",
            (
                translate(
                    "board_phone_callbacks_counts",
                    lang,
                    to_make=count(figures.abandoned_not_called_back, lang),
                    made=count(figures.callbacks, lang),
                    reached=count(figures.callbacks_reached, lang),
                )
                if known
                else "\u2013",
                "bold",
            ),
        )
    )
    back = figures.time_to_callback
    lines.append(_spread_line("board_phone_to_callback", back.median, back.p90, known, lang))
    return _lines(lines)


def _spread_line(
    key: str, median: float | None, p90: float | None, known: bool, lang: str
) -> Content:
    """``label  median 12 s · p90 24 s``; "–" for what is unknown."""
    return Content.assemble(
        translate(key, lang),
        "  ",
        ("median ", "dim"),
        (format_duration(median if known else None, lang), "bold"),
        (" \u00b7 p90 ", "dim"),
        (format_duration(p90 if known else None, lang), "bold"),
    )
