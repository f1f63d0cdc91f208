"""Antrian: the live queue of open reports, the screen the console opens on.

Shows one window of the most urgent open reports (emergencies waiting first, then
oldest) and fetches the next window when the cursor nears the end; never all of them.
When the app's live watch says the database moved, it asks the service what changed
since the last change it saw — one index lookup, whatever the size of the database —
and reloads only the window when something did, updating only the cells that differ.
Waiting reports past their category's forward target are marked; past twice the
target, alarmed. Ages and marks are redrawn when the next of them changes (each second
for a report under a minute old, each minute or hour for older ones; older ages a little
late so that close changes share one repaint), not every second.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from siaga_tui.core.errors import SiagaError
from siaga_tui.core.i18n import translate
from siaga_tui.core.models import Kind, Status
from siaga_tui.core.timeutil import format_local
from siaga_tui.live import WATCH_RETRY
from siaga_tui.screens.base import ConsoleScreen
from siaga_tui.screens.localised import Key
from siaga_tui.services.queue import (
    PAGE_SIZE,
    LateCounts,
    QueueFilter,
    backlog_cutoff,
    backlog_line_moves_at,
)
from siaga_tui.services.views import QueuePage, ReportSummary
from siaga_tui.widgets.key_footer import KeyFooter
from siaga_tui.widgets.queue_table import QueueTable

#: The most rows a refresh reloads: the window stays small however far one pages.
MAX_WINDOW: Final = 1000
#: Fetch the next window when the cursor is this close to the last loaded row.
PAGE_AHEAD: Final = 10
#: The order ``s`` walks through the status filter.
STATUS_CYCLE: Final = (None, Status.MENUNGGU.value, Status.DITANGANI.value)
#: The tick lands this long after the moment a cell changes, never before it.
TICK_SLACK: Final = 0.01
#: However the clock behaves (a frozen test clock, a timer firing early), at most this
#: often; and at least this often, so a clock stepped by the system shows within a minute.
MIN_TICK: Final = 0.25
MAX_TICK: Final = 60.0
#: The longest the counts wait for the rows to be painted (a refresh is a few frames).
PAINT_WAIT: Final = 2.0


@dataclass(frozen=True)
class BacklogCount:
    """How many open reports were filed before ``cutoff`` (the backlog)."""

    cutoff: datetime
    open: int


@dataclass(frozen=True)
class Found:
    """What one look at the change feed found: the new window and the header's counts."""

    filters: QueueFilter
    seq: int
    page: QueuePage | None = None
    counts: tuple[LateCounts, BacklogCount] | None = None


