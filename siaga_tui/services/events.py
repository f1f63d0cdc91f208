"""The one place where report history is written, and the replay that checks it.

Every change to a report appends exactly one event in the same transaction as the
change. ``replay`` rebuilds a report's lifecycle state from its events alone; the tests
compare it with the stored row after every operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.models import EVENT, EventKind, Status
from siaga_tui.core.timeutil import as_utc


# Built once: statements given their values at execute time hit SQLAlchemy's compiled
# cache, which keeps the save path close to a raw insert (see benchmarks, B3).
_INSERT_EVENT = sa.insert(EVENT)


def append_event(
    conn: Connection,
    *,
    report_id: int,
    kind: EventKind,
    operator: str,
    at: datetime,
    details: dict[str, Any],
) -> int:
    """Append one event; returns its id, which is also the change sequence number."""
    result = conn.execute(
        _INSERT_EVENT,
        {"report_id": report_id, "kind": kind.value, "operator": operator, "at": at, "details": details},
    )
    return int(result.inserted_primary_key[0])


@dataclass
class ReplayedState:
    """The lifecycle fields of a report as its events tell them."""

    status: str | None = None
    category: str | None = None
    duplicate_of: int | None = None
    first_forwarded_at: datetime | None = None
    first_acknowledged_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 0
    referrals: int = 0
    calls: int = 0


def replay(events: list[tuple[str, datetime, dict[str, Any]]]) -> ReplayedState:
    """Fold ``(kind, at, details)`` events, oldest first, into a report's state."""
    state = ReplayedState()
    for kind, at, details in events:
        state.version += 1
        _apply(state, EventKind(kind), as_utc(at), details)
    return state


def _apply(state: ReplayedState, kind: EventKind, at: datetime, details: dict[str, Any]) -> None:
    if kind is EventKind.CREATED:
        state.status = details["status"]
        state.category = details["category"]
        state.calls += 1 if details.get("call_id") else 0
    elif kind is EventKind.CALL_ATTACHED:
        state.calls += 1
    elif kind is EventKind.FORWARDED:
        state.referrals += 1
        state.first_forwarded_at = state.first_forwarded_at or at
        state.status = details.get("status_to", state.status)
    elif kind is EventKind.ACKNOWLEDGED:
        state.first_acknowledged_at = state.first_acknowledged_at or at
    elif kind is EventKind.STATUS_CHANGED:
        state.status = details["to"]
        if details["to"] == Status.SELESAI:
            state.closed_at = at
    elif kind is EventKind.DUPLICATE_LINKED:
        state.status = Status.SELESAI
        state.duplicate_of = details["original_id"]
        state.closed_at = at
    elif kind is EventKind.REOPENED:
        state.status = details["to"]
        state.closed_at = None
        state.duplicate_of = None
    # NOTE_ADDED changes nothing but the version.
