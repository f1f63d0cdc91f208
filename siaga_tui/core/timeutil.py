"""Time: stored in UTC, shown in WITA (Asia/Makassar, UTC+8) unless configured otherwise.

The console and the services take a ``Clock`` (a function returning an aware UTC
datetime) so tests and snapshots can freeze time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]

DISPLAY_ZONE_NAME: Final = "Asia/Makassar"


def system_clock() -> datetime:
    """Now, in UTC, aware."""
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock frozen at ``at`` (for tests, snapshots and the demo)."""
    frozen = as_utc(at)
    return lambda: frozen


class SteppedClock:
    """A clock set by hand to each moment in turn: replaying history (an import, the
    demo) through the services, each step at its own time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@cache
def display_zone() -> tzinfo:
    # tzdata is a dependency, so this works on machines without a system zone database.
    return ZoneInfo(DISPLAY_ZONE_NAME)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already (as stored)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_local(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment).astimezone(display_zone())


def format_local(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    local = to_local(moment)
    return "" if local is None else local.strftime(pattern)


def format_moment(moment: datetime, now: datetime) -> str:
    """A moment for people, as short as is unambiguous: ``14:05`` today, ``27/11 14:05``
    this year, ``27/11/2019 14:05`` another year (local time)."""
    local, today = to_local(moment), to_local(now)
    assert local is not None and today is not None
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return local.strftime("%d/%m %H:%M" if local.year == today.year else "%d/%m/%Y %H:%M")


def _two_largest_units(seconds: int) -> list[str]:
    """The two largest units of a duration, the second padded: ``["3h", "05m"]``."""
    if seconds < 60:
        return [f"{seconds}s"]
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return [f"{minutes}m", f"{secs:02d}s"]
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return [f"{hours}h", f"{minutes:02d}m"]
    days, hours = divmod(hours, 24)
    return [f"{days}d", f"{hours:02d}h"]


def format_age(delta: timedelta) -> str:
    """Compact age for a queue cell: ``45s``, ``12m``, ``3h05m``, ``2d04h``.

    Under an hour the seconds are left out, so the cell changes once a minute.
    """
    seconds = max(0, int(delta.total_seconds()))
    units = _two_largest_units(seconds)
    return units[0] if seconds < 3600 else "".join(units)


def age_step(delta: timedelta) -> int:
    """Seconds between two changes of ``format_age``'s text around an age of ``delta``.

    Seconds step each second, minutes (and hours with minutes) each minute, days with
    hours each hour.
    """
    seconds = max(0, int(delta.total_seconds()))
    return 1 if seconds < 60 else 60 if seconds < 86400 else 3600


def age_changes_in(delta: timedelta) -> timedelta:
    """How long until ``format_age`` shows something else for an age of ``delta``.

    A display of ages needs to wake only then, not every second.
    """
    seconds = max(0, int(delta.total_seconds()))
    step = age_step(delta)
    return timedelta(seconds=(seconds // step + 1) * step) - delta


def format_duration(seconds: float | None, lang: str | None = None) -> str:
    """Human duration for statistics: ``4m 10s``, ``2h 03m``, ``3d 01h``; None → ``–``.

    With ``lang`` the units are that language's words: ``2 hari 5 jam``, ``4 mnt 10 dtk``
    in Indonesian, ``2 d 5 h``, ``4 min 10 s`` in English.
    """
    if seconds is None:
        return "–"
    if lang is None:
        return " ".join(_two_largest_units(round(seconds)))
    words = _UNIT_WORDS["id" if lang.startswith("id") else "en"]
    total = max(0, round(seconds))
    parts: list[tuple[int, str]] = []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        if total >= size or (size == 1 and not parts):
            value, total = divmod(total, size)
            parts.append((value, unit))
        if len(parts) == 2:
            break
    shown = [f"{value} {words[unit]}" for value, unit in parts if value or unit == parts[0][1]]
    return " ".join(shown)


_UNIT_WORDS: Final = {
    "id": {"d": "hari", "h": "jam", "m": "mnt", "s": "dtk"},
    "en": {"d": "d", "h": "h", "m": "min", "s": "s"},
}
