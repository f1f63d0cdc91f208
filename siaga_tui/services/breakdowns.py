"""Figures broken down by month, week, day, hour, shift, place, agency or operator.

``compute_breakdown(db, period, by=("month",))`` answers what a supervisor asks on a
Monday: which month, kecamatan, agency or shift leaves reports waiting. Every group
carries the same figures, counted by the rules of ``services.stats`` (its docstring
is the reference; this module reuses its definitions and helpers):

- reports of the period by ``created_at``, duplicates left out, kinds and statuses as
  shares of the group, the done aim (``stats.DoneAim``), the open share (not selesai);
- the handling intervals (``stats.INTERVALS``) as medians and 90th percentiles over the
  reports that have both moments (exact: every report's whole seconds, never sampled),
  with how many reports each covers; a moment the data does not have is unknown and
  left out, never counted as zero;
- **targets**: the share forwarded within the category's ``forward_target`` and
  finished within its ``finish_target`` (``data/categories.toml``, counted from the
  moment the report was recorded, as the queue and the handover count them). A report
  is *due* for a target once it met it or its time ran out: a report still inside its
  target is not counted yet, and one closed or forwarded at an unknown moment is not
  counted at all (unknown, not late);
- calls (by disposition) for the dimensions a call has: time, shift and operator
  (who answered it); place, agency and category have none.

Dimensions: ``month``, ``week`` (ISO weeks), ``day``, ``weekday`` (1 Monday … 7),
``hour`` (0–23), ``shift`` (pagi 07–14, siang 14–21, malam 21–07, WITA), ``kecamatan``,
``kelurahan``, ``agency`` (a report counts once for each agency it was forwarded to;
reports forwarded to none form their own group; the agency's own forwarded and
acknowledged moments drive its intervals), ``operator`` (who recorded the report and
who answered the call), ``kind``, ``category``. Several may be combined.

Local times are WITA: the database groups by the local month, day or hour
(``strftime`` with the zone's offset on SQLite, ``AT TIME ZONE`` on PostgreSQL) and
Python folds days into ISO weeks and hours into shifts. Counts come from one
``GROUP BY``; nothing is read row by row. Nothing here imports the console.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.catalogue import KINDS, NOT_NAMED_AGENCY, Catalogue, load_catalogue
from siaga_tui.core.db import Database
from siaga_tui.core.errors import NotFound, ValidationError
from siaga_tui.core.models import (
    CALL,
    INTERVALS,
    REFERRAL,
    REPORT,
    STORED_INTERVALS,
    SecondsBetween,
    Status,
    UTCDateTime,
)
from siaga_tui.core.period import SHIFT_START_HOURS, local_midnight
from siaga_tui.core.timeutil import DISPLAY_ZONE_NAME, Clock, as_utc, display_zone, system_clock
from siaga_tui.services.stats import (
    DISPOSITIONS,
    STATUSES,
    DoneAim,
    Period,
    Share,
    joined_seconds,
    percent,
    percentile_of_sorted,
    seconds_of,
)


class Dimension(StrEnum):
    MONTH = "month"
    WEEK = "week"
    DAY = "day"
    WEEKDAY = "weekday"
    HOUR = "hour"
    SHIFT = "shift"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"
    AGENCY = "agency"
    OPERATOR = "operator"
    KIND = "kind"
    CATEGORY = "category"


DIMENSIONS: Final = tuple(d.value for d in Dimension)
#: Dimensions read from the moment a report was recorded (or a call answered).
TIME_DIMENSIONS: Final = frozenset(
    {
        Dimension.MONTH,
        Dimension.WEEK,
        Dimension.DAY,
        Dimension.WEEKDAY,
        Dimension.HOUR,
        Dimension.SHIFT,
    }
)
#: Dimensions a call has too (its answer moment, the operator who took it).
CALL_DIMENSIONS: Final = TIME_DIMENSIONS | {Dimension.OPERATOR}
#: The shifts by name, in the order of the day (start hours: ``period.SHIFT_START_HOURS``).
SHIFTS: Final = ("pagi", "siang", "malam")
#: The key of the group of reports forwarded to no agency.
NOT_FORWARDED: Final = ""
#: Targets, by name: (category field, moment the target is met at).
TARGETS: Final = {"forward": "first_forwarded_at", "finish": "closed_at"}
#: The moments that, with agencies, are the agency's own (``_ReportSource.moment``).
AGENCY_MOMENTS: Final = frozenset({"first_forwarded_at", "first_acknowledged_at"})


def shift_of_hour(hour: int) -> str:
    """The shift a local hour belongs to: 7–13 pagi, 14–20 siang, 21–6 malam."""
    morning, afternoon, night = SHIFT_START_HOURS
    if morning <= hour < afternoon:
        return SHIFTS[0]
    if afternoon <= hour < night:
        return SHIFTS[1]
    return SHIFTS[2]


# --- Results ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """One interval over one group's reports that have both moments, in seconds."""

    name: str
    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True, slots=True)