class QueueScreen(ConsoleScreen[None]):
    """The open reports, most urgent first, live."""

    KEYS = (
        # Not in the footer: the table, focused from the start, answers Enter itself (its
        # own binding hides this one there); Help lists it. Shown, it was in the first
        # composition of the footer only, which then composed it again (B1).
        Key("enter", "open_report", "queue_key_open", show=False),
        Key("e", "filter_kind('darurat')", "queue_key_emergency"),
        Key("n", "filter_kind('non_darurat')", "queue_key_non_emergency"),
        Key("k", "filter_category", "queue_key_category"),
        Key("s", "filter_status", "queue_key_status"),
        Key("slash", "search", "queue_key_search"),
        Key("b", "toggle_backlog", "queue_key_backlog"),
        Key("escape", "clear_filters", "queue_key_clear"),
    )

    #: Focused as the screen appears, so the first paint already draws the table focused
    #: (focusing it in on_mount repainted every visible cell once more: B1).
    AUTO_FOCUS = "#queue-table"

    def __init__(self) -> None:
        super().__init__()
        self.filters = QueueFilter()  # today's work, once mounted (the line needs the clock)
        #: The header's counts over the whole database (None: not counted yet).
        self.late: LateCounts | None = None
        self.backlog: BacklogCount | None = None
        #: Alarmed reports the bell has rung for (once each).
        self._rung: set[int] = set()
        self._count_timer: Timer | None = None
        self.rows: list[ReportSummary] = []
        self.total = 0
        self.next_after: tuple[int, datetime, int] | None = None
        self.last_seq: int | None = None
        self._bar_text = ""
        self._tick_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield self.status_header()
        yield Static(id="queue-bar")
        yield Input(id="queue-search", placeholder=translate("queue_search_placeholder", self.lang))
        yield QueueTable(self.console.catalogue, self.lang, id="queue-table")
        yield KeyFooter()

    def on_mount(self) -> None:
        search = self.query_one("#queue-search", Input)
        search.cursor_blink = False
        search.display = False
        table = self.query_one(QueueTable)
        self.watch(table, "scroll_y", self._scrolled, init=False)
        self.filters = self.console.todays_work()
        self._show_bar()
        # (The first rows were once read before the console ran, for its first paint: at
        # 1 M reports that made no difference, 1.67 s of CPU to the first paint with it
        # and 1.61 s without, medians of 7 interleaved starts, benchmark B1.)
        self._load(self.filters, PAGE_SIZE)

    # --- Loading ----------------------------------------------------------------------
    # The rows go on screen before the count is taken: counting every open report of a
    # large database takes longer than the window itself (benchmarks, B1).

    @work(thread=True, exclusive=True, group="queue-load", exit_on_error=False)
    def _load(self, filters: QueueFilter, count: int) -> None:
        """The first ``count`` rows for ``filters`` and where the change feed stands; then
        how many open reports match in all."""
        try:
            seq, page = self.console.queue.first_window(filters, limit=count)
        except SiagaError as error:
            self.app.call_from_thread(self._load_failed, filters, count, error)
            return
        if get_current_worker().is_cancelled:
            return
        self.app.call_from_thread(self._show_window, filters, page, seq)
        # Counted once the rows are painted, not while they paint: at 1 M reports the
        # counts take 0.1 s of CPU that the first paint waited for on a busy machine (B1).
        painted = threading.Event()
        if self.app.call_from_thread(self.call_after_refresh, painted.set):
            painted.wait(PAINT_WAIT)
        if not get_current_worker().is_cancelled:
            self._count_open(filters, count)

    def _count_open(self, filters: QueueFilter, count: int) -> None:
        """In a worker: count, then show the total and the header's counts (or why the
        queue could not be read)."""
        try:
            total = self.console.queue.open_count(filters)
            counts = self._header_counts(filters, backlog_changed=False)
        except SiagaError as error:
            self.app.call_from_thread(self._load_failed, filters, count, error)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_total, filters, total)
            self.app.call_from_thread(self._show_counts, *counts)
            self.app.call_from_thread(self._start_following)

    def _start_following(self) -> None:
        """Once the first rows and counts are on screen: follow changes (nothing is missed
        meanwhile: the feed is read from the rows' sequence), start the phone, load the
        phone-number rules. One after another, after the first paint: run while it was
        painted, their threads and imports held it back (B1)."""
        if not self.following_changes:
            self.watch_changes()
            self.console.start_phone()
            self.console.phone_desk.warm_up()

    def _header_counts(
        self, filters: QueueFilter, *, backlog_changed: bool
    ) -> tuple[LateCounts, BacklogCount]:
        """In a worker: today's late reports, and the backlog (counted again only when it
        may have changed: its line moved, or a change touched an old report)."""
        queue, cutoff = self.console.queue, filters.cutoff
        assert cutoff is not None
        late = queue.late_counts(cutoff, self.console.clock())
        backlog = self.backlog
        if backlog is None or backlog.cutoff != cutoff or backlog_changed:
            backlog = BacklogCount(cutoff, queue.backlog_count(cutoff))
        return late, backlog

    @work(thread=True, exclusive=True, group="queue-count", exit_on_error=False)
    def _recount(self) -> None:
        """A level is due to change (a report passes its target): count again."""
        try:
            counts = self._header_counts(self.filters, backlog_changed=False)
        except SiagaError as error:
            self.app.call_from_thread(self.console.live_failed, error)
            return
        self.app.call_from_thread(self._show_counts, *counts)

    def _show_counts(self, late: LateCounts, backlog: BacklogCount) -> None:
        """Show the header's counts; ring once for each report newly alarmed."""
        if backlog.cutoff != self.filters.cutoff:
            return  # counted for yesterday's line: the reload for today's is on its way
        self.late, self.backlog = late, backlog
        fresh = late.alarmed_ids - self._rung
        if fresh and self.console.ring_bell:
            self.app.bell()
        self._rung |= late.alarmed_ids
        self._show_bar()
        self._plan_recount()

    def _plan_recount(self) -> None:
        """Count again when the next level changes, or reload when the backlog's line
        moves (midnight): nothing runs in between."""
        if self._count_timer is not None:
            self._count_timer.stop()
            self._count_timer = None
        now = self.console.clock()
        wake = backlog_line_moves_at(now)
        if self.late is not None and self.late.next_change is not None:
            wake = min(wake, self.late.next_change)
        wait = (wake - now).total_seconds() + TICK_SLACK
        self._count_timer = self.set_timer(
            min(max(wait, MIN_TICK), MAX_TICK), self._count_due, name="queue-count"
        )

    def _count_due(self) -> None:
        now = self.console.clock()
        if backlog_cutoff(now, self.console.backlog_days) != self.filters.cutoff:
            self._new_day()
        elif (
            self.late is not None
            and self.late.next_change is not None
            and now >= self.late.next_change
        ):
            self._recount()
        else:
            self._plan_recount()  # woke early (the longest wait is a minute): wait on

    def _new_day(self) -> None:
        """Midnight: the backlog's line moves on; the same view, with the new line."""
        self._set_filters(replace(self.filters, cutoff=self.console.todays_work().cutoff))

    def _load_failed(self, filters: QueueFilter, count: int, error: SiagaError) -> None:
        """Say why the queue is empty, and try again shortly (a locked file frees up)."""
        self.console.show_error(error)
        self.console.start_phone()  # the phone works while the queue cannot be read
        self.set_timer(
            WATCH_RETRY, lambda: self._load(filters, count) if filters == self.filters else None
        )

    def _show_window(self, filters: QueueFilter, page: QueuePage, seq: int) -> None:
        if filters != self.filters:
            return  # the operator changed the filter meanwhile; that load is on its way
        self.last_seq = seq
        self.rows = list(page.rows)
        self.total = page.total
        self.next_after = page.next_after
        self.query_one(QueueTable).show_rows(self.rows, self.console.clock())
        self._show_bar()
        self._plan_tick()

    def _show_total(self, filters: QueueFilter, total: int) -> None:
        if filters == self.filters:
            self.total = total
            self._show_bar()

    @on(DataTable.RowHighlighted, "#queue-table")
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        if self.next_after is not None and event.cursor_row >= len(self.rows) - PAGE_AHEAD:
            self._load_more(self.filters, self.next_after)

    def _scrolled(self, scroll_y: float) -> None:
        """Scrolling (the wheel, too) near the end fetches the next window."""
        table = self.query_one(QueueTable)
        if self.next_after is not None and table.max_scroll_y - scroll_y <= PAGE_AHEAD:
            self._load_more(self.filters, self.next_after)

    @work(thread=True, exclusive=True, group="queue-more", exit_on_error=False)
    def _load_more(self, filters: QueueFilter, after: tuple[int, datetime, int]) -> None:
        page = self.console.queue.open_reports(filters, after=after, with_total=False)
        self.app.call_from_thread(self._append, filters, after, page)

    def _append(
        self, filters: QueueFilter, after: tuple[int, datetime, int], page: QueuePage
    ) -> None:
        if filters != self.filters or after != self.next_after:
            return
        self.rows.extend(page.rows)
        self.next_after = page.next_after
        self.query_one(QueueTable).add_summaries(page.rows, self.console.clock())
        self._show_bar()
        self._plan_tick()

    # --- Live updates -------------------------------------------------------------------

    def look_for_changes(self) -> Found:
        """One look at the change feed; the window is reloaded and the header counted
        again only if something changed."""
        filters, seq = self.filters, self.last_seq or 0
        queue = self.console.queue
        changes = queue.changes_since(seq)
        if not changes.any:
            return Found(filters, changes.last_seq)
        count = min(max(len(self.rows), PAGE_SIZE), MAX_WINDOW)
        page = queue.open_reports(filters, limit=count)
        assert filters.cutoff is not None
        old = changes.overflow or queue.touches_backlog(changes.report_ids, filters.cutoff)
        return Found(
            filters, changes.last_seq, page, self._header_counts(filters, backlog_changed=old)
        )

    def changes_seen(self, found: Found) -> None:
        if found.page is None:
            self.last_seq = max(self.last_seq or 0, found.seq)
        elif found.filters == self.filters:
            self._show_window(found.filters, found.page, found.seq)
        if found.counts is not None and found.filters.cutoff == self.filters.cutoff:
            self._show_counts(*found.counts)

    # --- Ages and marks ------------------------------------------------------------------

    def _tick(self) -> None:
        """Ages move on; marks follow the targets; the bar only when a mark changed."""
        now = self.console.clock()
        if self.query_one(QueueTable).update_ages(self.rows, now):
            self._show_bar()
        self._plan_tick(now)

    def _plan_tick(self, now: datetime | None = None) -> None:
        """Arm the tick for when the next age or mark on screen changes (rows changed, or a tick)."""
        if self._tick_timer is not None:
            self._tick_timer.stop()
            self._tick_timer = None
        due = self.query_one(QueueTable).next_redraw()
        if due is None:
            return
        wait = (due - (now or self.console.clock())).total_seconds() + TICK_SLACK
        self._tick_timer = self.set_timer(
            min(max(wait, MIN_TICK), MAX_TICK), self._tick, name="queue-tick"
        )

    # --- The bar above the table --------------------------------------------------------

    def _show_bar(self) -> None:
        t, f = self.lang, self.filters
        self.show_title(self._title())
        # A total still being counted shows as "…".
        total = self.total if self.total >= 0 else "\u2026"
        line = format_local(f.cutoff, "%d-%m-%Y") if f.cutoff else ""
        if f.backlog and not f.search.strip():
            parts = [
                translate("queue_shown_backlog", t, shown=len(self.rows), total=total, date=line)
            ]
        else:
            parts = [translate("queue_shown", t, shown=len(self.rows), total=total)]
        described = self._describe_filters()
        if described:
            parts.append(translate("queue_filtered", t, filters=described))
        bar = self.query_one("#queue-bar", Static)
        text = " · ".join(parts)
        if text != self._bar_text:  # no relayout for nothing
            self._bar_text = text
            bar.update(Text(text))
        late = self.late
        alarmed = late is not None and late.alarmed > 0
        bar.set_class(late is not None and late.overdue > 0 and not alarmed, "-overdue")
        bar.set_class(alarmed, "-alarmed")

    def _title(self) -> str:
        """``Antrian · 2 alarm · 3 lewat target · tunggakan 170``: every open report in the
        database counts, whatever is loaded or filtered ("…" until counted)."""
        t = self.lang
        name = translate("queue_title_backlog" if self.filters.backlog else "queue_title", t)
        parts = [name]
        if self.late is None:
            parts.append("\u2026")
        else:
            if self.late.alarmed:
                parts.append(translate("queue_count_alarmed", t, count=self.late.alarmed))
            if self.late.overdue:
                parts.append(translate("queue_count_overdue", t, count=self.late.overdue))
        if self.backlog is not None and self.backlog.open and not self.filters.backlog:
            parts.append(translate("queue_count_backlog", t, count=self.backlog.open))
        return " · ".join(parts)

    def _describe_filters(self) -> str:
        t, f = self.lang, self.filters
        parts = []
        if f.kind:
            parts.append(translate(f"kind_{f.kind}", t))
        if f.category:
            parts.append(self.console.catalogue.category(f.category).label(t))
        if f.status:
            parts.append(translate(f"status_{f.status}", t))
        if f.search:
            parts.append(f"“{f.search}”")
        return ", ".join(parts)

    # --- Keys ---------------------------------------------------------------------------

    def _set_filters(self, filters: QueueFilter) -> None:
        if filters != self.filters:
            self.filters = filters
            self.rows, self.next_after = [], None
            self._show_bar()
            self._load(filters, PAGE_SIZE)

    def action_filter_kind(self, kind: str) -> None:
        self._set_filters(
            replace(self.filters, kind=None if self.filters.kind == kind else Kind(kind).value)
        )

    def action_filter_status(self) -> None:
        position = STATUS_CYCLE.index(self.filters.status)
        self._set_filters(
            replace(self.filters, status=STATUS_CYCLE[(position + 1) % len(STATUS_CYCLE)])
        )

    def action_filter_category(self) -> None:
        from siaga_tui.screens.category_filter import CategoryFilterDialog

        def chosen(code: str | None) -> None:
            if code is not None:
                self._set_filters(replace(self.filters, category=code or None))

        self.app.push_screen(CategoryFilterDialog(self.console.catalogue, self.lang), chosen)

    def action_search(self) -> None:
        search = self.query_one("#queue-search", Input)
        search.display = True
        search.focus()

    @on(Input.Submitted, "#queue-search")
    def _searched(self, event: Input.Submitted) -> None:
        self._set_filters(replace(self.filters, search=event.value.strip()))
        self.query_one(QueueTable).focus()
        if not event.value.strip():
            event.input.display = False

    def action_clear_filters(self) -> None:
        """Back to today's work, unfiltered (from the backlog, too)."""
        search = self.query_one("#queue-search", Input)
        search.value = ""
        search.display = False
        self.query_one(QueueTable).focus()
        self._set_filters(self.console.todays_work())

    def action_toggle_backlog(self) -> None:
        """The backlog (open reports older than the line) in place of today's work, and back."""
        self._set_filters(replace(self.filters, backlog=not self.filters.backlog))

    def action_open_report(self) -> None:
        table = self.query_one(QueueTable)
        if 0 <= table.cursor_row < len(self.rows) and table.row_count:
            self._open(self.rows[table.cursor_row].id)

    @on(DataTable.RowSelected, "#queue-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._open(int(str(event.row_key.value)))

    def _open(self, report_id: int) -> None:
        from siaga_tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(report_id))
