"""The center's figures for a period, laid out like the city's own annual report.

``compute_statistics(db, period)`` answers what the head of Diskominfo reads out each
January: how many reports, how many emergencies, which categories, how many done
against the 60 % aim, which agencies, how fast, and how many calls were no report.

How the figures are counted (the rules a supervisor may ask about):

- A report belongs to a period by the moment it was recorded (``created_at``); the
  period is half-open, ``[start, end)``, built from local WITA dates.
- **Duplicates count once**: a report closed as a duplicate of another
  (``duplicate_of`` set) is left out of every report figure; its original is counted.
  How many were left out is given as ``Statistics.duplicates``.
- **Shares are whole percents, rounded half up** (50.5 % → 51 %), each of its own
  total, exactly as the city prints them: 842 of 1,132 is 74 %, 290 is 26 %. The shares
  of a breakdown are *not* adjusted to add up to 100: the city does not adjust them
  either, so a breakdown may add up to 99 or 101.
- The 60 % aim is met when *more than* 60 % of the period's reports are ``selesai``
  (the city's words: "di atas angka 60 persen"), compared exactly, before rounding.
  The share is shown with one decimal (more if needed) whenever the whole percent
  would read as the line itself: 59.6 %, 60.0 %, 60.4 %, so figure and verdict agree.
- Unknown is not zero: a moment the source did not give (imported history has only
  the moment a report was recorded) is NULL; its intervals are left out of medians, and
  every interval figure says how many reports it covers (``count``). Calls cover what
  was recorded: ``reports_without_calls`` says how many reports of the period have no
  call on record.
- Intervals are in seconds: answer→saved (``created_at - call_answered_at``),
  saved→forwarded (``first_forwarded_at - created_at``), forwarded→acknowledged
  (``first_acknowledged_at - first_forwarded_at``) and forwarded→done
  (``closed_at - first_forwarded_at``). Each is taken over the reports that have both
  moments, per kind and for all kinds, in whole seconds (the difference rounded). Medians
  and 90th percentiles interpolate linearly between the two nearest ranks (the
  method of numpy's default and of spreadsheets' ``PERCENTILE.INC``).
- Calls are counted by the moment they were answered, by disposition; a report may
  have several calls (another caller about the same fire).

The database does the counting: report counts are ``GROUP BY`` queries that read only
the covering indexes ``ix_report_created_stats`` (a period) or
``ix_report_category_status`` (all time). The intervals are the report's stored
columns (``answer_to_saved_s`` …, which the database works out from the moments), read
in one pass over the period's reports (or a systematic sample of a large period,
``EXACT_INTERVALS_LIMIT``); Python sorts each interval's seconds and
reads the medians and 90th percentiles by rank. Nothing here imports the console.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from itertools import chain
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.catalogue import KINDS, NOT_NAMED_AGENCY, Catalogue, load_catalogue
from siaga_tui.core.db import Database
from siaga_tui.core.errors import NotFound
from siaga_tui.core.models import (
    CALL,
    INTERVALS,
    REFERRAL,
    REPORT,
    Disposition,
    Kind,
    Status,
    interval_column_name,
)
from siaga_tui.core.period import Period
from siaga_tui.core.timeutil import Clock, as_utc, system_clock, to_local
from siaga_tui.services.queue import OPEN
from siaga_tui.services.rows import SUMMARY_COLUMNS, summaries
from siaga_tui.services.views import ReportSummary

#: The city's aim: more than this share of reports done (selesai).
DONE_AIM_PERCENT: Final = 60
#: How many of the oldest waiting reports the statistics list.
OLDEST_WAITING: Final = 5
STATUSES: Final = (Status.SELESAI.value, Status.DITANGANI.value, Status.MENUNGGU.value)
DISPOSITIONS: Final = tuple(d.value for d in Disposition)
#: Up to this many reports in a period the interval medians and percentiles are exact;
#: above it they come from a systematic sample of about ``INTERVAL_SAMPLE`` reports
#: (every k-th report id), so a ten-year database answers in a blink instead of sorting
#: millions of intervals four times. The figures say when they are sampled.
EXACT_INTERVALS_LIMIT: Final = 50_000
INTERVAL_SAMPLE: Final = 20_000
#: The statements are built once per period and kept (SQLAlchemy then finds each
#: compiled in its cache): building them anew cost 3–5 ms a call, a tenth of the
#: statistics at 10 k reports (B5). A board asks for a handful of periods.
STATEMENTS_KEPT: Final = 64


class Part(StrEnum):
    """The optional parts of the statistics (the report counts are always computed)."""

    AGENCIES = "agencies"
    INTERVALS = "intervals"
    CALLS = "calls"
    WAITING = "waiting"


ALL_PARTS: Final = frozenset(Part)


def percent(count: int, total: int) -> int | None:
    """``count`` of ``total`` as a whole percent, rounded half up (the city's rule).

    Exact integer arithmetic: 1 of 8 (12.5 %) is 13, 1 of 200 (0.5 %) is 1; None when
    there is nothing to share.
    """
    if total <= 0:
        return None
    return (200 * count + total) // (2 * total)


@dataclass(frozen=True, slots=True)
class Share:
    """A count, the total it is a share of, and the share as the city prints it."""

    count: int
    total: int

    @property
    def percent(self) -> int | None:
        return percent(self.count, self.total)

    @property
    def fraction(self) -> float | None:
        """The exact share (0–1), for machines; None when the total is 0."""
        return self.count / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class CategoryFigure:
    """One category: its count and its share within its kind."""

    code: str
    kind: str
    label_id: str
    label_en: str
    share: Share

    @property
    def count(self) -> int:
        return self.share.count

    def label(self, lang: str | None = None) -> str:
        return self.label_en if (lang or "").startswith("en") else self.label_id


@dataclass(frozen=True, slots=True)
class KindFigure:
    """Emergency or non-emergency: share of all reports, and its categories, highest first."""

    kind: str
    share: Share
    categories: tuple[CategoryFigure, ...]

    @property
    def count(self) -> int:
        return self.share.count


@dataclass(frozen=True, slots=True)
class StatusFigure:
    status: str
    share: Share

    @property
    def count(self) -> int:
        return self.share.count


@dataclass(frozen=True, slots=True)
class DoneAim:
    """Reports done against the city's aim (``DONE_AIM_PERCENT``)."""

    done: Share
    aim_percent: int = DONE_AIM_PERCENT

    @property
    def met(self) -> bool:
        """Above the aim, compared exactly (not after rounding); False with no reports."""
        return self.done.total > 0 and self.done.count * 100 > self.aim_percent * self.done.total

    def shown(self, lang: str | None = None) -> str:
        """The done share as it should be read beside the verdict: ``74 %``, but
        ``59,6 %`` / ``60,0 %`` / ``60,4 %`` (Indonesian decimal comma) near the line."""
        text = aim_percent_text(self.done.count, self.done.total, self.aim_percent)
        if text is None:
            return "–"
        return (text.replace(".", ",") if (lang or "id").startswith("id") else text) + " %"


def aim_percent_text(count: int, total: int, aim: int = DONE_AIM_PERCENT) -> str | None:
    """``count`` of ``total`` in percent: whole (rounded half up), unless that would read
    as ``aim`` itself; then with as many decimals as it takes (at least one) for the
    figure to be the aim only when it is exactly the aim. Exact integer arithmetic."""
    if total <= 0:
        return None
    whole = percent(count, total)
    if whole != aim:
        return str(whole)
    exact = count * 100 == aim * total
    for decimals in range(1, 7):
        scale = 10**decimals
        rounded = (2 * count * 100 * scale + total) // (2 * total)  # half up
        if exact or rounded != aim * scale:
            integer, fraction = divmod(rounded, scale)
            return f"{integer}.{fraction:0{decimals}d}"
    return f"{aim}.{'0' * 6}"


@dataclass(frozen=True, slots=True)
class AgencyFigure:
    """Reports of the period forwarded to one agency; each report counts once per agency."""

    code: str
    name: str
    short_name: str
    forwarded: int
    acknowledged: int
    done: int


@dataclass(frozen=True, slots=True)
class IntervalFigure:
    """One interval for one kind (``kind`` None: all kinds), in seconds."""

    name: str
    kind: str | None
    count: int  # how many intervals the figures were computed from
    median: float | None
    p90: float | None
    sampled: bool = False  # True: from a systematic sample of the period's reports


@dataclass(frozen=True, slots=True)
class CallFigure:
    disposition: str
    count: int


@dataclass(frozen=True, slots=True)
class Statistics:
    """Every figure of one period; plain values, safe to hand to another thread.

    ``kinds`` holds emergency then non-emergency; ``statuses`` selesai, ditangani,
    menunggu; ``intervals`` every interval name for darurat, non_darurat and None (all
    kinds); ``calls`` every disposition, laporan first.
    """

    period: Period
    generated_at: datetime
    total: int
    duplicates: int
    kinds: tuple[KindFigure, ...]
    statuses: tuple[StatusFigure, ...]
    aim: DoneAim
    agencies: tuple[AgencyFigure, ...]
    intervals: tuple[IntervalFigure, ...]
    calls: tuple[CallFigure, ...]
    oldest_waiting: tuple[ReportSummary, ...] = field(default=())
    #: Reports of the period with no call on record (imported history): the calls
    #: table covers only the calls that were recorded.
    reports_without_calls: int = 0
    #: The parts computed (``Part`` values); the others are empty.
    parts: frozenset[str] = ALL_PARTS

    def kind(self, kind: str) -> KindFigure:
        return next(k for k in self.kinds if k.kind == kind)

    def category(self, code: str) -> CategoryFigure:
        return next(c for k in self.kinds for c in k.categories if c.code == code)

    def status(self, status: str) -> StatusFigure:
        return next(s for s in self.statuses if s.status == status)

    def interval(self, name: str, kind: str | None = None) -> IntervalFigure:
        return next(i for i in self.intervals if i.name == name and i.kind == kind)

    def call_count(self, disposition: str) -> int:
        return next((c.count for c in self.calls if c.disposition == disposition), 0)

    @property
    def calls_total(self) -> int:
        return sum(c.count for c in self.calls)

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready data; the field names are a stable interface."""
        return {
            "period": {
                "label": self.period.describe(),
                "start": _iso(self.period.start),
                "end": _iso(self.period.end),
            },
            "generated_at": _iso(self.generated_at),
            "reports": self.total,
            "duplicates_excluded": self.duplicates,
            "kinds": [
                {
                    "kind": k.kind,
                    **_share_dict(k.share),
                    "categories": [
                        {
                            "code": c.code,
                            "label_id": c.label_id,
                            "label_en": c.label_en,
                            **_share_dict(c.share),
                        }
                        for c in k.categories
                    ],
                }
                for k in self.kinds
            ],
            "statuses": [{"status": s.status, **_share_dict(s.share)} for s in self.statuses],
            "done_aim": {
                "aim_percent": self.aim.aim_percent,
                "done_percent": self.aim.done.percent,
                "done_fraction": self.aim.done.fraction,
                "met": self.aim.met,
            },
            "agencies": [
                {
                    "code": a.code,
                    "name": a.name,
                    "forwarded": a.forwarded,
                    "acknowledged": a.acknowledged,
                    "done": a.done,
                }
                for a in self.agencies
            ],
            "intervals": [
                {
                    "interval": i.name,
                    "kind": i.kind or "all",
                    "count": i.count,
                    "median_seconds": i.median,
                    "p90_seconds": i.p90,
                    "sampled": i.sampled,
                }
                for i in self.intervals
            ],
            "calls": {c.disposition: c.count for c in self.calls},
            "calls_total": self.calls_total,
            "reports_without_calls": self.reports_without_calls,
            "oldest_waiting": [
                {"number": r.number, "category": r.category, "created_at": _iso(r.created_at)}
                for r in self.oldest_waiting
            ],
        }


def _iso(moment: datetime | None) -> str | None:
    local = to_local(moment)
    return None if local is None else local.isoformat()


def _share_dict(share: Share) -> dict[str, Any]:
    return {"count": share.count, "of": share.total, "percent": share.percent}


#: Columns of ``figure_rows``: one flat table for CSV and spreadsheets.
ROW_FIELDS: Final = (
    "section",
    "key",
    "kind",
    "count",
    "of",
    "percent",
    "median_seconds",
    "p90_seconds",
)


def figure_rows(stats: Statistics) -> list[dict[str, Any]]:
    """Every figure as one flat row with ``ROW_FIELDS`` (the CSV layout, documented).

    Sections: ``reports`` (key ``total``, ``duplicates_excluded``), ``kind``,
    ``category`` (share within its kind), ``status``, ``done_aim`` (count done, percent
    done; key ``met`` or ``not_met``), ``agency_forwarded`` / ``agency_acknowledged`` /
    ``agency_done`` (key: agency code), ``interval`` (key: interval name, kind ``all``
    for all kinds), ``calls`` (key: disposition).
    """
    rows: list[dict[str, Any]] = []

    def add(
        section: str,
        key: str,
        kind: str = "",
        count: int | None = None,
        of: int | None = None,
        pct: int | None = None,
        median: float | None = None,
        p90: float | None = None,
    ) -> None:
        values = (section, key, kind, count, of, pct, median, p90)
        rows.append(
            {name: ("" if v is None else v) for name, v in zip(ROW_FIELDS, values, strict=True)}
        )

    add("reports", "total", count=stats.total)
    add("reports", "duplicates_excluded", count=stats.duplicates)
    for k in stats.kinds:
        add("kind", k.kind, k.kind, k.count, k.share.total, k.share.percent)
        for c in k.categories:
            add("category", c.code, c.kind, c.count, c.share.total, c.share.percent)
    for s in stats.statuses:
        add("status", s.status, count=s.count, of=s.share.total, pct=s.share.percent)
    add(
        "done_aim",
        "met" if stats.aim.met else "not_met",
        count=stats.aim.done.count,
        of=stats.aim.done.total,
        pct=stats.aim.done.percent,
    )
    for a in stats.agencies:
        add("agency_forwarded", a.code, count=a.forwarded)
        add("agency_acknowledged", a.code, count=a.acknowledged)
        add("agency_done", a.code, count=a.done)
    for i in stats.intervals:
        add("interval", i.name, i.kind or "all", i.count, median=i.median, p90=i.p90)
    for call in stats.calls:
        add(
            "calls",
            call.disposition,
            count=call.count,
            of=stats.calls_total,
            pct=percent(call.count, stats.calls_total),
        )
    return rows


# --- Computing ----------------------------------------------------------------------


def compute_statistics(
    db: Database,
    period: Period,
    *,
    catalogue: Catalogue | None = None,
    clock: Clock = system_clock,
    oldest_waiting: int = OLDEST_WAITING,
    parts: Iterable[str] = ALL_PARTS,
) -> Statistics:
    """Every figure for ``period``, read in one consistent snapshot.

    ``parts`` chooses the optional parts (``Part``): a status board that shows only the
    counts asks for none and pays only for the index-only counting queries.
    """
    catalogue = catalogue or load_catalogue()
    wanted = frozenset(Part(p) for p in parts)
    agencies: dict[str, tuple[int, int, int]] = {}
    interval_values: IntervalValues = {}
    calls: dict[str, int] = {}
    waiting: list[ReportSummary] = []
    sampled = False
    without_calls = 0
    with db.read() as conn:
        counts = _report_counts(conn, period)  # duplicates still in
        duplicates: dict[CountKey, int] | None = None
        intervals_read = False
        if Part.INTERVALS in wanted and sum(counts.values()) <= EXACT_INTERVALS_LIMIT:
            # Within the limit even with the duplicates: exact. The same pass over the
            # reports says whether any is a duplicate, and when none is (as in most
            # periods) the duplicates' own pass over the table is not needed.
            interval_values, any_duplicate = _exact_intervals(conn, period)
            intervals_read = True
            if not any_duplicate:
                duplicates = {}
        if duplicates is None:
            duplicates = _duplicate_counts(conn, period)
        for key, value in duplicates.items():
            counts[key] = counts.get(key, 0) - value
        if Part.AGENCIES in wanted:
            agencies = _agency_counts(conn, period)
        if Part.INTERVALS in wanted and not intervals_read:
            sampled = sum(counts.values()) > EXACT_INTERVALS_LIMIT
            if sampled:
                interval_values = _sampled_intervals(conn, period)
            else:
                interval_values, _ = _exact_intervals(conn, period)
        if Part.CALLS in wanted:
            calls = _call_counts(conn, period)
            without_calls = _reports_without_calls(conn, period)
        if Part.WAITING in wanted and oldest_waiting:
            waiting = _oldest_waiting(conn, period, oldest_waiting)
    return assemble(
        period,
        counts,
        duplicates=sum(duplicates.values()),
        agency_counts=agencies,
        interval_values=interval_values,
        intervals_sampled=sampled,
        calls=calls,
        catalogue=catalogue,
        generated_at=clock(),
        oldest_waiting=waiting,
        parts=wanted,
        reports_without_calls=without_calls,
    )


CountKey = tuple[str, str, str]  # (kind, category, status)
#: Interval name → kind → that interval's seconds for each report of the kind, sorted.
IntervalValues = dict[str, dict[str, list[int]]]


def assemble(
    period: Period,
    counts: Mapping[CountKey, int],
    *,
    duplicates: int = 0,
    agency_counts: Mapping[str, tuple[int, int, int]] | None = None,
    interval_values: Mapping[str, Mapping[str, Sequence[int]]] | None = None,
    intervals_sampled: bool = False,
    calls: Mapping[str, int] | None = None,
    catalogue: Catalogue,
    generated_at: datetime,
    oldest_waiting: Sequence[ReportSummary] = (),
    parts: frozenset[str] = ALL_PARTS,
    reports_without_calls: int = 0,
) -> Statistics:
    """Build the result tree from raw counts (kept apart from SQL so it can be tested alone)."""
    total = sum(counts.values())
    by_kind: dict[str, int] = {}
    by_category: dict[tuple[str, str], int] = {}
    by_status: dict[str, int] = {}
    for (kind, category, status), count in counts.items():
        by_kind[kind] = by_kind.get(kind, 0) + count
        by_category[(kind, category)] = by_category.get((kind, category), 0) + count
        by_status[status] = by_status.get(status, 0) + count

    order = {c.code: index for index, c in enumerate(catalogue.categories)}
    known = {c.code: c for c in catalogue.categories}
    kinds: list[KindFigure] = []
    for kind in (*KINDS, *sorted(set(by_kind) - set(KINDS))):
        kind_total = by_kind.get(kind, 0)
        codes = {c.code for c in catalogue.categories if c.kind == kind}
        codes |= {code for (k, code) in by_category if k == kind}
        figures = []
        for code in codes:
            entry = known.get(code)
            figures.append(
                CategoryFigure(
                    code=code,
                    kind=kind,
                    label_id=entry.label_id if entry else code,
                    label_en=entry.label_en if entry else code,
                    share=Share(by_category.get((kind, code), 0), kind_total),
                )
            )
        figures.sort(key=lambda f: (-f.count, order.get(f.code, len(order)), f.code))
        kinds.append(KindFigure(kind, Share(kind_total, total), tuple(figures)))

    statuses = tuple(
        StatusFigure(status, Share(by_status.get(status, 0), total))
        for status in (*STATUSES, *sorted(set(by_status) - set(STATUSES)))
    )
    agencies = tuple(
        AgencyFigure(
            code=code,
            name=_agency_name(catalogue, code)[0],
            short_name=_agency_name(catalogue, code)[1],
            forwarded=values[0],
            acknowledged=values[1],
            done=values[2],
        )
        for code, values in sorted(
            # Busiest first; reports handled by an agency the source did not name last.
            (agency_counts or {}).items(),
            key=lambda item: (item[0] == NOT_NAMED_AGENCY, -item[1][0], item[0]),
        )
    )
    intervals: list[IntervalFigure] = []
    for name in INTERVALS:
        per_kind = (interval_values or {}).get(name, {})
        for kind in KINDS:
            intervals.append(
                _interval_figure(name, kind, per_kind.get(kind, ()), intervals_sampled)
            )
        # Two sorted runs: sorted() merges them in one linear pass.
        every_kind = sorted(chain.from_iterable(per_kind.values()))
        intervals.append(_interval_figure(name, None, every_kind, intervals_sampled))
    call_counts = calls or {}
    call_figures = tuple(
        CallFigure(d, int(call_counts.get(d, 0)))
        for d in (*DISPOSITIONS, *sorted(set(call_counts) - set(DISPOSITIONS)))
    )
    return Statistics(
        period=period,
        generated_at=generated_at,
        total=total,
        duplicates=duplicates,
        kinds=tuple(kinds),
        statuses=statuses,
        aim=DoneAim(Share(by_status.get(Status.SELESAI.value, 0), total)),
        agencies=agencies,
        intervals=tuple(intervals),
        calls=call_figures,
        oldest_waiting=tuple(oldest_waiting),
        parts=parts,
        reports_without_calls=reports_without_calls,
    )


def _agency_name(catalogue: Catalogue, code: str) -> tuple[str, str]:
    try:
        agency = catalogue.agency(code)  # NOT_NAMED_AGENCY included
    except NotFound:
        return code, code
    return agency.name, agency.short_name


def _interval_figure(
    name: str, kind: str | None, values: Sequence[int], sampled: bool = False
) -> IntervalFigure:
    """The figure of one interval from its values, sorted."""
    return IntervalFigure(
        name=name,
        kind=kind,
        count=len(values),
        median=percentile_of_sorted(values, 0.5),
        p90=percentile_of_sorted(values, 0.9),
        sampled=sampled,
    )


def percentile(histogram: Sequence[tuple[float, int]], p: float) -> float | None:
    """The ``p`` quantile (0–1) of values given as sorted ``(value, how many)`` pairs.

    Linear interpolation between the two nearest ranks: the median of 1, 2, 3, 4 is
    2.5; the 90th percentile of 1 … 10 is 9.1. None for no values.
    """
    count = sum(n for _, n in histogram)
    if count == 0:
        return None
    position = (count - 1) * p
    low_rank = math.floor(position)
    high_rank = min(low_rank + 1, count - 1)
    low = high = None
    seen = 0
    for value, n in histogram:
        if low is None and low_rank < seen + n:
            low = value
        if high_rank < seen + n:
            high = value
            break
        seen += n
    assert low is not None and high is not None
    return _interpolated(low, high, position - low_rank)


def percentile_of_sorted(values: Sequence[float], p: float) -> float | None:
    """``percentile`` of the values themselves, sorted (each value once per occurrence):
    the same ranks and interpolation, read by index instead of by walking a histogram."""
    count = len(values)
    if count == 0:
        return None
    position = (count - 1) * p
    low_rank = math.floor(position)
    high_rank = min(low_rank + 1, count - 1)
    return _interpolated(values[low_rank], values[high_rank], position - low_rank)


def _interpolated(low: float, high: float, fraction: float) -> float:
    low, high = float(low), float(high)
    # Rounded to the millisecond: the values are whole seconds, the rest is float noise.
    return round(float(low + fraction * (high - low)), 3)


# --- The queries ----------------------------------------------------------------------


@lru_cache(maxsize=STATEMENTS_KEPT)
def report_counts_query(period: Period) -> sa.Select[Any]:
    """Reports by (kind, category, status): reads only a covering index."""
    if period.is_all:
        # ix_report_category_status covers category and status; kind follows from the
        # category, so it is read per category from one row each (see _kinds_of).
        return sa.select(REPORT.c.category, REPORT.c.status, sa.func.count().label("n")).group_by(
            REPORT.c.category, REPORT.c.status
        )
    return (
        sa.select(REPORT.c.kind, REPORT.c.category, REPORT.c.status, sa.func.count().label("n"))
        .where(*period.condition(REPORT.c.created_at))
        .group_by(REPORT.c.kind, REPORT.c.category, REPORT.c.status)
    )


def _report_counts(conn: Connection, period: Period) -> dict[CountKey, int]:
    rows = conn.execute(report_counts_query(period)).all()
    if not period.is_all:
        return {(str(k), str(c), str(s)): int(n) for k, c, s, n in rows}
    kinds = _kinds_of(conn, {str(c) for c, _, _ in rows})
    return {(kinds[str(c)], str(c), str(s)): int(n) for c, s, n in rows}


def _kinds_of(conn: Connection, categories: set[str]) -> dict[str, str]:
    """The kind stored with each category (one indexed row per category)."""
    if not categories:
        return {}
    rows = conn.execute(_kinds_query(tuple(sorted(categories))))
    return {str(code): str(kind) if kind is not None else Kind.DARURAT.value for code, kind in rows}


@lru_cache(maxsize=4)
def _kinds_query(codes: tuple[str, ...]) -> sa.CompoundSelect:
    """``_kinds_of``'s statement: every category's first row in one statement (at 10 k
    reports a statement each cost more than the counts they serve), built once per set
    of categories (building it is most of its cost)."""
    return sa.union_all(
        *(
            sa.select(
                sa.literal(code, sa.String).label("code"),
                sa.select(REPORT.c.kind)
                .where(REPORT.c.category == code)
                .limit(1)
                .scalar_subquery()
                .label("kind"),
            )
            for code in codes
        )
    )


@lru_cache(maxsize=STATEMENTS_KEPT)
def duplicate_counts_query(period: Period) -> sa.Select[Any]:
    """Duplicates by (kind, category, status), to take out of the report counts."""
    return (
        sa.select(REPORT.c.kind, REPORT.c.category, REPORT.c.status, sa.func.count().label("n"))
        .where(REPORT.c.duplicate_of.is_not(None), *period.condition(REPORT.c.created_at))
        .group_by(REPORT.c.kind, REPORT.c.category, REPORT.c.status)
    )


def _duplicate_counts(conn: Connection, period: Period) -> dict[CountKey, int]:
    rows = conn.execute(duplicate_counts_query(period)).all()
    return {(str(k), str(c), str(s)): int(n) for k, c, s, n in rows}


def _counted(period: Period) -> list[sa.ColumnElement[bool]]:
    """Reports a figure counts: in the period, not a duplicate."""
    return [REPORT.c.duplicate_of.is_(None), *period.condition(REPORT.c.created_at)]


def _agency_counts(conn: Connection, period: Period) -> dict[str, tuple[int, int, int]]:
    """Per agency: reports forwarded, acknowledged by it, and done (each report once).

    A report forwarded to the same agency twice counts once. Counting distinct reports
    three times (forwarded, acknowledged, done) is most of the query's cost, so the
    referrals are first counted plainly, with the distinct reports beside them: where
    the two agree, no report of that agency has two referrals, and the plain counts
    are the figures (8 ms instead of 10 ms at 10 k reports, 0.11 s instead of 0.14 s at
    100 k, B5). Only the agencies where they differ are counted again, distinctly.

    Grouped by an expression of the agency, not the bare column, so that SQLite reads
    the referral table in its own order (nearly the reports' order) instead of walking
    ``ix_referral_agency`` and looking up each referral and its report at random: at
    100 k reports 0.19–0.23 s instead of 0.34 s.
    """
    counts: dict[str, tuple[int, int, int]] = {}
    forwarded_again: list[str] = []
    for code, referrals, reports, acknowledged, finished in conn.execute(_agency_query(period)):
        if int(referrals) == int(reports):
            counts[str(code)] = (int(reports), int(acknowledged), int(finished))
        else:
            forwarded_again.append(str(code))
    if forwarded_again:
        done = REPORT.c.status == Status.SELESAI.value
        acknowledged_report = sa.case(
            (REFERRAL.c.acknowledged_at.is_not(None), REFERRAL.c.report_id)
        )
        done_report = sa.case((done, REFERRAL.c.report_id))
        distinct = (
            sa.select(
                REFERRAL.c.agency,
                sa.func.count(sa.distinct(REFERRAL.c.report_id)),
                sa.func.count(sa.distinct(acknowledged_report)),
                sa.func.count(sa.distinct(done_report)),
            )
            .select_from(REFERRAL.join(REPORT, REPORT.c.id == REFERRAL.c.report_id))
            .where(REFERRAL.c.agency.in_(forwarded_again), *_counted(period))
            .group_by(REFERRAL.c.agency)
        )
        for code, reports, acknowledged, finished in conn.execute(distinct):
            counts[str(code)] = (int(reports), int(acknowledged), int(finished))
    return counts


@lru_cache(maxsize=STATEMENTS_KEPT)
def _agency_query(period: Period) -> sa.Select[Any]:
    """``_agency_counts``' plain counts: referrals, distinct reports, acknowledged, done."""
    # Never NULL: coalesce only makes it an expression (see _agency_counts).
    agency: sa.ColumnElement[Any] = sa.func.coalesce(REFERRAL.c.agency, "")
    counts: list[sa.ColumnElement[Any]] = [
        sa.func.count(),
        sa.func.count(sa.distinct(REFERRAL.c.report_id)),
        sa.func.count(REFERRAL.c.acknowledged_at),
        sa.func.count().filter(REPORT.c.status == Status.SELESAI.value),
    ]
    return (
        sa.select(
            agency,
            *counts,
        )
        .select_from(REFERRAL.join(REPORT, REPORT.c.id == REFERRAL.c.report_id))
        .where(*_counted(period))
        .group_by(agency)
    )


#: A connection, or the name of its dialect (what the statements below depend on).
DialectOf = Connection | str


def _dialect(conn: DialectOf) -> str:
    return conn if isinstance(conn, str) else conn.dialect.name


def interval_seconds() -> list[sa.Label[Any]]:
    """The four intervals of a report row, in whole seconds, labelled by name: the
    report's stored columns, which the database works out from the moments."""
    return [REPORT.c[interval_column_name(name)].label(name) for name in INTERVALS]


def joined_seconds(conn: DialectOf, seconds: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """Every non-NULL value of ``seconds`` in the group as one text, comma-separated
    (an aggregate; ``seconds_of`` reads it back)."""
    if _dialect(conn) == "sqlite":
        return sa.func.group_concat(seconds, ",")
    return sa.func.string_agg(sa.cast(seconds, sa.Text), ",")


def seconds_of(joined: str | None) -> list[int]:
    """The whole seconds of a ``joined_seconds`` text, in its order; [] for NULL."""
    if not joined:
        return []
    # Whole numbers and commas: a JSON array once bracketed, parsed in C.
    values: list[int] = json.loads(f"[{joined}]")
    return values


def _intervals_by_kind(conn: DialectOf) -> list[Any]:
    """The select list of the interval queries: the kind, how many of the group's
    reports are duplicates, then each interval's seconds of the others joined into one
    text (``_interval_values_of`` reads them)."""
    counted = REPORT.c.duplicate_of.is_(None)
    return [
        REPORT.c.kind,
        sa.func.count(REPORT.c.duplicate_of).label("duplicates"),
        *(
            joined_seconds(conn, sa.case((counted, seconds.element))).label(seconds.name)
            for seconds in interval_seconds()
        ),
    ]


def exact_intervals_query(conn: DialectOf, period: Period) -> sa.Select[Any]:
    """Every interval of every counted report of the period, in one pass over the
    period's reports (duplicates counted, not read): one row, each kind's aggregates
    side by side, and first how many reports are of a kind the program does not know."""
    return _exact_intervals_query(_dialect(conn), period)


@lru_cache(maxsize=STATEMENTS_KEPT)
def _exact_intervals_query(dialect: str, period: Period) -> sa.Select[Any]:
    # Each kind's aggregates FILTERed, not GROUP BY kind: grouping sorted the rows in a
    # temporary B-tree, half of the pass (27.7 ms against 20.0 ms at 10 k, B5).
    counted = REPORT.c.duplicate_of.is_(None)
    known = [kind.value for kind in Kind]
    columns: list[Any] = [sa.func.count().filter(REPORT.c.kind.not_in(known))]
    for kind in known:
        of_kind = REPORT.c.kind == kind
        columns.append(sa.func.count(REPORT.c.duplicate_of).filter(of_kind))
        columns += [
            joined_seconds(dialect, seconds.element).filter(sa.and_(of_kind, counted))
            for seconds in interval_seconds()
        ]
    return sa.select(*columns).where(*period.condition(REPORT.c.created_at))


@lru_cache(maxsize=STATEMENTS_KEPT)
def _grouped_intervals_query(dialect: str, period: Period) -> sa.Select[Any]:
    return (
        sa.select(*_intervals_by_kind(dialect))
        .where(*period.condition(REPORT.c.created_at))
        .group_by(REPORT.c.kind)
    )


def _exact_intervals(conn: Connection, period: Period) -> tuple[IntervalValues, bool]:
    """The four intervals of every counted report, from one pass over the table, and
    whether any report of the period is a duplicate."""
    row = conn.execute(exact_intervals_query(conn, period)).one()
    rows: Sequence[Sequence[Any]]
    if row[0]:  # a kind the program does not know: grouped by kind, so none is lost
        rows = conn.execute(_grouped_intervals_query(_dialect(conn), period)).all()
    else:
        width = 1 + len(INTERVALS)
        rows = [
            (kind.value, *row[1 + i * width : 1 + (i + 1) * width]) for i, kind in enumerate(Kind)
        ]
    return _interval_values_of(rows), any(row[1] for row in rows)


def _interval_values_of(rows: Sequence[Sequence[Any]]) -> IntervalValues:
    """``(kind, duplicates, each interval's seconds joined…)`` rows as each interval's sorted
    seconds per kind; unknown (NULL) moments were left out by the aggregate.

    Exact medians and 90th percentiles need every value, so every value comes back,
    but as one text per kind and interval instead of a row per report: at 10 k reports
    the query then costs 15–26 ms of CPU against 18–30 ms, and Python parses and
    sorts 30,000 values in 4–6 ms where splitting 10,000 rows by kind took
    8–10 ms (and counting them into histograms and walking those, before, 68–83 ms).
    A ``GROUP BY`` of (interval, kind, seconds) does not pay: the seconds are nearly
    all different (11,974 distinct of 29,684 values at 10 k, 55,044 of 298,009 at
    100 k), and SQL sorting them took 0.065 s against 0.032 s for one pass at 10 k (B5).
    """
    values: IntervalValues = {name: {} for name in INTERVALS}
    for kind, _duplicates, *joined in rows:
        for name, text in zip(INTERVALS, joined, strict=True):
            found = seconds_of(text)
            if found:
                found.sort()
                values[name][str(kind)] = found
    return values


def _id_bounds(conn: Connection, period: Period) -> tuple[int, int] | None:
    """The lowest and highest report id of the period (index-only), or None when empty."""
    if period.is_all:
        low = conn.execute(sa.select(sa.func.min(REPORT.c.id))).scalar()
        high = conn.execute(sa.select(sa.func.max(REPORT.c.id))).scalar()
    else:
        low, high = conn.execute(id_bounds_query(period)).one()
    return None if low is None or high is None else (int(low), int(high))


def id_bounds_query(period: Period) -> sa.Select[Any]:
    """The lowest and highest report id recorded in a bounded period (index-only)."""
    return sa.select(sa.func.min(REPORT.c.id), sa.func.max(REPORT.c.id)).where(
        *period.condition(REPORT.c.created_at)
    )


def sampled_intervals_query(
    conn: Connection, period: Period, low: int, high: int, step: int
) -> sa.Select[Any]:
    """Every interval of every ``step``-th report id from ``low`` to ``high``, in the period."""
    ids = sa.select(sa.literal(low, sa.Integer).label("i")).cte("sample_ids", recursive=True)
    ids = ids.union_all(sa.select((ids.c.i + step).label("i")).where(ids.c.i + step <= high))
    return (
        sa.select(*_intervals_by_kind(conn))
        .select_from(ids.join(REPORT, REPORT.c.id == ids.c.i))
        .where(*_counted(period))
        .group_by(REPORT.c.kind)
    )


def _sampled_intervals(conn: Connection, period: Period) -> IntervalValues:
    """The intervals of a systematic sample of the period: every k-th id, by primary key."""
    bounds = _id_bounds(conn, period)
    if bounds is None:
        return {name: {} for name in INTERVALS}
    low, high = bounds
    step = max(1, (high - low + 1) // INTERVAL_SAMPLE)
    query = sampled_intervals_query(conn, period, low, high, step)
    return _interval_values_of(conn.execute(query).all())


@lru_cache(maxsize=STATEMENTS_KEPT)
def call_counts_query(period: Period) -> sa.Select[Any]:
    """Calls in all and by disposition, in one pass over ``ix_call_answered`` (no sort).

    ``count(*) FILTER (WHERE …)``, not ``count(CASE …)``: 3.0 ms against 4.4 ms for
    the 20,000 calls of 10 k reports (B5)."""
    columns: list[Any] = [sa.func.count().label("total")] + [
        sa.func.count().filter(CALL.c.disposition == d).label(d) for d in DISPOSITIONS
    ]
    return sa.select(*columns).where(*period.condition(CALL.c.answered_at))


def _call_counts(conn: Connection, period: Period) -> dict[str, int]:
    row = conn.execute(call_counts_query(period)).mappings().one()
    counts = {d: int(row[d]) for d in DISPOSITIONS}
    other = int(row["total"]) - sum(counts.values())
    if other:
        counts["other"] = other
    return counts


def _reports_without_calls(conn: Connection, period: Period) -> int:
    """Counted reports of the period with no call on record (imported history).

    Only an import files a report without its call, so only imported reports are
    looked at (the unique index on ``import_key`` holds just those): a center that never
    imported pays one empty index range, whatever its size.
    """
    return int(conn.execute(reports_without_calls_query(period)).scalar_one())


@lru_cache(maxsize=STATEMENTS_KEPT)
def reports_without_calls_query(period: Period) -> sa.Select[Any]:
    """The count for ``_reports_without_calls``; ``import_key > ''`` (not ``IS NOT
    NULL``) so SQLite reads the import_key index's range instead of every report."""
    return (
        sa.select(sa.func.count())
        .select_from(REPORT)
        .where(
            REPORT.c.import_key > "",
            *_counted(period),
            ~sa.exists().where(CALL.c.report_id == REPORT.c.id),
        )
    )


@lru_cache(maxsize=STATEMENTS_KEPT)
def oldest_waiting_query(period: Period, rank: int, limit: int) -> sa.Select[Any]:
    """The oldest waiting reports of one queue rank, from the open-queue partial index."""
    return (
        sa.select(*SUMMARY_COLUMNS)
        .where(
            OPEN,  # open and not archived: history waits in no one's queue
            REPORT.c.queue_rank == rank,
            REPORT.c.duplicate_of.is_(None),
            *period.condition(REPORT.c.created_at),
        )
        .order_by(REPORT.c.created_at, REPORT.c.id)
        .limit(limit)
    )


def _oldest_waiting(conn: Connection, period: Period, limit: int) -> list[ReportSummary]:
    """Waiting (menunggu) reports of the period, oldest first, emergencies or not."""
    from siaga_tui.core.models import queue_rank

    found: list[ReportSummary] = []
    for kind in KINDS:
        found.extend(
            summaries(conn, oldest_waiting_query(period, queue_rank(kind, Status.MENUNGGU), limit))
        )
    found.sort(key=lambda r: (as_utc(r.created_at), r.id))
    return found[:limit]