class Group:
    """The figures of one group; ``key`` holds one value per dimension, in order."""

    key: tuple[str, ...]
    total: int
    kinds: Mapping[str, int]
    statuses: Mapping[str, int]
    acknowledged: int
    timings: tuple[Timing, ...]
    #: Per target name: (met within the target, due).
    targets: Mapping[str, tuple[int, int]]
    #: Calls by disposition; None when the dimensions are not a call's.
    calls: Mapping[str, int] | None = None
    #: ``--by month``: the same month of the previous year, when that year has data.
    previous: int | None = None

    def kind(self, kind: str) -> Share:
        return Share(self.kinds.get(kind, 0), self.total)

    def status(self, status: str) -> Share:
        return Share(self.statuses.get(status, 0), self.total)

    @property
    def aim(self) -> DoneAim:
        return DoneAim(self.status(Status.SELESAI.value))

    @property
    def open(self) -> Share:
        """Reports not yet done (waiting or being handled)."""
        return Share(self.total - self.statuses.get(Status.SELESAI.value, 0), self.total)

    def target(self, name: str) -> Share:
        met, due = self.targets.get(name, (0, 0))
        return Share(met, due)

    def timing(self, name: str) -> Timing:
        return next(t for t in self.timings if t.name == name)

    @property
    def calls_total(self) -> int | None:
        return None if self.calls is None else sum(self.calls.values())

    @property
    def change(self) -> float | None:
        """Change against the same month a year before (0.25: a quarter more)."""
        if self.previous is None or self.previous == 0:
            return None
        return (self.total - self.previous) / self.previous


