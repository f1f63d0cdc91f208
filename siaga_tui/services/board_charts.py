"""What the status board draws: today per hour, the last 30 days, places and agencies.

``board_charts(db, clock)`` reads, in one snapshot and from indexes only where it can:

- today's reports and calls per local (WITA) hour, 00–23 (``ix_report_created_stats``,
  ``ix_call_answered``);
- reports per local day over the last 30 days, today included;
- open reports (not selesai, not archived history, not duplicates) per kecamatan, by
  kind (the open-queue partial index);
- agencies with reports waiting for their acknowledgement: how many, and since when
  the oldest waits (``ix_referral_agency``).

Counting rules are those of ``services.stats`` (reports by the moment recorded,
duplicates left out). Nothing here imports the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa

from siaga_tui.core.catalogue import Catalogue, load_catalogue
from siaga_tui.core.db import Database
from siaga_tui.core.errors import NotFound
from siaga_tui.core.models import CALL, REFERRAL, REPORT, Status
from siaga_tui.core.timeutil import Clock, as_utc, system_clock
from siaga_tui.services.breakdowns import _local_unit, _zone_offset_minutes
from siaga_tui.services.stats import Period

#: How many days the board's day chart covers, today included.
DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class PlaceCount:
    code: str
    name: str
    emergency: int
    other: int

    @property
    def total(self) -> int:
        return self.emergency + self.other


@dataclass(frozen=True, slots=True)
class AgencyWait:
    code: str
    name: str
    waiting: int  # open reports forwarded to it, not yet acknowledged by it
    oldest: datetime  # when the longest-waiting of them was forwarded (UTC)


@dataclass(frozen=True, slots=True)
class BoardCharts:
    """Plain values for the board's charts; safe to hand to another thread."""

    today: date
    reports_per_hour: tuple[int, ...]  # 24 values, 00–23 WITA
    calls_per_hour: tuple[int, ...]
    days: tuple[date, ...]  # the last DAYS local days, oldest first
    reports_per_day: tuple[int, ...]
    open_places: tuple[PlaceCount, ...]  # most open first
    agency_waits: tuple[AgencyWait, ...]  # longest wait first


def board_charts(
    db: Database, *, catalogue: Catalogue | None = None, clock: Clock = system_clock
) -> BoardCharts:
    catalogue = catalogue or load_catalogue()
    today = Period.today(clock)
    month = Period.days(DAYS, clock)
    assert today.first_day is not None and month.first_day is not None
    offset = _zone_offset_minutes(month, clock)
    counted = [REPORT.c.duplicate_of.is_(None)]
    with db.read() as conn:
        hour = _local_unit(conn, REPORT.c.created_at, "hour", offset)
        reports_hours = _by_key(
            conn,
            sa.select(hour, sa.func.count())
            .where(*counted, *today.condition(REPORT.c.created_at))
            .group_by(hour),
        )
        call_hour = _local_unit(conn, CALL.c.answered_at, "hour", offset)
        calls_hours = _by_key(
            conn,
            sa.select(call_hour, sa.func.count())
            .where(*today.condition(CALL.c.answered_at))
            .group_by(call_hour),
        )
        day = _local_unit(conn, REPORT.c.created_at, "day", offset)
        per_day = _by_key(
            conn,
            sa.select(day, sa.func.count())
            .where(*counted, *month.condition(REPORT.c.created_at))
            .group_by(day),
        )
        open_rows = conn.execute(
            sa.select(REPORT.c.kecamatan_code, REPORT.c.kind, sa.func.count())
            .where(
                REPORT.c.status != Status.SELESAI.value,
                REPORT.c.archived.is_(False),
                *counted,
            )
            .group_by(REPORT.c.kecamatan_code, REPORT.c.kind)
        ).all()
        waits = conn.execute(
            sa.select(
                REFERRAL.c.agency,
                sa.func.count(sa.distinct(REFERRAL.c.report_id)),
                sa.func.min(REFERRAL.c.forwarded_at),
            )
            .join(REPORT, REPORT.c.id == REFERRAL.c.report_id)
            .where(
                REFERRAL.c.acknowledged_at.is_(None),
                REPORT.c.status != Status.SELESAI.value,
                REPORT.c.archived.is_(False),
                *counted,
            )
            .group_by(REFERRAL.c.agency)
        ).all()
    days = tuple(month.first_day + timedelta(days=i) for i in range(DAYS))
    return BoardCharts(
        today=today.first_day,
        reports_per_hour=tuple(reports_hours.get(f"{h:02d}", 0) for h in range(24)),
        calls_per_hour=tuple(calls_hours.get(f"{h:02d}", 0) for h in range(24)),
        days=days,
        reports_per_day=tuple(per_day.get(d.isoformat(), 0) for d in days),
        open_places=_places(open_rows, catalogue),
        agency_waits=_waits(waits, catalogue),
    )


def _by_key(conn: Any, query: sa.Select[Any]) -> dict[str, int]:
    return {str(key): int(n) for key, n in conn.execute(query)}


def _places(rows: Any, catalogue: Catalogue) -> tuple[PlaceCount, ...]:
    counts: dict[str, list[int]] = {}
    for code, kind, n in rows:
        pair = counts.setdefault(str(code), [0, 0])
        pair[0 if kind == "darurat" else 1] += int(n)
    places = []
    for code, (emergency, other) in counts.items():
        try:
            name = catalogue.kecamatan_by_code(code).name
        except NotFound:
            name = code
        places.append(PlaceCount(code, name, emergency, other))
    places.sort(key=lambda p: (-p.total, p.name))
    return tuple(places)


def _waits(rows: Any, catalogue: Catalogue) -> tuple[AgencyWait, ...]:
    waits = []
    for code, waiting, oldest in rows:
        try:
            name = catalogue.agency(str(code)).short_name
        except NotFound:
            name = str(code)
        waits.append(AgencyWait(str(code), name, int(waiting), as_utc(_moment(oldest))))
    waits.sort(key=lambda w: (w.oldest, w.code))
    return tuple(waits)


def _moment(value: Any) -> datetime:
    """``min()`` of a datetime column comes back as text on SQLite."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
