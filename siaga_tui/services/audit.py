"""The audit log: an append-only, hash-chained record of who did what.

Every report event, sign-in, failed sign-in, refusal, personal-data export, account
change and handover adds one ``audit_entry`` in the same transaction as the thing it
records. Each entry's ``hash`` is SHA-256 over a canonical serialisation of its own
fields (id, time, operator, action, subject, details) and ``prev_hash``, the hash of
the entry before; the first entry's ``prev_hash`` is sixty-four zeros. Changing,
removing or reordering any entry therefore breaks the chain from that entry on, and
``verify`` finds the first break. The head hash (the newest entry's) is printed on
every handover and statistics export, so even a rewrite of the whole database is
caught against the paper copy.

Report events are linked into the chain by a digest of the event row (its id, report,
kind, operator, time and details), not a copy: caller data is not duplicated, but an
event altered behind the program's back no longer matches its entry.

Appends are serialised so the chain never forks: on SQLite every write transaction
already holds the write lock (``BEGIN IMMEDIATE``); on PostgreSQL ``lock_history``
takes a transaction-scoped advisory lock, held until commit. The same lock orders
report events (see ``events.append_event``), so event ids become visible in id order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.db import Database, DriverStatement
from siaga_tui.core.models import AUDIT, EVENT
from siaga_tui.core.timeutil import Clock, as_utc, system_clock

GENESIS: Final = "0" * 64
#: The PostgreSQL advisory lock key that serialises history appends (events and audit).
HISTORY_LOCK_KEY: Final = 112_005
#: How many rows ``verify`` reads per round trip.
VERIFY_BATCH: Final = 2_000


class Action:
    """The actions the audit log records (``report.<event kind>`` for report events)."""

    SIGN_IN = "signin"
    SIGN_IN_FAILED = "signin.failed"
    SIGN_IN_LOCKED = "signin.locked"
    REFUSED = "permission.refused"
    EXPORT_PERSONAL = "export.personal_data"
    ACCOUNT_ADDED = "account.added"
    ACCOUNT_DISABLED = "account.disabled"
    ACCOUNT_PASSWORD = "account.password"
    HANDOVER_CREATED = "handover.created"
    HANDOVER_ACKNOWLEDGED = "handover.acknowledged"
    REPORT_PREFIX = "report."


@dataclass(frozen=True, slots=True)
class AuditView:
    id: int
    at: datetime
    operator: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The newest entry: its number and hash (GENESIS and 0 for an empty log)."""

    id: int
    hash: str


@dataclass(frozen=True, slots=True)
class Verification:
    """The result of checking the chain: how many entries, and the first broken one."""

    checked: int
    head: AuditHead
    broken_id: int | None = None
    problem: str | None = None  # message key saying what is wrong

    @property
    def ok(self) -> bool:
        return self.broken_id is None


# --- Writing ---------------------------------------------------------------------------


def lock_history(conn: Connection) -> None:
    """Serialise history appends until this transaction ends (PostgreSQL; SQLite's
    ``BEGIN IMMEDIATE`` already holds the write lock). Taking it twice is harmless."""
    if conn.dialect.name == "postgresql":
        _LOCK.execute(conn, {"key": HISTORY_LOCK_KEY})


_LOCK: Final = DriverStatement(sa.text("SELECT pg_advisory_xact_lock(:key)"))
_LAST = sa.select(AUDIT.c.id, AUDIT.c.hash).order_by(AUDIT.c.id.desc()).limit(1)
# The append runs on every save: straight on the driver's cursor (see DriverStatement).
_LAST_ON_DRIVER: Final = DriverStatement(_LAST)
_INSERT: Final = DriverStatement(
    sa.insert(AUDIT),
    ["id", "at", "operator", "action", "subject", "details", "prev_hash", "hash"],
)


def append_audit(
    conn: Connection,
    *,
    at: datetime,
    operator: str,
    action: str,
    subject: str = "",
    details: dict[str, Any] | None = None,
    locked: bool = False,
) -> AuditHead:
    """Append one entry in the caller's transaction; returns the new head.

    ``locked``: the caller already holds the history lock (saves a round trip).
    """
    if not locked:
        lock_history(conn)
    last = _LAST_ON_DRIVER.first(conn)
    entry_id = int(last[0]) + 1 if last else 1
    prev_hash = str(last[1]) if last else GENESIS
    values = {
        "id": entry_id,
        "at": as_utc(at),
        "operator": operator[:64],
        "action": action[:40],
        "subject": subject[:120],
        "details": jsonable(details or {}),
        "prev_hash": prev_hash,
    }
    values["hash"] = entry_hash(values)
    _INSERT.execute(conn, values)
    return AuditHead(id=entry_id, hash=values["hash"])


def record(
    db: Database,
    *,
    operator: str,
    action: str,
    subject: str = "",
    details: dict[str, Any] | None = None,
    clock: Clock = system_clock,
) -> AuditHead:
    """Append one entry in its own transaction (refusals, sign-ins: nothing else changes)."""
    with db.write() as conn:
        return append_audit(
            conn, at=clock(), operator=operator, action=action, subject=subject, details=details
        )


# --- Hashing ---------------------------------------------------------------------------


def canonical(value: Any) -> str:
    """One fixed text for a value: sorted keys, no spaces, UTF-8, times in UTC ISO 8601."""
    return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def jsonable(value: Any) -> Any:
    """The value as JSON types, with datetimes as UTC ISO text (what is stored is hashed)."""
    if type(value) in _PLAIN:  # most values: no walk
        return value
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="microseconds")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