@dataclass(frozen=True)
class Breakdown:
    """Every group of a period by the chosen dimensions; plain values, thread-safe."""

    period: Period
    by: tuple[str, ...]
    generated_at: datetime
    groups: tuple[Group, ...]
    #: Labels for the keys, per dimension: {key: (label_id, label_en)}.
    labels: Mapping[str, Mapping[str, tuple[str, str]]] = field(default_factory=dict)
    #: True when the previous year was looked at (``--by month`` alone).
    with_trend: bool = False

    @property
    def has_calls(self) -> bool:
        return all(Dimension(d) in CALL_DIMENSIONS for d in self.by)

    @property
    def total(self) -> int:
        """Reports of the period (each once, also when ``agency`` counts some twice)."""
        if Dimension.AGENCY in self.by:
            raise ValueError("agency groups overlap; use stats for the period's total")
        return sum(g.total for g in self.groups)

    def label(self, dimension: str, key: str, lang: str | None = None) -> str:
        found = self.labels.get(dimension, {}).get(key)
        if found is None:
            return key
        return found[1] if (lang or "").startswith("en") else found[0]

    def group(self, *key: str) -> Group:
        for group in self.groups:
            if group.key == key:
                return group
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures; the field names are a stable interface (``ROW_FIELDS``)."""
        from siaga_tui.services.stats import _iso

        return {
            "period": {
                "label": self.period.describe(),
                "start": _iso(self.period.start),
                "end": _iso(self.period.end),
            },
            "generated_at": _iso(self.generated_at),
            "by": list(self.by),
            "groups": breakdown_rows(self),
        }


# --- Flat rows (CSV, JSON, workbook) ---------------------------------------------------


def row_fields(breakdown: Breakdown) -> list[str]:
    """The columns of ``breakdown_rows``: the keys and their labels, then the figures."""
    fields: list[str] = []
    for dimension in breakdown.by:
        fields += [dimension, f"{dimension}_label"]
    fields += ["reports"]
    if breakdown.with_trend:
        fields += ["previous_year", "change_percent"]
    for kind in KINDS:
        fields += [kind, f"{kind}_percent"]
    for status in STATUSES:
        fields += [status, f"{status}_percent"]
    fields += ["open_percent", "done_percent", "done_fraction", "aim_met", "acknowledged"]
    for name in TARGETS:
        fields += [f"{name}_target_met", f"{name}_target_due", f"{name}_target_percent"]
    for name in INTERVALS:
        fields += [f"{name}_n", f"{name}_median_seconds", f"{name}_p90_seconds"]
    if breakdown.has_calls:
        fields += ["calls_total", *(f"calls_{d}" for d in DISPOSITIONS)]
    return fields


def breakdown_rows(breakdown: Breakdown, lang: str = "id") -> list[dict[str, Any]]:
    """One flat dict per group with ``row_fields`` (None: unknown or not applicable)."""
    rows = []
    for group in breakdown.groups:
        row: dict[str, Any] = {}
        for dimension, key in zip(breakdown.by, group.key, strict=True):
            row[dimension] = key
            row[f"{dimension}_label"] = breakdown.label(dimension, key, lang)
        row["reports"] = group.total
        if breakdown.with_trend:
            row["previous_year"] = group.previous
            change = group.change
            row["change_percent"] = None if change is None else round(change * 100, 1)
        for kind in KINDS:
            row[kind] = group.kinds.get(kind, 0)
            row[f"{kind}_percent"] = group.kind(kind).percent
        for status in STATUSES:
            row[status] = group.statuses.get(status, 0)
            row[f"{status}_percent"] = group.status(status).percent
        row["open_percent"] = group.open.percent
        row["done_percent"] = group.aim.done.percent
        row["done_fraction"] = group.aim.done.fraction
        row["aim_met"] = group.aim.met
        row["acknowledged"] = group.acknowledged
        for name in TARGETS:
            share = group.target(name)
            row[f"{name}_target_met"] = share.count
            row[f"{name}_target_due"] = share.total
            row[f"{name}_target_percent"] = share.percent
        for timing in group.timings:
            row[f"{timing.name}_n"] = timing.count
            row[f"{timing.name}_median_seconds"] = timing.median
            row[f"{timing.name}_p90_seconds"] = timing.p90
        if breakdown.has_calls:
            calls = group.calls or {}
            row["calls_total"] = group.calls_total or 0
            for disposition in DISPOSITIONS:
                row[f"calls_{disposition}"] = calls.get(disposition, 0)
        rows.append(row)
    return rows


# --- Grouping expressions ----------------------------------------------------------------


def parse_dimensions(values: Iterable[str]) -> tuple[str, ...]:
    """``--by`` values in order, each once; an unknown one names the field."""
    chosen: list[str] = []
    for value in values:
        name = value.strip().lower()
        if name not in DIMENSIONS:
            raise ValidationError(
                "--by", "breakdown_unknown_dimension", value=value, allowed=", ".join(DIMENSIONS)
            )
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise ValidationError("--by", "breakdown_no_dimension", allowed=", ".join(DIMENSIONS))
    return tuple(chosen)


#: What the database groups on for each time dimension, then how Python folds it.
_SQL_UNIT: Final = {
    Dimension.MONTH: "month",
    Dimension.WEEK: "day",
    Dimension.DAY: "day",
    Dimension.WEEKDAY: "weekday",
    Dimension.HOUR: "hour",
    Dimension.SHIFT: "hour",
}
_SQLITE_FORMATS: Final = {"month": "%Y-%m", "day": "%Y-%m-%d", "hour": "%H", "weekday": "%w"}
_PG_FORMATS: Final = {"month": "YYYY-MM", "day": "YYYY-MM-DD", "hour": "HH24", "weekday": "ID"}


def _local_unit(
    conn: Connection, column: sa.ColumnElement[Any], unit: str, offset_minutes: int
) -> sa.ColumnElement[Any]:
    """The local (WITA) month, day, hour or weekday of ``column`` as text."""
    if conn.dialect.name == "sqlite":
        return sa.func.strftime(_SQLITE_FORMATS[unit], column, f"{offset_minutes:+d} minutes")
    local = sa.func.timezone(DISPLAY_ZONE_NAME, column)
    return sa.func.to_char(local, _PG_FORMATS[unit])


def _fold(dimension: Dimension, value: Any) -> str:
    """The group key for what the database returned (days to weeks, hours to shifts)."""
    text = "" if value is None else str(value)
    if dimension == Dimension.WEEK:
        year, week, _ = date.fromisoformat(text).isocalendar()
        return f"{year}-W{week:02d}"
    if dimension == Dimension.HOUR:
        return f"{int(text):02d}"
    if dimension == Dimension.SHIFT:
        return shift_of_hour(int(text))
    if dimension == Dimension.WEEKDAY:
        number = int(text)
        return str(7 if number == 0 else number)  # SQLite: 0 Sunday; ISO: 7
    return text


def _zone_offset_minutes(period: Period, clock: Clock) -> int:
    """The display zone's offset, which must hold over the whole period (WITA has no DST)."""
    zone = display_zone()
    moments = [m for m in (period.start, period.end) if m is not None] or [as_utc(clock())]
    offsets = {zone.utcoffset(m.astimezone(zone).replace(tzinfo=None)) for m in moments}
    if len(offsets) != 1:
        raise ValueError("the display zone changes its offset inside the period")
    offset = offsets.pop()
    assert offset is not None
    return int(offset.total_seconds() // 60)


# --- Computing ---------------------------------------------------------------------------


@dataclass
class _Acc:
    kinds: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    acknowledged: int = 0
    targets: dict[str, list[int]] = field(default_factory=lambda: {n: [0, 0] for n in TARGETS})
    seconds: dict[str, list[int]] = field(default_factory=lambda: {n: [] for n in INTERVALS})
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def compute_breakdown(
    db: Database,
    period: Period,
    by: Sequence[str],
    *,
    catalogue: Catalogue | None = None,
    clock: Clock = system_clock,
    trend: bool = True,
) -> Breakdown:
    """Every group of ``period`` by ``by`` (see the module docstring), in one read snapshot.

    With ``by == ("month",)`` and ``trend``, each month also carries the same month of
    the previous year when that year has reports.
    """
    catalogue = catalogue or load_catalogue()
    dims = tuple(Dimension(d) for d in by)
    now = as_utc(clock())
    offset = _zone_offset_minutes(period, clock)
    with db.read() as conn:
        groups = _groups(conn, period, dims, catalogue, now, offset)
        with_trend = False
        if trend and dims == (Dimension.MONTH,) and period.start is not None:
            trended = _with_previous_year(conn, period, groups, offset)
            with_trend = trended is not None
            groups = trended or groups
    return Breakdown(
        period=period,
        by=tuple(d.value for d in dims),
        generated_at=clock(),
        groups=tuple(groups),
        labels=_labels(dims, [g.key for g in groups], catalogue),
        with_trend=with_trend,
    )


def _groups(
    conn: Connection,
    period: Period,
    dims: tuple[Dimension, ...],
    catalogue: Catalogue,
    now: datetime,
    offset: int,
) -> list[Group]:
    accs: dict[tuple[str, ...], _Acc] = {}
    source = _ReportSource(conn, period, dims, offset)

    # One pass over the period's rows, grouped in the database by the group's key alone,
    # each figure an aggregate beside it: the known kinds and statuses counted, the
    # acknowledged and target flags summed, and per interval the seconds joined into
    # one text. A year at 1 M (105,000 reports) comes back as one row per month.
    # Grouping by every counted value as well (kind, status, acknowledged, each target
    # flag) sorted each report on eight keys: 219 ms against 153 ms of SQL for that
    # year (B10); counting 105,000 rows in Python, before that, cost more than the scan.
    target_terms = [
        term
        for name, moment in TARGETS.items()
        for term in _target_terms(source, catalogue, name, moment, now)
    ]
    seconds = [source.seconds_between(start, end) for start, end in INTERVALS.values()]
    acknowledged = sa.case((source.acknowledged_at.is_not(None), 1), else_=0)
    values = [REPORT.c.kind, REPORT.c.status, acknowledged, *target_terms, *seconds]
    per_report = (
        sa.select(
            *(key.label(f"k{i}") for i, key in enumerate(source.keys)),
            *(value.label(f"v{i}") for i, value in enumerate(values)),
        )
        .select_from(source.from_)
        .where(*source.where)
        .subquery("per_report")
    )
    by = [per_report.c[f"k{i}"] for i in range(len(source.keys))]
    kind, status, acked, *rest = (per_report.c[f"v{i}"] for i in range(len(values)))
    flags, interval_seconds = rest[: len(target_terms)], rest[len(target_terms) :]
    query = sa.select(
        *by,
        sa.func.count(),
        *(sa.func.count().filter(kind == k) for k in KINDS),
        *(sa.func.count().filter(status == s) for s in STATUSES),
        sa.func.sum(acked),
        *(sa.func.sum(flag) for flag in flags),
        *(joined_seconds(conn, value) for value in interval_seconds),
    ).group_by(*by)
    width = len(source.keys)
    unlisted = False  # a kind or status the program does not know (imported)
    for row in conn.execute(query):
        acc = accs.setdefault(source.fold(tuple(row[:width])), _Acc())
        head = [int(v) for v in row[width : width + 1 + len(KINDS) + len(STATUSES)]]
        total, kinds, statuses = head[0], head[1 : 1 + len(KINDS)], head[1 + len(KINDS) :]
        _add_counts(acc.kinds, zip(KINDS, kinds, strict=True))
        _add_counts(acc.statuses, zip(STATUSES, statuses, strict=True))
        unlisted = unlisted or sum(kinds) != total or sum(statuses) != total
        sums = [int(v) for v in row[width + len(head) : -len(INTERVALS)]]
        acc.acknowledged += sums[0]
        for index, name in enumerate(TARGETS):
            acc.targets[name][0] += sums[1 + 2 * index]
            acc.targets[name][1] += sums[2 + 2 * index]
        for name, text in zip(INTERVALS, row[-len(INTERVALS) :], strict=True):
            acc.seconds[name].extend(seconds_of(text))
    if unlisted:
        _count_every_kind_and_status(conn, by, kind, status, source, accs)

    # 3. Calls, for the dimensions a call has.
    if all(d in CALL_DIMENSIONS for d in dims):
        for raw, disposition, n in _call_counts(conn, period, dims, offset):
            acc = accs.setdefault(source.fold(raw), _Acc())
            acc.calls[disposition] = acc.calls.get(disposition, 0) + n

    with_calls = all(d in CALL_DIMENSIONS for d in dims)
    if len(dims) == 1:
        for key in _every_key(dims[0], period):
            accs.setdefault((key,), _Acc())  # a month without reports is a 0, not a gap
    return [
        Group(
            key=key,
            total=acc.total,
            kinds=dict(acc.kinds),
            statuses=dict(acc.statuses),
            acknowledged=acc.acknowledged,
            timings=tuple(_timing(name, acc.seconds[name]) for name in INTERVALS),
            targets={name: (met, due) for name, (met, due) in acc.targets.items()},
            calls=dict(acc.calls) if with_calls else None,
        )
        for key, acc in sorted(accs.items(), key=lambda item: _sort_key(dims, item[0], catalogue))
    ]


def _add_counts(counts: dict[str, int], found: Iterable[tuple[str, int]]) -> None:
    for value, n in found:
        if n:
            counts[value] = counts.get(value, 0) + n


def _count_every_kind_and_status(
    conn: Connection,
    by: Sequence[sa.ColumnElement[Any]],
    kind: sa.ColumnElement[Any],
    status: sa.ColumnElement[Any],
    source: _ReportSource,
    accs: dict[tuple[str, ...], _Acc],
) -> None:
    """Where a group holds a kind or status the program does not know (imported), its
    kinds and statuses are counted again by name, so none is lost."""
    for acc in accs.values():
        acc.kinds.clear()
        acc.statuses.clear()
    query = sa.select(*by, kind, status, sa.func.count()).group_by(*by, kind, status)
    for *key, kind_name, status_name, n in conn.execute(query):
        acc = accs[source.fold(tuple(key))]
        _add_counts(acc.kinds, [(str(kind_name), int(n))])
        _add_counts(acc.statuses, [(str(status_name), int(n))])


def _call_counts(
    conn: Connection, period: Period, dims: tuple[Dimension, ...], offset: int
) -> list[tuple[tuple[Any, ...], str, int]]:
    """The period's calls as (group key, disposition, how many), none of them 0.

    Grouped by the key alone, each known disposition counted beside the total: sorting
    by key and disposition cost a third more (a year of calls at 1 M: 0.28 s against
    0.18 s of CPU, B10). Where a group holds a disposition the program does not know
    (imported), its calls are counted again by disposition, by name.
    """
    keys = [_call_key(conn, d, offset) for d in dims]
    width = len(keys)
    counts = [
        sa.func.count(),
        *(sa.func.count().filter(CALL.c.disposition == d) for d in DISPOSITIONS),
    ]
    months = _months_of(period) if dims == (Dimension.MONTH,) else None
    known: sa.Select[Any] | sa.CompoundSelect
    if months:
        # Each month counted over its own range of ix_call_answered, the months joined
        # by UNION ALL: no local month worked out per call and no sort to group them.
        # A year of calls at 1 M: 21 ms of SQL against 89 ms grouped by month (B10).
        known = sa.union_all(
            *(
                sa.select(sa.literal(key, sa.String).label("k0"), *counts).where(
                    *month.condition(CALL.c.answered_at)
                )
                for key, month in months
            )
        )
    else:
        known = (
            sa.select(*keys, *counts).where(*period.condition(CALL.c.answered_at)).group_by(*keys)
        )
    rows = conn.execute(known).all()
    if all(int(row[width]) == sum(int(n) for n in row[width + 1 :]) for row in rows):
        return [
            (tuple(row[:width]), disposition, int(n))
            for row in rows
            for disposition, n in zip(DISPOSITIONS, row[width + 1 :], strict=True)
            if n
        ]
    by_name = (
        sa.select(*keys, CALL.c.disposition, sa.func.count())
        .where(*period.condition(CALL.c.answered_at))
        .group_by(*keys, CALL.c.disposition)
    )
    return [
        (tuple(row[:width]), str(row[width]), int(row[width + 1])) for row in conn.execute(by_name)
    ]


#: Up to this many months a breakdown by month counts its calls month by month (see
#: ``_call_counts``); SQLite joins at most 500 SELECTs in one statement.
MONTH_RANGES_LIMIT: Final = 120


def _months_of(period: Period) -> list[tuple[str, Period]] | None:
    """Each local (WITA) month of a bounded period, as its key and the part of the
    period inside it; None when the period is unbounded or holds too many months."""
    if period.start is None or period.end is None or period.first_day is None:
        return None
    assert period.last_day is not None
    months: list[tuple[str, Period]] = []
    first = period.first_day.replace(day=1)
    while first <= period.last_day:
        following = (first + timedelta(days=32)).replace(day=1)
        start = max(period.start, local_midnight(first))
        end = min(period.end, local_midnight(following))
        months.append((first.strftime("%Y-%m"), Period(start, end)))
        first = following
    return months if len(months) <= MONTH_RANGES_LIMIT else None


def _every_key(dimension: Dimension, period: Period) -> list[str]:
    """Every group a time dimension has in the period (none for places and the like)."""
    if dimension == Dimension.HOUR:
        return [f"{h:02d}" for h in range(24)]
    if dimension == Dimension.WEEKDAY:
        return [str(d) for d in range(1, 8)]
    if dimension == Dimension.SHIFT:
        return list(SHIFTS)
    if dimension not in (Dimension.MONTH, Dimension.WEEK, Dimension.DAY):
        return []
    if period.first_day is None or period.last_day is None:
        return []
    days = (period.last_day - period.first_day).days + 1
    if days > 3660:
        return []
    keys = dict.fromkeys(
        _fold(Dimension.WEEK, d.isoformat())
        if dimension == Dimension.WEEK
        else d.strftime("%Y-%m")
        if dimension == Dimension.MONTH
        else d.isoformat()
        for d in (period.first_day + timedelta(days=i) for i in range(days))
    )
    return list(keys)


class _ReportSource:
    """The rows a breakdown reads: reports of the period, with their agencies if asked."""

    def __init__(
        self, conn: Connection, period: Period, dims: tuple[Dimension, ...], offset: int
    ) -> None:
        self.dims = dims
        self.from_: Any = REPORT
        self.where: list[sa.ColumnElement[bool]] = [
            REPORT.c.duplicate_of.is_(None),
            *period.condition(REPORT.c.created_at),
        ]
        self.acknowledged_at: sa.ColumnElement[Any] = REPORT.c.first_acknowledged_at
        self.forwarded_at: sa.ColumnElement[Any] = REPORT.c.first_forwarded_at
        self.referrals: Any = None
        if Dimension.AGENCY in dims:
            # Each report once per agency, with that agency's first forward and answer.
            referrals = (
                sa.select(
                    REFERRAL.c.report_id,
                    REFERRAL.c.agency,
                    sa.func.min(REFERRAL.c.forwarded_at).label("forwarded_at"),
                    sa.func.min(REFERRAL.c.acknowledged_at).label("acknowledged_at"),
                )
                .group_by(REFERRAL.c.report_id, REFERRAL.c.agency)
                .subquery("agency_referral")
            )
            self.referrals = referrals
            self.from_ = REPORT.outerjoin(referrals, referrals.c.report_id == REPORT.c.id)
            self.acknowledged_at = referrals.c.acknowledged_at
            self.forwarded_at = referrals.c.forwarded_at
        self.keys = [self._key(conn, d, offset) for d in dims]

    def _key(self, conn: Connection, dimension: Dimension, offset: int) -> sa.ColumnElement[Any]:
        if dimension in TIME_DIMENSIONS:
            return _local_unit(conn, REPORT.c.created_at, _SQL_UNIT[dimension], offset)
        if dimension == Dimension.AGENCY:
            return sa.func.coalesce(self.referrals.c.agency, NOT_FORWARDED)
        column = {
            Dimension.KECAMATAN: REPORT.c.kecamatan_code,
            Dimension.KELURAHAN: REPORT.c.kelurahan_code,
            Dimension.OPERATOR: REPORT.c.operator,
            Dimension.KIND: REPORT.c.kind,
            Dimension.CATEGORY: REPORT.c.category,
        }[dimension]
        return column

    def moment(self, name: str) -> sa.ColumnElement[Any]:
        """A lifecycle moment; with agencies, the agency's own forward and answer."""
        if name == "first_forwarded_at":
            return self.forwarded_at
        if name == "first_acknowledged_at":
            return self.acknowledged_at
        return REPORT.c[name]

    def seconds_between(self, start: str, end: str) -> sa.ColumnElement[Any]:
        """Whole seconds from one moment of the report to another: the report's stored
        column where it keeps that interval, else worked out from the moments (with
        agencies, the agency's own forward and answer)."""
        stored = STORED_INTERVALS.get((start, end))
        if stored is not None and (self.referrals is None or not {start, end} & AGENCY_MOMENTS):
            return REPORT.c[stored]
        return SecondsBetween(self.moment(start), self.moment(end))

    def fold(self, values: Sequence[Any]) -> tuple[str, ...]:
        return tuple(_fold(d, v) for d, v in zip(self.dims, values, strict=True))


def _call_key(conn: Connection, dimension: Dimension, offset: int) -> sa.ColumnElement[Any]:
    if dimension == Dimension.OPERATOR:
        return CALL.c.operator
    return _local_unit(conn, CALL.c.answered_at, _SQL_UNIT[dimension], offset)


def _target_terms(
    source: _ReportSource,
    catalogue: Catalogue,
    name: str,
    moment_name: str,
    now: datetime,
) -> list[sa.ColumnElement[Any]]:
    """Per row: 1 when the report met the target; 1 when it is due (met, or time ran out)."""
    limits = {
        c.code: int((c.forward_target if name == "forward" else c.finish_target).total_seconds())
        for c in catalogue.categories
    }
    # ``CASE category WHEN …`` reads the category once per row, not once per category,
    # and ``category IN (…)`` says whether it has a target: 203 ms against 219 ms of SQL
    # for a year at 1 M (B10).
    limit = sa.case(limits, value=REPORT.c.category, else_=None)
    has_target = REPORT.c.category.in_(list(limits))
    moment = source.moment(moment_name)
    took = source.seconds_between("created_at", moment_name)
    # Its time ran out: recorded before ``now - target`` (compared as stored, no date maths).
    cutoff = sa.case(
        {
            code: sa.literal(now - timedelta(seconds=seconds), UTCDateTime())
            for code, seconds in limits.items()
        },
        value=REPORT.c.category,
        else_=None,
    )
    ran_out = sa.func.coalesce(REPORT.c.created_at < cutoff, sa.false())
    # A report not there yet is late only if it is still open for that step: one that
    # reached the step without a recorded moment (imported history) is unknown.
    not_reached = (
        REPORT.c.status == Status.MENUNGGU.value
        if name == "forward"
        else REPORT.c.status != Status.SELESAI.value
    )
    if Dimension.AGENCY in source.dims and name == "forward":
        not_reached = sa.false()  # forwarded to this agency by definition (or to none)
    met = sa.case((sa.and_(moment.is_not(None), took <= limit), 1), else_=0)
    due = sa.case(
        (sa.and_(has_target, moment.is_not(None)), 1),
        (sa.and_(moment.is_(None), not_reached, ran_out), 1),
        else_=0,
    )
    return [met, due]


def _timing(name: str, seconds: list[int]) -> Timing:
    seconds.sort()
    return Timing(
        name, len(seconds), percentile_of_sorted(seconds, 0.5), percentile_of_sorted(seconds, 0.9)
    )


def _sort_key(
    dims: tuple[Dimension, ...], key: tuple[str, ...], catalogue: Catalogue
) -> tuple[Any, ...]:
    """Time in order, shifts in the day's order, places and categories as the catalogue."""
    order: list[Any] = []
    for dimension, value in zip(dims, key, strict=True):
        if dimension == Dimension.SHIFT:
            order.append((SHIFTS.index(value) if value in SHIFTS else 9, value))
        elif dimension == Dimension.KIND:
            order.append((KINDS.index(value) if value in KINDS else 9, value))
        elif dimension == Dimension.CATEGORY:
            codes = [c.code for c in catalogue.categories]
            order.append((codes.index(value) if value in codes else len(codes), value))
        elif dimension == Dimension.AGENCY:
            order.append((value == NOT_FORWARDED, value))
        else:
            order.append((0, value))
    return tuple(order)


def _with_previous_year(
    conn: Connection, period: Period, groups: list[Group], offset: int
) -> list[Group] | None:
    """Each month with the report count of the same month a year before; None when the
    year before has no reports at all."""
    assert period.start is not None
    previous_start = _a_year_before(period.start)
    previous_end = _a_year_before(period.end) if period.end is not None else period.start
    previous = Period(previous_start, previous_end)
    counts = _month_counts(conn, previous, offset)
    if not counts:
        return None
    shifted: list[Group] = []
    for group in groups:
        year, month = group.key[0].split("-")
        before = counts.get(f"{int(year) - 1:04d}-{month}", 0)
        shifted.append(_replace_previous(group, before))
    return shifted


def _month_counts(conn: Connection, period: Period, offset: int) -> dict[str, int]:
    month = _local_unit(conn, REPORT.c.created_at, "month", offset)
    query = (
        sa.select(month, sa.func.count())
        .where(REPORT.c.duplicate_of.is_(None), *period.condition(REPORT.c.created_at))
        .group_by(month)
    )
    return {str(m): int(n) for m, n in conn.execute(query)}


def _a_year_before(moment: datetime) -> datetime:
    local = moment.astimezone(display_zone())
    try:
        return local.replace(year=local.year - 1).astimezone(moment.tzinfo)
    except ValueError:  # 29 February
        return (local - timedelta(days=365)).astimezone(moment.tzinfo)


def _replace_previous(group: Group, previous: int) -> Group:
    from dataclasses import replace

    return replace(group, previous=previous)


# --- Labels ------------------------------------------------------------------------------


def _labels(
    dims: tuple[Dimension, ...], keys: list[tuple[str, ...]], catalogue: Catalogue
) -> dict[str, dict[str, tuple[str, str]]]:
    """Readable names of every key: places, agencies, categories, kinds, shifts, days."""
    from siaga_tui.core.i18n import translate

    labels: dict[str, dict[str, tuple[str, str]]] = {}
    for index, dimension in enumerate(dims):
        found: dict[str, tuple[str, str]] = {}
        for value in {k[index] for k in keys}:
            label = _label(dimension, value, catalogue, translate)
            if label is not None:
                found[value] = label
        labels[dimension.value] = found
    return labels


def _label(
    dimension: Dimension, value: str, catalogue: Catalogue, translate: Callable[..., str]
) -> tuple[str, str] | None:
    def both(key: str, **params: Any) -> tuple[str, str]:
        return translate(key, "id", **params), translate(key, "en", **params)

    try:
        if dimension == Dimension.KECAMATAN:
            name = catalogue.kecamatan_by_code(value).name
            return name, name
        if dimension == Dimension.KELURAHAN:
            name = catalogue.kelurahan_by_code(value).display
            return name, name
        if dimension == Dimension.AGENCY:
            if value == NOT_FORWARDED:
                return both("breakdown_not_forwarded")
            if value == NOT_NAMED_AGENCY:
                return both("stats_agency_not_named")
            agency = catalogue.agency(value)
            return agency.short_name, agency.short_name
        if dimension == Dimension.CATEGORY:
            category = catalogue.category(value)
            return category.label_id, category.label_en
    except NotFound:
        return None
    if dimension == Dimension.KIND:
        return both(f"stats_kind_{value}")
    if dimension == Dimension.SHIFT:
        return both(f"breakdown_shift_{value}")
    if dimension == Dimension.WEEKDAY:
        return both(f"breakdown_weekday_{value}")
    if dimension == Dimension.MONTH:
        year, month = value.split("-")
        return both(f"breakdown_month_{int(month)}", year=year)
    return None


def share_text(share: Share) -> str:
    """``74 %`` or ``–`` (nothing to share)."""
    value = share.percent
    return "\u2013" if value is None else f"{value} %"


__all__ = [
    "CALL_DIMENSIONS",
    "DIMENSIONS",
    "NOT_FORWARDED",
    "SHIFTS",
    "TARGETS",
    "Breakdown",
    "Dimension",
    "Group",
    "Timing",
    "breakdown_rows",
    "compute_breakdown",
    "parse_dimensions",
    "percent",
    "row_fields",
    "shift_of_hour",
]
