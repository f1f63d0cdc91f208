"""The queue's table: one row per open report, caller text always shown as plain text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from typing import ClassVar, Final

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from siaga_tui.core.catalogue import Catalogue
from siaga_tui.core.errors import NotFound
from siaga_tui.core.i18n import translate
from siaga_tui.core.lateness import MARKS, Level, lateness, next_level_change
from siaga_tui.core.text import safe_cell
from siaga_tui.core.timeutil import age_changes_in, age_step, format_age
from siaga_tui.services.views import ReportSummary
from siaga_tui.textual_private import column_width_changed

#: The description's narrowest width; wider terminals give it the rest of the line.
DESCRIPTION_WIDTH: Final = 24
#: (column key, message key of its heading, width). The caller's number is not here: it
#: is on the report's detail screen and in the caller history of the entry form; in
#: the queue it took the room of the agencies at 120 columns, put personal data on a
#: screen others can see, and loading the phone-number rules for it delayed the
#: console's first paint by about 0.07 s (benchmarks, B1). Search by number still works.
COLUMNS: Final = (
    ("mark", "queue_col_mark", 2),
    ("number", "queue_col_number", 15),
    ("age", "queue_col_age", 8),  # up to "9999d23h": an old demo queue shows whole ages
    ("category", "queue_col_category", 18),
    ("status", "queue_col_status", 11),
    ("place", "queue_col_place", 24),
    ("agencies", "queue_col_agencies", 14),
    ("operator", "queue_col_operator", 12),
    ("description", "queue_col_description", DESCRIPTION_WIDTH),
)
#: The longest category and place names shown whole; longer ones end in "…".
CATEGORY_CUT: Final = 30
PLACE_CUT: Final = 40
_INDEX: Final = {key: index for index, (key, _, _) in enumerate(COLUMNS)}
_MARK: Final = _INDEX["mark"]
_AGE: Final = _INDEX["age"]
_STATUS: Final = _INDEX["status"]
#: Changing any cell repaints the whole table (tens of milliseconds), so ages whose text
#: changes close together are drawn in one go: an age may be drawn up to this share of
#: its step late (a count of minutes 10 s, of hours 10 minutes). Ages in seconds and
#: late marks are drawn on time.
AGE_GRACE_SHARE: Final = 1 / 6


def timer_level(row: ReportSummary, catalogue: Catalogue, now: datetime) -> Level:
    """How late the report is (``core.lateness``: the same rule as the header and handover)."""
    try:
        category = catalogue.category(row.category)
    except NotFound:
        return Level.ON_TIME
    return lateness(category, row.status, row.created_at, now).level


def timer_changes_at(
    row: ReportSummary, catalogue: Catalogue, now: datetime
) -> tuple[datetime, datetime]:
    """When the row's age text or late mark next changes, and by when that must be drawn.

    A late mark changes just after its moment (the level compares with ``>``).
    """
    waited = now - row.created_at
    due = now + age_changes_in(waited)
    step = age_step(waited)
    by = due + timedelta(seconds=step * AGE_GRACE_SHARE) if step > 1 else due
    try:
        category = catalogue.category(row.category)
    except NotFound:
        return due, by
    moments = [next_level_change(category, row.status, row.created_at, now)]
    if row.awaiting_ack_since is not None:  # the wait for the agency has its own age and target
        waiting = now - row.awaiting_ack_since
        ack_due = now + age_changes_in(waiting)
        ack_step = age_step(waiting)
        ack_by = (
            ack_due + timedelta(seconds=ack_step * AGE_GRACE_SHARE) if ack_step > 1 else ack_due
        )
        due, by = min(due, ack_due), min(by, ack_by)
        late_at = row.awaiting_ack_since + category.forward_target
        moments.append(late_at if late_at >= now else None)
    for marked in moments:
        if marked is not None:
            due, by = min(due, marked), min(by, marked)
    return due, by


def short_span(span: timedelta) -> str:
    """A target in one unit: ``3m``, ``4h``, ``2d``."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 60 or minutes % 60:
        return f"{minutes}m"
    hours = minutes // 60
    return f"{hours}h" if hours < 24 or hours % 24 else f"{hours // 24}d"