_PLAIN: Final = frozenset({str, int, type(None), bool, float})


def entry_hash(entry: Any) -> str:
    """SHA-256 of an entry's fields and the previous hash."""
    return _sha256_of(
        {
            "id": int(entry["id"]),
            "at": entry["at"],
            "operator": entry["operator"],
            "action": entry["action"],
            "subject": entry["subject"],
            "details": entry["details"],
            "prev_hash": entry["prev_hash"],
        }
    )


def event_digest(event: Any) -> str:
    """SHA-256 of one report event row, as the audit entry for it records."""
    return _sha256_of(
        {
            "id": int(event["id"]),
            "report_id": int(event["report_id"]),
            "kind": event["kind"],
            "operator": event["operator"],
            "at": event["at"],
            "details": event["details"],
        }
    )


def _sha256_of(fields: dict[str, Any]) -> str:
    """SHA-256 of ``canonical(fields)``, computed without walking JSON-ready details.

    Stored details are JSON already (they went through ``jsonable`` on the way in, or
    come back from the database), so only the time needs converting, and ``canonical``
    would return the same text; anything else takes the full walk.
    """
    at = fields["at"]
    if isinstance(at, datetime):
        fields["at"] = as_utc(at).isoformat(timespec="microseconds")
    try:
        text = _DUMPS(fields)
    except TypeError:  # not JSON-ready (a time or set inside the details)
        text = canonical(fields)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_DUMPS: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


# --- Reading ---------------------------------------------------------------------------


def audit_head(db: Database) -> AuditHead:
    """The newest entry's number and hash: printed on handovers and statistics exports."""
    with db.read() as conn:
        row = conn.execute(_LAST).first()
    return AuditHead(id=int(row[0]), hash=str(row[1])) if row else AuditHead(0, GENESIS)


def audit_head_line(db: Database, lang: str | None = None) -> str:
    """``Audit log head: #123 3f2a…`` in the reader's language, for printed output."""
    from siaga_tui.core.i18n import translate

    head = audit_head(db)
    return translate("audit_head_line", lang, id=head.id, hash=head.hash)


def list_entries(
    db: Database,
    *,
    operator: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[AuditView]:
    """The newest entries matching the filters, oldest first. ``action`` matches a
    whole action or a prefix ending in a dot (``report.`` for every report event)."""
    query = sa.select(AUDIT)
    if operator:
        query = query.where(AUDIT.c.operator == operator)
    if action:
        if action.endswith("."):
            query = query.where(AUDIT.c.action.startswith(action, autoescape=True))
        else:
            query = query.where(AUDIT.c.action == action)
    if since is not None:
        query = query.where(AUDIT.c.at >= as_utc(since))
    if until is not None:
        query = query.where(AUDIT.c.at < as_utc(until))
    query = query.order_by(AUDIT.c.id.desc()).limit(limit)
    with db.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [_view(row) for row in reversed(rows)]


def _view(row: Any) -> AuditView:
    return AuditView(
        id=int(row["id"]),
        at=as_utc(row["at"]),
        operator=row["operator"],
        action=row["action"],
        subject=row["subject"],
        details=dict(row["details"] or {}),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def verify(db: Database) -> Verification:
    """Walk the whole chain in order; report the first entry that does not hold.

    Checked: ids count up by one from 1, each ``prev_hash`` is the previous entry's
    hash, each ``hash`` is recomputed, each report entry's event still exists with
    the same digest, and no report event written since the log began lacks an entry.
    Reads in batches, so memory stays flat on a large log.
    """
    checked = 0
    prev = AuditHead(0, GENESIS)
    first_event: int | None = None
    with db.read() as conn:
        events = _batched(conn, EVENT)
        pending = next(events, None)
        for row in _batched(conn, AUDIT):
            checked += 1
            problem = _entry_problem(row, prev)
            event_id = (
                row["details"].get("event_id")
                if row["action"].startswith(Action.REPORT_PREFIX)
                else None
            )
            if problem is None and event_id is not None:
                first_event = event_id if first_event is None else first_event
                while pending is not None and pending["id"] < event_id:
                    if pending["id"] >= first_event:
                        return Verification(
                            checked, prev, int(row["id"]), "audit_broken_unlogged_event"
                        )
                    pending = next(events, None)
                if pending is None or pending["id"] != event_id:
                    problem = "audit_broken_event_missing"
                elif event_digest(pending) != row["details"].get("event_sha256"):
                    problem = "audit_broken_event_changed"
                else:
                    pending = next(events, None)
            if problem is not None:
                return Verification(checked, prev, int(row["id"]), problem)
            prev = AuditHead(int(row["id"]), row["hash"])
        if pending is not None and first_event is not None:
            return Verification(checked, prev, prev.id + 1, "audit_broken_unlogged_event")
    return Verification(checked, prev)


def _entry_problem(row: Any, prev: AuditHead) -> str | None:
    if int(row["id"]) != prev.id + 1:
        return "audit_broken_gap"
    if row["prev_hash"] != prev.hash:
        return "audit_broken_link"
    if entry_hash({**row, "at": as_utc(row["at"])}) != row["hash"]:
        return "audit_broken_hash"
    return None


def _batched(conn: Connection, table: sa.Table) -> Iterator[Any]:
    """Every row of ``table`` in id order, a batch at a time (keyset paging)."""
    last = 0
    while True:
        rows = (
            conn.execute(
                sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(VERIFY_BATCH)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        yield from rows
        last = int(rows[-1]["id"])
