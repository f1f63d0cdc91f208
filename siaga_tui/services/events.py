"""The one place where report history is written, and the replay that checks it.

Every change to a report appends exactly one event in the same transaction as the
change, and one audit entry for it (``services/audit.py``) in that transaction too.

Event ids are the live queue's change sequence (``QueueService.changes_since``), so a
reader must never see id N+1 committed while N is still to come. SQLite guarantees
this: ``BEGIN IMMEDIATE`` lets one writer at a time. On PostgreSQL ids come from a
sequence, handed out at INSERT but visible at COMMIT, so without care a slow
transaction could commit id 10 after a fast one committed id 11, and a reader that
had moved past 11 would never see 10. ``append_event`` therefore takes the history
lock (a transaction-scoped advisory lock) *before* the insert: from the moment an id
is drawn until the transaction ends no other event can be appended, so ids become
visible strictly in order. The audit chain needs the same lock anyway, and the wait is
one short transaction tail (the report row update and two inserts). Looking back
over a window of "maybe not yet visible" ids instead would cost every poll a second
query and still guess at the window's size. ``replay`` rebuilds a report's lifecycle state from its events alone; the tests
compare it with the stored row after every operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.db import DriverInsert, DriverStatement
from siaga_tui.core.models import EVENT, REPORT, EventKind, Status
from siaga_tui.core.timeutil import as_utc
from siaga_tui.services.audit import Action, append_audit, event_digest, jsonable, lock_history

# Every change runs these: straight on the driver's cursor, which keeps the save path
# close to a raw insert (see core.db.DriverStatement and benchmarks, B3).
_INSERT_EVENT = DriverInsert(EVENT, ["report_id", "kind", "operator", "at", "details"])
_REPORT_NUMBER = DriverStatement(
    sa.select(REPORT.c.number).where(REPORT.c.id == sa.bindparam("report_id"))
)


@dataclass(frozen=True, slots=True)
class ImportedBy:
    """Who imported history from which file, and when.

    A replayed event keeps the source's own time and operator; its audit entry is dated
    when the import ran and names who ran it, with the source's time and name beside
    them, so the log is never credited to another account nor dated into its past.
    """

    operator: str
    at: datetime
    file: str
    sha256: str

    def audit_details(self, event_at: datetime, event_operator: str) -> dict[str, Any]:
        return {
            "imported": {
                "file": self.file,
                "sha256": self.sha256,
                "event_at": as_utc(event_at).isoformat(),
                "event_operator": event_operator,
            }
        }


def append_event(
    conn: Connection,
    *,
    report_id: int,
    kind: EventKind,
    operator: str,
    at: datetime,
    details: dict[str, Any],
    number: str | None = None,
    imported: ImportedBy | None = None,
) -> int:
    """Append one event and its audit entry; returns the event id (the change sequence).

    ``number`` is the report's number when the caller has it at hand (it names the
    audit entry); otherwise it is looked up, one query more on the save path.
    ``imported``: the event replays imported history (see ``ImportedBy``).
    """
    lock_history(conn)
    values = {
        "report_id": report_id,
        "kind": kind.value,
        "operator": operator,
        "at": as_utc(at),
        "details": jsonable(details),
    }
    event_id = _INSERT_EVENT.execute(conn, values)
    if number is None:
        row = _REPORT_NUMBER.first(conn, {"report_id": report_id})
        number = row[0] if row else None
    append_audit(
        conn,
        at=imported.at if imported else at,
        operator=imported.operator if imported else operator,
        action=Action.REPORT_PREFIX + kind.value,
        subject=str(number or report_id),
        details={
            "event_id": event_id,
            "report_id": report_id,
            "event_sha256": event_digest({**values, "id": event_id}),
            **(imported.audit_details(at, operator) if imported else {}),
        },
        locked=True,
        rows=event_rows(report_id, values["details"]),
    )
    return event_id


def event_rows(report_id: int, details: dict[str, Any]) -> list[tuple[str, int]]:
    """The rows an event's transaction wrote: the report, and the call or referral the
    event names (their states go into its audit entry)."""
    rows = [("report", report_id)]
    if details.get("call_id"):
        rows.append(("call", int(details["call_id"])))
    if details.get("referral_id"):
        rows.append(("referral", int(details["referral_id"])))
    return rows


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
    # Imported history whose source did not say when: the event's moment is only where
    # it sits in the sequence, and the lifecycle moment stays unknown.
    known = not details.get("when_unknown")
    if kind is EventKind.CREATED:
        state.status = details["status"]
        state.category = details["category"]
        state.calls += 1 if details.get("call_id") else 0
    elif kind is EventKind.CALL_ATTACHED:
        state.calls += 1
    elif kind is EventKind.FORWARDED:
        state.referrals += 1
        if known:
            state.first_forwarded_at = state.first_forwarded_at or at
        state.status = details.get("status_to", state.status)
    elif kind is EventKind.ACKNOWLEDGED and known:
        state.first_acknowledged_at = state.first_acknowledged_at or at
    elif kind is EventKind.STATUS_CHANGED:
        state.status = details["to"]
        if details["to"] == Status.SELESAI and known:
            state.closed_at = at
    elif kind is EventKind.DUPLICATE_LINKED:
        state.status = Status.SELESAI
        state.duplicate_of = details["original_id"]
        state.closed_at = at if known else None
    elif kind is EventKind.REOPENED:
        state.status = details["to"]
        state.closed_at = None
        state.duplicate_of = None
    # NOTE_ADDED changes nothing but the version.
