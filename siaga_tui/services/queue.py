"""The live queue of open reports: a window at a time, and what changed since.

The queue never loads every open report: an old database can hold hundreds of
thousands. It reads one window in queue order (emergencies waiting first, then oldest)
from the partial index on open reports, and pages on with a keyset (the sort key of
the last row seen), which costs the same on page 1 and page 1,000.

Other workstations' changes are found by following the event sequence: every change
appends one event, so "events with an id above the last one I saw" is exactly what to
refresh, whatever the size of the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa

from siaga_tui.core.catalogue import Catalogue, load_catalogue
from siaga_tui.core.db import Database, translate_storage_errors
from siaga_tui.core.errors import StorageError, ValidationError
from siaga_tui.core.lateness import Level, change_spans, late_after
from siaga_tui.core.models import CALL, EVENT, REFERRAL, REPORT, Kind, Status
from siaga_tui.core.phones import phone_search_key
from siaga_tui.core.text import clean_text
from siaga_tui.core.timeutil import as_utc, display_zone
from siaga_tui.services.rows import SUMMARY_COLUMNS, summaries, summaries_from
from siaga_tui.services.views import Changes, QueuePage, ReportSummary

PAGE_SIZE: Final = 100
#: How long the change signal waits for a busy SQLite file before it gives up a look.
SIGNAL_TIMEOUT_SECONDS: Final = 2.0
#: More changes than this since the last look: reload the window rather than list them.
MAX_CHANGES: Final = 500

#: "Open" written so SQLite can use the partial index on open reports: the status and
#: archived terms must be literals written as the index's WHERE writes them (a bound
#: parameter or ``archived = 0`` cannot be matched to it), and the
#: range on queue_rank, the index's first column, makes the planner prefer that index
#: over scanning every report when it has no statistics yet. Archived history (imported
#: reports) is never in the queue, nor in the index.
OPEN: Final = sa.and_(
    REPORT.c.status != sa.literal_column(f"'{Status.SELESAI.value}'"),
    sa.text("NOT report.archived"),
    REPORT.c.queue_rank >= sa.literal_column("0"),
)


@dataclass(frozen=True)
class QueueFilter:
    """What the operator narrowed the queue to; empty means every open report.

    With a ``cutoff`` the queue is split in two: today's work (reports filed from the
    cutoff on) and the ``backlog`` (open reports filed before it), never mixed. A search
    looks through both, and a search by phone number finds closed reports too (a caller
    calling back about yesterday).
    """

    kind: str | None = None
    category: str | None = None
    status: str | None = None
    search: str = ""
    backlog: bool = False
    cutoff: datetime | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.kind or self.category or self.status or self.search.strip())


@dataclass(frozen=True, slots=True)
class LateCounts:
    """How many of today's open reports are late, over the whole database.

    ``alarmed_ids``: the alarmed reports themselves (for the bell, once per report);
    ``next_change``: when a level next changes, to count again then (None: never).
    """

    overdue: int
    alarmed: int
    alarmed_ids: frozenset[int]
    next_change: datetime | None


#: Open reports filed more than this many days ago are the backlog (the console's key
#: ``b``), and ``siaga112 import`` archives rows older than it as history by default.
#: One setting for both: ``--backlog-days`` / ``SIAGA112_BACKLOG_DAYS``.
BACKLOG_DAYS: Final = 7
ENV_BACKLOG_DAYS: Final = "SIAGA112_BACKLOG_DAYS"


def backlog_cutoff(now: datetime, days: int) -> datetime:
    """Where the backlog starts: local midnight ``days`` days before today (UTC).

    A whole day, so the line moves once a day (at midnight), not under the operator's
    eyes, and the backlog's count stays valid until then.
    """
    local = as_utc(now).astimezone(display_zone())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days)
    return as_utc(midnight)


def backlog_line_moves_at(now: datetime) -> datetime:
    """When ``backlog_cutoff`` next changes, whatever its ``days``: the coming local
    midnight (UTC). Not the cutoff plus a day: that moment is ``days`` days gone."""
    return backlog_cutoff(now, days=-1)  # local midnight one day *after* today's


class ChangeSignal:
    """Has anything been committed since the last look? Asked every second, so it costs
    next to nothing; when the mark moves, ``changes_since`` tells what changed.

    On SQLite it is ``PRAGMA data_version`` on a connection of its own: a few
    microseconds, no query, and it moves with every commit made by any other connection,
    in this process or another (reports, events, calls alike). Elsewhere it is the
    newest event and call ids (two index lookups in one query). Use it from one thread;
    ``close`` when done.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: sqlite3.Connection | None = None

    def read(self) -> Hashable:
        """The current mark; raises StorageError when the database cannot be read."""
        path = self.db.path
        if path is None:
            newest = sa.select(
                sa.select(sa.func.coalesce(sa.func.max(EVENT.c.id), 0)).scalar_subquery(),
                sa.select(sa.func.coalesce(sa.func.max(CALL.c.id), 0)).scalar_subquery(),
            )
            with self.db.read() as conn:
                return tuple(conn.execute(newest).one())
        # The file deleted, replaced or its -wal removed under the console: dealt with
        # here within a second (Database.recover), and said once, in words.
        problem = self.db.recover()
        if problem is not None:
            self.close()
            raise StorageError(
                problem,
                path=str(path),
                rescued=str(self.db.rescued) if self.db.rescued else "-",
            )
        with translate_storage_errors():
            try:
                if self._conn is None:
                    # mode=rw: never create a file that is gone; autocommit: no transaction left open.
                    self._conn = sqlite3.connect(
                        f"{path.resolve().as_uri()}?mode=rw",
                        uri=True,
                        isolation_level=None,
                        timeout=SIGNAL_TIMEOUT_SECONDS,
                        check_same_thread=False,
                    )
                return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error as exc:
                self.close()  # a fresh connection on the next look
                raise sa.exc.OperationalError("PRAGMA data_version", None, exc) from exc

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()