class QueueTable(DataTable[Text]):
    """Rows keyed by report id; refreshes change only the cells that differ."""

    DEFAULT_CSS = """
    QueueTable { height: 1fr; }
    """
    #: Home/End go to the first/last loaded report (rows, not columns).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", show=False),
        Binding("end", "scroll_bottom", show=False),
    ]

    def __init__(self, catalogue: Catalogue, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.catalogue = catalogue
        self.lang = lang
        self._order: list[int] = []
        self._cells: dict[int, tuple[Text, ...]] = {}
        #: When each row's age or mark next changes, and by when it must be drawn; a tick
        #: redraws the rows whose change is due.
        self._due: dict[int, tuple[datetime, datetime]] = {}
        #: The time the timer cells were last worked out for (a clock set back redraws all).
        self._shown_at: datetime | None = None

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(Text(translate(label, self.lang)), key=key, width=width)

    def on_resize(self) -> None:
        """Wider terminals give the room left first to the category and the place, up to
        their longest names (never cut at 200 columns), then the rest to the description."""
        if ColumnKey("description") not in self.columns:
            return
        pad = 2 * self.cell_padding
        widths = {key: width for key, _, width in COLUMNS}
        room = self.scrollable_content_region.width - sum(width + pad for width in widths.values())
        for key, longest in (("category", self._longest_category), ("place", self._longest_place)):
            grow = max(0, min(room, longest - widths[key]))
            widths[key] += grow
            room -= grow
        widths["description"] += max(0, room)
        changed = False
        for key, width in widths.items():
            column = self.columns[ColumnKey(key)]
            if column.width != width:
                column.width = width
                changed = True
        if changed:
            column_width_changed(self)

    @cached_property
    def _longest_category(self) -> int:
        """The widest category cell: the mark and the longest name."""
        return 2 + max(
            cell_len(safe_cell(c.label(self.lang), width=CATEGORY_CUT))
            for c in self.catalogue.categories
        )

    @cached_property
    def _longest_place(self) -> int:
        return max(
            cell_len(safe_cell(k.display, width=PLACE_CUT)) for k in self.catalogue.kelurahan
        )

    # --- Rows -------------------------------------------------------------------------

    def show_rows(self, rows: Sequence[ReportSummary], now: datetime) -> None:
        """Show exactly ``rows``; same rows in the same order only have changed cells redrawn."""
        order = [row.id for row in rows]
        if order != self._order:
            selected = (
                self._order[self.cursor_row] if 0 <= self.cursor_row < len(self._order) else None
            )
            self.clear()
            self._order, self._cells, self._due = [], {}, {}
            self.add_summaries(rows, now)
            if selected in order:
                self.move_cursor(row=order.index(selected), animate=False)
            return
        for row in rows:
            self._update(row, now)

    def add_summaries(self, rows: Iterable[ReportSummary], now: datetime) -> None:
        for row in rows:
            cells = self._row_cells(row, now)
            self._cells[row.id] = cells
            self._order.append(row.id)
            self.add_row(*cells, key=str(row.id))
            self._timed(row, now)

    def update_ages(self, rows: Iterable[ReportSummary], now: datetime) -> bool:
        """Tick: redraw the ages and marks due to change; True when a late mark changed.

        Nothing is drawn before the first row's deadline (``next_redraw``); then every row
        whose change is due is drawn in the same repaint.

        Only those two cells of the rows due are worked out: building whole rows every
        second (phone formatting, sanitising every text) was most of an idle console's CPU.
        """
        set_back = self._shown_at is not None and now < self._shown_at
        draw_by = self.next_redraw()
        if not set_back and (draw_by is None or draw_by > now):
            return False  # an early tick: what is due may still wait to be drawn with more
        marked = False
        for row in rows:
            old = self._cells.get(row.id)
            if old is None or (not set_back and row.id in self._due and self._due[row.id][0] > now):
                continue
            mark, age = self._timer_cells(row, now)
            marked = marked or mark.plain != old[_MARK].plain
            self._replace(
                row.id, old, {_MARK: mark, _AGE: age, _STATUS: self._status_cell(row, now)}
            )
            self._timed(row, now)
        return marked

    def next_redraw(self) -> datetime | None:
        """When the next tick must come to draw the ages and marks on time (None: no rows)."""
        return min((by for _, by in self._due.values()), default=None)

    def _timed(self, row: ReportSummary, now: datetime) -> None:
        self._due[row.id] = timer_changes_at(row, self.catalogue, now)
        self._shown_at = now

    def _update(self, row: ReportSummary, now: datetime) -> None:
        old = self._cells.get(row.id)
        if old is not None:
            self._replace(row.id, old, dict(enumerate(self._row_cells(row, now))))
            self._timed(row, now)

    def _replace(self, report_id: int, old: tuple[Text, ...], new: dict[int, Text]) -> None:
        """Put the cells of ``new`` (by column index) that differ from ``old`` on screen."""
        cells = list(old)
        for index, cell in new.items():
            if not _same(cell, old[index]):
                self.update_cell(str(report_id), COLUMNS[index][0], cell)
                cells[index] = cell
        self._cells[report_id] = tuple(cells)

    def _timer_cells(self, row: ReportSummary, now: datetime) -> tuple[Text, Text]:
        """The late mark and the age, styled by how late the report is."""
        theme = self.app.current_theme
        level = timer_level(row, self.catalogue, now)
        late_style = {
            Level.ON_TIME: "",
            Level.OVERDUE: f"bold {theme.warning}",
            Level.ALARMED: f"bold reverse {theme.error}",
        }[level]
        mark = Text(MARKS[level], style=late_style)
        return mark, Text(format_age(now - row.created_at), style=late_style)

    def _status_cell(self, row: ReportSummary, now: datetime) -> Text:
        """The status; for a report the agency has not acknowledged yet, how long since it
        was forwarded against the category's target (``↗ 12m/3m``, bold past it)."""
        since = row.awaiting_ack_since
        if since is None:
            return Text(translate(f"status_{row.status}", self.lang))
        try:
            target = self.catalogue.category(row.category).forward_target
        except NotFound:
            return Text(translate(f"status_{row.status}", self.lang))
        waited = now - since
        style = f"bold {self.app.current_theme.warning}" if waited > target else ""
        return Text(f"↗ {format_age(waited)}/{short_span(target)}", style=style)

    def _row_cells(self, row: ReportSummary, now: datetime) -> tuple[Text, ...]:
        t = self.lang
        theme = self.app.current_theme
        mark, age = self._timer_cells(row, now)
        category = self.catalogue.category(row.category)
        label = Text()
        if category.is_emergency:
            label.append("● ", style=f"bold {theme.error}")
        else:
            label.append("  ")
        label.append(safe_cell(category.label(t), width=CATEGORY_CUT))
        try:
            place = self.catalogue.kelurahan_by_code(row.kelurahan_code).display
        except NotFound:  # a kelurahan since removed from the catalogue: show its code
            place = row.kelurahan_code
        agencies = ", ".join(self.catalogue.agency(code).short_name for code in row.agencies)
        return (
            mark,
            Text(row.number),
            age,
            label,
            self._status_cell(row, now),
            Text(safe_cell(place, width=PLACE_CUT)),
            Text(safe_cell(agencies, width=40)),
            Text(safe_cell(row.operator, width=24)),
            Text(safe_cell(row.description, width=200)),
        )


def _same(a: Text, b: Text) -> bool:
    return a.plain == b.plain and str(a.style) == str(b.style) and a.spans == b.spans
