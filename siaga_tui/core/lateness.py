"""How late an open report is: the one rule the queue, its header and the handover share.

A waiting report (``menunggu``) is measured against its category's ``forward_target``:
past the target it is overdue (``!``), past twice the target alarmed (``!!``). A report
being handled (``ditangani``) is measured against ``finish_target``: past it, overdue
(the agency has it, so it never rings the alarm). Closed reports are never late. Both
targets count from the moment the report was recorded (the catalogue's definition).

The stage says which target was missed, the worse one first: any open report past its
finish target is late to be done ("finish"), a waiting one before that late to be
forwarded ("forward").
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


def late_after(category: Category, status: str) -> dict[Level, timedelta]:
    """How long after being recorded a report of ``category`` in ``status`` reaches each
    late level (it is at that level once it has waited longer): the rule itself, which
    ``lateness`` applies to one report and the queue's counts apply in SQL to many
    (``created_at < now - span``). Empty for a status that is never late."""
    if status == "menunggu":
        forward, finish = category.forward_target, category.finish_target
        return {Level.OVERDUE: min(forward, finish), Level.ALARMED: ALARM_FACTOR * forward}
    if status == "ditangani":
        return {Level.OVERDUE: category.finish_target}
    return {}


def level_at(category: Category, status: str, waited: timedelta) -> Level:
    """The level of a report that has waited ``waited`` since it was recorded."""
    return max(
        (level for level, span in late_after(category, status).items() if waited > span),
        default=Level.ON_TIME,
    )


def lateness(category: Category, status: str, created_at: datetime, now: datetime) -> Lateness:
    """How late a report of ``category`` in ``status``, recorded at ``created_at``, is at ``now``."""
    waited = now - created_at
    if status not in ("menunggu", "ditangani"):
        return ON_TIME
    level = level_at(category, status, waited)
    if waited > category.finish_target:
        return Lateness(max(level, Level.OVERDUE), "finish", waited - category.finish_target)
    if level > Level.ON_TIME:
        return Lateness(level, "forward", waited - category.forward_target)
    return ON_TIME


def change_spans(category: Category, status: str) -> tuple[timedelta, ...]:
    """How long after being recorded a report's level or stage changes."""
    if status == "menunggu":
        target = category.forward_target
        return (target, ALARM_FACTOR * target, category.finish_target)
    if status == "ditangani":
        return (category.finish_target,)
    return ()


def level_boundaries(category: Category, status: str, created_at: datetime) -> tuple[datetime, ...]:
    """The moments at which the report's level changes (a display wakes just after them)."""
    return tuple(created_at + span for span in change_spans(category, status))


def next_level_change(
    category: Category, status: str, created_at: datetime, now: datetime
) -> datetime | None:
    """The next moment after ``now`` the level changes, or None when it never will."""
    return min(
        (moment for moment in level_boundaries(category, status, created_at) if moment >= now),
        default=None,
    )


def format_span(delta: timedelta, lang: str | None = None) -> str:
    """A span for people, in days and hours once past a day: ``47 mnt``, ``3 jam 5 mnt``,
    ``48 hari 2 jam`` (years of waiting never become millions of minutes)."""
    from siaga_tui.core.i18n import translate

    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return translate("span_minutes", lang, minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return translate("span_hours", lang, hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return translate("span_days", lang, days=days, hours=hours)