class QueueService:
    def __init__(self, db: Database, *, catalogue: Catalogue | None = None) -> None:
        self.db = db
        self.catalogue = catalogue or load_catalogue()
        self._late_queries: _LateQueries | None = None

    def open_reports(
        self,
        filters: QueueFilter = QueueFilter(),
        *,
        limit: int = PAGE_SIZE,
        after: tuple[int, datetime, int] | None = None,
        with_total: bool = True,
    ) -> QueuePage:
        """One window of open reports in queue order, and how many match in all.

        (A search by phone number lists closed reports too, in the same order.)
        """
        conditions = self._conditions(filters)
        query = sa.select(*SUMMARY_COLUMNS, REPORT.c.queue_rank).where(*conditions)
        if after is not None:
            query = query.where(
                sa.tuple_(REPORT.c.queue_rank, REPORT.c.created_at, REPORT.c.id) > sa.tuple_(*after)
            )
        query = query.order_by(REPORT.c.queue_rank, REPORT.c.created_at, REPORT.c.id).limit(limit)
        with self.db.read() as conn:
            rows = conn.execute(query).mappings().all()
            page = summaries_from(conn, rows)
            total = (
                int(conn.execute(open_count_query(conditions)).scalar_one()) if with_total else -1
            )
        next_after = None
        if rows and len(rows) == limit:
            last = rows[-1]
            next_after = (last["queue_rank"], last["created_at"], last["id"])
        return QueuePage(rows=tuple(page), total=total, next_after=next_after)

    def first_window(
        self, filters: QueueFilter = QueueFilter(), *, limit: int = PAGE_SIZE
    ) -> tuple[int, QueuePage]:
        """Where the change feed stands, then the first ``limit`` rows (without their count).

        In that order: a change made between the two reads is seen again by the next
        look at the feed, never missed.
        """
        seq = self.last_change()
        return seq, self.open_reports(filters, limit=limit, with_total=False)

    def open_count(self, filters: QueueFilter = QueueFilter()) -> int:
        """How many open reports match ``filters`` (at 1 M reports: tens of ms)."""
        with self.db.read() as conn:
            return int(conn.execute(open_count_query(self._conditions(filters))).scalar_one())

    def last_change(self) -> int:
        """The current end of the change sequence (one index lookup)."""
        with self.db.read() as conn:
            return int(
                conn.execute(sa.select(sa.func.coalesce(sa.func.max(EVENT.c.id), 0))).scalar_one()
            )

    def change_signal(self) -> ChangeSignal:
        """A cheap mark that moves whenever anything is committed (for one poller thread)."""
        return ChangeSignal(self.db)

    def changes_since(self, seq: int) -> Changes:
        """Reports changed after ``seq``; cost depends on the changes, not the database.

        Ids become visible in order on both engines (on PostgreSQL thanks to the history
        lock ``events.append_event`` takes before inserting), so nothing committed late
        is ever skipped.
        """
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(EVENT.c.id, EVENT.c.report_id)
                .where(EVENT.c.id > seq)
                .order_by(EVENT.c.id)
                .limit(MAX_CHANGES + 1)
            ).all()
        if not rows:
            return Changes(last_seq=seq, report_ids=frozenset())
        overflow = len(rows) > MAX_CHANGES
        rows = rows[:MAX_CHANGES]
        return Changes(
            last_seq=int(rows[-1][0]),
            report_ids=frozenset(int(r[1]) for r in rows),
            overflow=overflow,
        )

    def search(
        self, text: str, *, include_closed: bool = True, limit: int = 50
    ) -> list[ReportSummary]:
        """Reports matching a number, a phone, a place or words of the text."""
        conditions = self._search_conditions(text)
        if not include_closed:
            conditions.append(OPEN)
        query = (
            sa.select(*SUMMARY_COLUMNS)
            .where(*conditions)
            .order_by(REPORT.c.created_at.desc())
            .limit(limit)
        )
        with self.db.read() as conn:
            return summaries(conn, query)

    # --- Filters --------------------------------------------------------------------

    def _conditions(self, filters: QueueFilter) -> list[Any]:
        searching = bool(filters.search.strip())
        # A phone number searched for: the caller may call back about a closed report.
        closed_too = searching and bool(phone_search_key(filters.search)) and not filters.status
        conditions: list[Any] = [sa.text("NOT report.archived")] if closed_too else [OPEN]
        if filters.cutoff is not None and not searching:
            conditions.extend(_age_split(filters.cutoff, backlog=filters.backlog))
        if filters.kind:
            kind = Kind(filters.kind)
            # queue_rank encodes the kind, so the partial index still serves the filter
            ranks = (0, 1) if kind == Kind.DARURAT else (2, 3)
            conditions.append(REPORT.c.queue_rank.in_(ranks))
        if filters.category:
            conditions.append(REPORT.c.category == filters.category)
        if filters.status:
            conditions.append(REPORT.c.status == Status(filters.status).value)
        if searching:
            conditions.extend(self._search_conditions(filters.search))
        return conditions

    def awaiting_acknowledgement(
        self, *, limit: int = 10, cutoff: datetime | None = None
    ) -> tuple[int, list[ReportSummary]]:
        """Open reports forwarded to an agency that has not acknowledged yet: how many, and
        the ``limit`` waiting longest (each with ``awaiting_ack_since``); with a backlog
        ``cutoff``, today's reports first, so years-old ones do not hide them."""
        waiting = (
            sa.select(REFERRAL.c.report_id, sa.func.min(REFERRAL.c.forwarded_at).label("since"))
            .join(REPORT, REPORT.c.id == REFERRAL.c.report_id)
            .where(REFERRAL.c.acknowledged_at.is_(None), OPEN)
            .group_by(REFERRAL.c.report_id)
            .subquery()
        )
        order: list[Any] = [waiting.c.since, waiting.c.report_id]
        if cutoff is not None:
            order.insert(0, sa.case((REPORT.c.created_at < cutoff, 1), else_=0))
        with self.db.read() as conn:
            total = int(conn.execute(sa.select(sa.func.count()).select_from(waiting)).scalar_one())
            ids = [
                int(report_id)
                for (report_id,) in conn.execute(
                    sa.select(waiting.c.report_id)
                    .join(REPORT, REPORT.c.id == waiting.c.report_id)
                    .order_by(*order)
                    .limit(limit)
                )
            ]
            found = {
                row.id: row
                for row in summaries(conn, sa.select(*SUMMARY_COLUMNS).where(REPORT.c.id.in_(ids)))
            }
        return total, [found[i] for i in ids if i in found]

    # --- The header's counts ----------------------------------------------------------

    def backlog_count(self, cutoff: datetime) -> int:
        """Open reports filed before ``cutoff`` (the backlog), however many there are.

        Counted on the open-queue index alone; the console counts it once and again only
        when the line moves (midnight) or a change touches an old report
        (``touches_backlog``), not at every change.
        """
        with self.db.read() as conn:
            return int(
                conn.execute(
                    open_count_query([OPEN, *_age_split(cutoff, backlog=True)])
                ).scalar_one()
            )

    def touches_backlog(self, report_ids: frozenset[int], cutoff: datetime) -> bool:
        """Were any of these reports filed before ``cutoff``? (Primary-key lookups.)"""
        if not report_ids:
            return False
        query = (
            sa.select(REPORT.c.id)
            .where(REPORT.c.id.in_(sorted(report_ids)), REPORT.c.created_at < cutoff)
            .limit(1)
        )
        with self.db.read() as conn:
            return conn.execute(query).first() is not None

    def late_counts(self, cutoff: datetime, now: datetime) -> LateCounts:
        """How many open reports filed since ``cutoff`` are overdue and alarmed, now.

        Every such report counts, whatever the console has loaded or filtered: the cost
        follows today's open reports, not the size of the database (benchmarks, B2).
        Counted in SQL, one row per category and status (``_late_queries``); only the
        alarmed reports' ids are read (the bell rings once for each).
        """
        late = self._late_queries or _LateQueries(self.catalogue)
        self._late_queries = late
        params = late.params(cutoff, now)
        with self.db.read() as conn:
            groups = conn.execute(late.counts, params).all()
            alarmed_ids = frozenset(int(i) for i in conn.execute(late.alarmed, params).scalars())
        overdue = alarmed = 0
        next_change: datetime | None = None
        for code, status, at_overdue, at_alarmed, *firsts in groups:
            spans = late.changes.get((code, status))
            if spans is None:  # a category since removed from the catalogue: no target
                continue
            # At least overdue, and of those alarmed (a longer span: always a subset).
            overdue += int(at_overdue or 0) - int(at_alarmed or 0)
            alarmed += int(at_alarmed or 0)
            for first, span in zip(firsts, spans, strict=False):
                if first is not None:
                    moment = as_utc(first) + span
                    next_change = moment if next_change is None else min(next_change, moment)
        return LateCounts(overdue, alarmed, alarmed_ids, next_change)

    def _search_conditions(self, text: str) -> list[Any]:
        needle = clean_text(text)[:200]
        if not needle:
            return []
        options: list[Any] = []
        # Imported here: the filing code is not needed to show the queue (start-up, B1).
        from siaga_tui.services.reports import normalise_report_number

        number = normalise_report_number(needle)
        if number.startswith("112-"):
            options.append(REPORT.c.number == number)
        elif needle[:1].isdigit() or needle.startswith("+"):
            options.append(REPORT.c.number.like(f"%{_escape_like(needle)}%", escape="\\"))
        key = phone_search_key(needle)
        if key:
            prefix = key if key.startswith("+") else "+" + key
            options.append(REPORT.c.caller_phone.like(f"{_escape_like(prefix)}%", escape="\\"))
        codes = self._kelurahan_codes(needle)
        if codes:
            options.append(REPORT.c.kelurahan_code.in_(codes))
        pattern = f"%{_escape_like(needle)}%"
        options.append(REPORT.c.description.ilike(pattern, escape="\\"))
        options.append(REPORT.c.address.ilike(pattern, escape="\\"))
        return [sa.or_(*options)]

    def _kelurahan_codes(self, text: str) -> list[str]:
        try:
            return [self.catalogue.resolve_kelurahan(text).code]
        except ValidationError:
            return (
                [k.code for k in self.catalogue.complete_kelurahan(text, limit=5)]
                if len(text) >= 3
                else []
            )


