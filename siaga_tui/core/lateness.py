"""How late an open report is: the one rule the queue, its header and the handover share.

A waiting report (``menunggu``) is measured against its category's ``forward_target``:
past the target it is overdue (``!``), past twice the target alarmed (``!!``). A report
being handled (``ditangani``) is measured against ``finish_target``: past it, overdue
(the agency has it, so it never rings the alarm). Closed reports are never late. Both
targets count from the moment the report was recorded (the catalogue's definition).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Final

from siaga_tui.core.catalogue import Category

#: Past this many times the forward target a waiting report is alarmed.
ALARM_FACTOR: Final = 2


class Level(IntEnum):
    ON_TIME = 0
    OVERDUE = 1
    ALARMED = 2


#: The marks the console shows for each level.
MARKS: Final = {Level.ON_TIME: "", Level.OVERDUE: "!", Level.ALARMED: "!!"}


@dataclass(frozen=True, slots=True)
class Lateness:
    """``level``; ``stage`` "forward" (not forwarded in time) or "finish" (not done in
    time) when late; ``late_by``: how far past that target."""

    level: Level
    stage: str | None = None
    late_by: timedelta = timedelta(0)


ON_TIME: Final = Lateness(Level.ON_TIME)


def lateness(category: Category, status: str, created_at: datetime, now: datetime) -> Lateness:
    """How late a report of ``category`` in ``status``, recorded at ``created_at``, is at ``now``."""
    waited = now - created_at
    if status == "menunggu":
        target = category.forward_target
        if waited > ALARM_FACTOR * target:
            return Lateness(Level.ALARMED, "forward", waited - target)
        if waited > target:
            return Lateness(Level.OVERDUE, "forward", waited - target)
        return ON_TIME
    if status == "ditangani" and waited > category.finish_target:
        return Lateness(Level.OVERDUE, "finish", waited - category.finish_target)
    return ON_TIME


def level_boundaries(category: Category, status: str, created_at: datetime) -> tuple[datetime, ...]:
    """The moments at which the report's level changes (a display wakes just after them)."""
    if status == "menunggu":
        target = category.forward_target
        return (created_at + target, created_at + ALARM_FACTOR * target)
    if status == "ditangani":
        return (created_at + category.finish_target,)
    return ()


def next_level_change(
    category: Category, status: str, created_at: datetime, now: datetime
) -> datetime | None:
    """The next moment after ``now`` the level changes, or None when it never will."""
    return min(
        (moment for moment in level_boundaries(category, status, created_at) if moment >= now),
        default=None,
    )


def format_span(delta: timedelta) -> str:
    """A long span for people: ``2 hr 5 mnt``-style, in days and hours once past a day.

    Language-free units (``d``, ``h``, ``m``): ``47m``, ``3h 05m``, ``48d 02h``, and
    years of days never become millions of minutes.
    """
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"
