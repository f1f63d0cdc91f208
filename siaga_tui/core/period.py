"""Periods of time the figures are counted over: a year, some days, a shift, all time.

A ``Period`` is a half-open span ``[start, end)`` in aware UTC, built from local
(WITA) dates; the statistics, breakdowns, handover, export and board all count over one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import sqlalchemy as sa

from siaga_tui.core.errors import ValidationError
from siaga_tui.core.timeutil import Clock, as_utc, display_zone, system_clock, to_local

#: Shift start hours in WITA: 07–14, 14–21, 21–07 (the night shift crosses midnight).
SHIFT_START_HOURS: Final = (7, 14, 21)
#: The years a period may cover: wide enough for any record, narrow enough that the
#: edges of the calendar (year 1, year 9999) never reach date arithmetic.
YEARS: Final = range(1900, 3000)


@dataclass(frozen=True)
class Period:
    """A half-open span of time ``[start, end)`` in aware UTC; ``None`` is unbounded.

    Build one from local (WITA) dates with the class methods; ``first_day`` and
    ``last_day`` are the local dates it covers (inclusive), for headings.
    """

    start: datetime | None
    end: datetime | None
    first_day: date | None = None
    last_day: date | None = None

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("a period needs aware datetimes")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    # Constructors ----------------------------------------------------------------

    @classmethod
    def between(cls, date_from: date, date_to: date) -> Period:
        """From the start of ``date_from`` to the end of ``date_to``, WITA, both included."""
        for day in (date_from, date_to):
            _check_year(day.year)
        if date_to < date_from:
            raise ValidationError(
                "period",
                "stats_period_reversed",
                date_from=date_from.isoformat(),
                date_to=date_to.isoformat(),
            )
        return cls(
            local_midnight(date_from),
            local_midnight(date_to + timedelta(days=1)),
            date_from,
            date_to,
        )

    @classmethod
    def year(cls, year: int) -> Period:
        _check_year(year)
        return cls.between(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def today(cls, clock: Clock = system_clock) -> Period:
        day = _local_today(clock)
        return cls.between(day, day)

    @classmethod
    def days(cls, count: int, clock: Clock = system_clock) -> Period:
        """The last ``count`` local days, today included."""
        if count < 1:
            raise ValueError("a period of days needs at least one day")
        day = _local_today(clock)
        return cls.between(day - timedelta(days=count - 1), day)

    @classmethod
    def month(cls, clock: Clock = system_clock) -> Period:
        """This local calendar month, from its first day to its last."""
        day = _local_today(clock)
        first = day.replace(day=1)
        next_first = (first + timedelta(days=32)).replace(day=1)
        return cls.between(first, next_first - timedelta(days=1))

    @classmethod
    def this_year(cls, clock: Clock = system_clock) -> Period:
        return cls.year(_local_today(clock).year)

    @classmethod
    def shift(cls, clock: Clock = system_clock) -> Period:
        """The shift running now: 07–14, 14–21 or 21–07 WITA (crossing midnight)."""
        local = as_utc(clock()).astimezone(display_zone())
        day = local.date()
        starts = [
            datetime.combine(day + timedelta(days=offset), time(hour), display_zone())
            for offset in (-1, 0)
            for hour in SHIFT_START_HOURS
        ]
        start = max(s for s in starts if s <= local)
        index = starts.index(start)
        if index + 1 < len(starts):
            end = starts[index + 1]
        else:
            end = datetime.combine(
                day + timedelta(days=1), time(SHIFT_START_HOURS[0]), display_zone()
            )
        return cls(start.astimezone(UTC), end.astimezone(UTC), start.date(), end.date())

    @classmethod
    def all(cls) -> Period:
        """Everything recorded, whenever."""
        return cls(None, None)

    # Use -------------------------------------------------------------------------

    @property
    def is_all(self) -> bool:
        return self.start is None and self.end is None

    def describe(self) -> str:
        """``2019``, ``2019-03-01 – 2019-03-31``, ``2026-11-28``, a shift's hours, or ``*``."""
        if self.is_all:
            return "*"
        start, end = to_local(self.start), to_local(self.end)
        if start is not None and end is not None and start.time() == end.time() == time(0):
            first, last = start.date(), end.date() - timedelta(days=1)
            if (
                first.month == first.day == 1
                and last.month == 12
                and last.day == 31
                and first.year == last.year
            ):
                return str(first.year)
            if first == last:
                return first.isoformat()
            return f"{first.isoformat()} \u2013 {last.isoformat()}"
        left = start.strftime("%Y-%m-%d %H:%M") if start else "\u2026"
        right = end.strftime("%Y-%m-%d %H:%M") if end else "\u2026"
        return f"{left} \u2013 {right}"

    def condition(self, column: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
        """The WHERE terms that keep ``column`` inside the period."""
        terms: list[sa.ColumnElement[bool]] = []
        if self.start is not None:
            terms.append(column >= self.start)
        if self.end is not None:
            terms.append(column < self.end)
        return terms


def _check_year(year: int) -> None:
    if year not in YEARS:
        raise ValidationError(
            "period", "stats_year_out_of_range", year=year, first=YEARS.start, last=YEARS.stop - 1
        )


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), display_zone()).astimezone(UTC)


def _local_today(clock: Clock) -> date:
    return as_utc(clock()).astimezone(display_zone()).date()


# --- Results ------------------------------------------------------------------------