class _LateQueries:
    """The header's late counts as SQL, built once per catalogue (the rule stays in
    ``core.lateness``: ``late_after`` and ``change_spans`` give, for each category and
    status, how long after being recorded a report reaches each level, and when it next
    changes). Per row, a CASE on its category and status picks the moment ``now`` less
    that span, bound at each count: recorded before it, the report is at that level;
    the earliest recorded at or after it says when the next change falls."""

    LEVELS: Final = (Level.OVERDUE, Level.ALARMED)

    def __init__(self, catalogue: Catalogue) -> None:
        pairs = [
            (category, status)
            for category in catalogue.categories
            for status in (Status.MENUNGGU.value, Status.DITANGANI.value)
        ]
        self.late = {(c.code, s): late_after(c, s) for c, s in pairs}
        self.changes = {(c.code, s): change_spans(c, s) for c, s in pairs}
        self._spans: dict[str, timedelta] = {}
        created = REPORT.c.created_at

        def moment(slot: str, spans: dict[tuple[str, str], timedelta | None]) -> Any:
            by_status: dict[str, dict[str, Any]] = {}
            for number, pair in enumerate(self.late):
                span = spans[pair]
                if span is None:
                    continue
                name = f"{slot}_{number}"
                self._spans[name] = span
                by_status.setdefault(pair[1], {})[pair[0]] = sa.bindparam(name, type_=created.type)
            whens = [
                (
                    REPORT.c.status == status,
                    sa.case(codes, value=REPORT.c.category, else_=sa.null()),
                )
                for status, codes in by_status.items()
            ]
            return sa.case(*whens, else_=sa.null()) if whens else sa.null()

        at_least = {
            level: moment(
                f"level{int(level)}", {pair: late.get(level) for pair, late in self.late.items()}
            )
            for level in self.LEVELS
        }
        slots = max((len(spans) for spans in self.changes.values()), default=0)
        after = [
            moment(
                f"change{i}",
                {
                    pair: spans[i] if i < len(spans) else None
                    for pair, spans in self.changes.items()
                },
            )
            for i in range(slots)
        ]
        open_today = [
            OPEN,
            REPORT.c.queue_rank.in_(OPEN_RANKS),
            created >= sa.bindparam("cutoff", type_=created.type),
        ]
        self.counts = (
            sa.select(
                REPORT.c.category,
                REPORT.c.status,
                *(sa.func.sum(sa.case((created < at_least[lv], 1), else_=0)) for lv in self.LEVELS),
                *(sa.func.min(sa.case((created >= m, created), else_=sa.null())) for m in after),
            )
            .where(*open_today)
            .group_by(REPORT.c.category, REPORT.c.status)
        )
        self.alarmed = sa.select(REPORT.c.id).where(*open_today, created < at_least[Level.ALARMED])

    def params(self, cutoff: datetime, now: datetime) -> dict[str, datetime]:
        return {"cutoff": cutoff} | {name: now - span for name, span in self._spans.items()}


#: Every queue_rank of an open report, listed: with the ranks named, the open-queue index
#: (queue_rank, created_at, id) serves a range of created_at within each rank, in order.
OPEN_RANKS: Final = (0, 1, 2, 3)


def _age_split(cutoff: datetime, *, backlog: bool) -> list[Any]:
    """Today's work (filed from ``cutoff`` on) or the backlog (filed before it)."""
    age = REPORT.c.created_at < cutoff if backlog else REPORT.c.created_at >= cutoff
    return [REPORT.c.queue_rank.in_(OPEN_RANKS), age]


def open_count_query(conditions: list[Any]) -> sa.Select[Any]:
    return sa.select(sa.func.count()).select_from(REPORT).where(*conditions)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
