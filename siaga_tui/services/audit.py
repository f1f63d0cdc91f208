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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.db import Database, DriverStatement
from siaga_tui.core.models import (
    AUDIT,
    EVENT,
    HANDOVER,
    INTERVALS,
    NUMBER_SEQUENCE,
    OPERATOR,
    REPORT,
    SecondsBetween,
    interval_column_name,
)
from siaga_tui.core.timeutil import Clock, as_utc, system_clock
from siaga_tui.services import audit_state
from siaga_tui.services.audit_key import AuditKey, already_signed, load_key, remember_signed

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
    CALL_LOGGED = "call.logged"
    #: The state of rows written before the log was signed, or in bulk (imported calls).
    ROWS_RECORDED = "audit.rows"
    SESSION_STARTED = "session.started"
    SESSION_ENDED = "session.ended"
    SESSION_REVOKED = "session.revoked"
    IMPORTED = "import.file"
    REPORT_PREFIX = "report."


#: Actions whose subject is an account name and which may change that account's row:
#: the row's state goes into the entry without the caller naming it.
ACCOUNT_ACTIONS: Final = frozenset(
    {
        Action.SIGN_IN,
        Action.SIGN_IN_FAILED,
        Action.SIGN_IN_LOCKED,
        Action.ACCOUNT_ADDED,
        Action.ACCOUNT_DISABLED,
        Action.ACCOUNT_PASSWORD,
    }
)
#: Keys of ``details`` the log itself sets: the signing key's id and the rows' states.
KEY_FIELD: Final = "key"
STATE_FIELD: Final = "state"
#: Rows per ``audit.rows`` entry.
ROWS_PER_ENTRY: Final = 500


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
class Finding:
    """One thing ``verify`` found wrong: a message key, and the entry or row it concerns."""

    problem: str  # message key
    entry: int | None = None
    table: str | None = None
    row: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Verification:
    """The result of checking the log: how many entries and rows, and every finding."""

    checked: int
    head: AuditHead
    findings: tuple[Finding, ...] = ()
    rows_checked: int = 0
    signed: int = 0
    key_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def broken_id(self) -> int | None:
        """The first entry a finding names (None when the log holds or only rows differ)."""
        return next((f.entry for f in self.findings if f.entry is not None), None)

    @property
    def problem(self) -> str | None:
        """The first finding's message key."""
        return self.findings[0].problem if self.findings else None


# --- Writing ---------------------------------------------------------------------------


def lock_history(conn: Connection) -> None:
    """Serialise history appends until this transaction ends (PostgreSQL; SQLite's
    ``BEGIN IMMEDIATE`` already holds the write lock). Taking it twice is harmless."""
    if conn.dialect.name == "postgresql":
        _LOCK.execute(conn, {"key": HISTORY_LOCK_KEY})


_LOCK: Final = DriverStatement(sa.text("SELECT pg_advisory_xact_lock(:key)"))
_LAST = sa.select(AUDIT.c.id, AUDIT.c.hash).order_by(AUDIT.c.id.desc()).limit(1)
# The append runs on every save: straight on the driver's cursor (see DriverStatement).
_LAST_ON_DRIVER: Final = DriverStatement(
    sa.select(AUDIT.c.id, AUDIT.c.hash, AUDIT.c.details).order_by(AUDIT.c.id.desc()).limit(1)
)
_OPERATOR_ID: Final = DriverStatement(
    sa.select(OPERATOR.c.id).where(OPERATOR.c.username == sa.bindparam("username"))
)
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
    rows: Iterable[tuple[str, int]] = (),
) -> AuditHead:
    """Append one signed entry in the caller's transaction; returns the new head.

    ``rows``: the ``(table, id)`` rows of ``audit_state.STATE_COLUMNS`` this transaction
    wrote; the entry records each one's digest as it stands now (call this after the
    writes). An account action's row is found from its subject. ``locked``: the caller
    already holds the history lock (saves a round trip).
    """
    if not locked:
        lock_history(conn)
    key = load_key(create=True)
    assert key is not None
    last = _LAST_ON_DRIVER.first(conn)
    if last is not None and not _is_signed(last[2]):
        last = _start_signing(conn, key, at, int(last[0]), str(last[1]))
    named = list(rows)
    if action in ACCOUNT_ACTIONS and subject:
        found = _OPERATOR_ID.first(conn, {"username": subject[:64]})
        if found is not None:
            named.append(("operator", int(found[0])))
    extra: dict[str, Any] = {KEY_FIELD: key.id}
    if named:
        extra[STATE_FIELD] = audit_state.current_states(conn, key, named)
    return _insert_entry(
        conn,
        key,
        last[:2] if last else None,
        at=at,
        operator=operator,
        action=action,
        subject=subject,
        details={**jsonable(details or {}), **extra},
    )


def _insert_entry(
    conn: Connection,
    key: AuditKey,
    last: Any,
    *,
    at: datetime,
    operator: str,
    action: str,
    subject: str,
    details: dict[str, Any],
) -> AuditHead:
    entry_id = int(last[0]) + 1 if last else 1
    prev_hash = str(last[1]) if last else GENESIS
    values = {
        "id": entry_id,
        "at": as_utc(at),
        "operator": operator[:64],
        "action": action[:40],
        "subject": subject[:120],
        "details": details,
        "prev_hash": prev_hash,
    }
    digest = entry_hash(values, key)
    values["hash"] = digest
    _INSERT.execute(conn, values)
    return AuditHead(id=entry_id, hash=digest)


def _is_signed(details: Any) -> bool:
    if isinstance(details, str | bytes):
        try:
            details = json.loads(details)
        except ValueError:
            return False
    return isinstance(details, dict) and KEY_FIELD in details


def _start_signing(
    conn: Connection, key: AuditKey, at: datetime, last_id: int, last_hash: str
) -> tuple[int, str]:
    """The log so far was written before entries were signed (an older version): record
    the state of every covered row in signed ``audit.rows`` entries, once, so the rows
    are covered from now on. A log cut back to an unsigned head this key has already
    signed from is not adopted again: its rows stay findings."""
    head: tuple[int, str] = (last_id, last_hash)
    if already_signed(key, last_hash):
        return head
    remember_signed(key, last_hash)
    for table in audit_state.STATE_COLUMNS:
        ids = audit_state.all_row_ids(conn, table)
        for start in range(0, len(ids), ROWS_PER_ENTRY):
            chunk = [(table, i) for i in ids[start : start + ROWS_PER_ENTRY]]
            new = _insert_entry(
                conn,
                key,
                head,
                at=at,
                operator="siaga112",
                action=Action.ROWS_RECORDED,
                subject=table,
                details={
                    "reason": "signing_started",
                    KEY_FIELD: key.id,
                    STATE_FIELD: audit_state.current_states(conn, key, chunk),
                },
            )
            head = (new.id, new.hash)
    return head


def record_rows(
    conn: Connection, *, at: datetime, operator: str, reason: str, rows: list[tuple[str, int]]
) -> None:
    """Record the state of rows written in bulk (imported calls), a chunk per entry,
    in the caller's transaction."""
    if not rows:
        return
    lock_history(conn)
    for start in range(0, len(rows), ROWS_PER_ENTRY):
        chunk = rows[start : start + ROWS_PER_ENTRY]
        append_audit(
            conn, at=at, operator=operator, action=Action.ROWS_RECORDED,
            subject=chunk[0][0], details={"reason": reason}, rows=chunk, locked=True,
        )  # fmt: skip


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


def entry_hash(entry: Any, key: AuditKey | None = None) -> str:
    """The hash of an entry's fields and the previous hash: HMAC-SHA256 under the audit
    key for a signed entry, plain SHA-256 for one written before entries were signed."""
    return _sha256_of(
        {
            "id": int(entry["id"]),
            "at": entry["at"],
            "operator": entry["operator"],
            "action": entry["action"],
            "subject": entry["subject"],
            "details": entry["details"],
            "prev_hash": entry["prev_hash"],
        },
        key,
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


def _sha256_of(fields: dict[str, Any], key: AuditKey | None = None) -> str:
    """SHA-256 (HMAC under ``key`` if given) of ``canonical(fields)``, computed without
    walking JSON-ready details.

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
    if key is not None:
        return key.mac(text.encode("utf-8"))
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


def verify(db: Database, *, head: str | None = None) -> Verification:
    """Check the whole log and the tables it covers; every finding names its entry or row.

    Checked, in one pass over the log: ids count up by one from 1, each ``prev_hash`` is
    the previous entry's hash, each hash is recomputed (under the audit key once entries
    are signed; an unsigned entry after a signed one is a forgery), each report entry's
    event still exists with the same digest, and no report event lacks an entry. Then
    every row of the covered tables (``audit_state.STATE_COLUMNS``) is compared with
    the newest state the log recorded for it; every report number given out must still
    have its report; every handover's recorded head, and ``head`` (a hash noted on
    paper, at least 12 hex digits of it), must be in the log.
    Reads in batches; memory holds one digest per covered row.
    """
    key = load_key(create=False)
    findings: list[Finding] = []
    states: dict[str, dict[int, str]] = {table: {} for table in audit_state.STATE_COLUMNS}
    hashes_seen = _HeadSearch([head] if head else [])
    checked = signed = rows_checked = 0
    prev = AuditHead(0, GENESIS)
    first_event: int | None = None
    signing = False
    with db.read() as conn:
        handover_heads = [
            (int(r[0]), str(r[1]))
            for r in conn.execute(sa.select(HANDOVER.c.id, HANDOVER.c.audit_head))
        ]
        hashes_seen.add_wanted(h for _, h in handover_heads)
        events = _batched(conn, EVENT)
        pending = next(events, None)
        for row in _batched(conn, AUDIT):
            checked += 1
            entry_id = int(row["id"])
            details = row["details"] if isinstance(row["details"], dict) else {}
            entry_key = details.get(KEY_FIELD)
            problem = _link_problem(row, prev)
            if problem is not None:
                findings.append(Finding(problem, entry=entry_id, detail=str(prev.id)))
            intact = True
            if entry_key is None:
                if signing:
                    findings.append(Finding("audit_broken_unsigned", entry=entry_id))
                    intact = False
                elif entry_hash({**row, "at": as_utc(row["at"])}) != row["hash"]:
                    findings.append(Finding("audit_broken_hash", entry=entry_id))
                    intact = False
            else:
                signing = True
                signed += 1
                if key is None:
                    if not any(f.problem == "audit_key_missing" for f in findings):
                        findings.append(
                            Finding("audit_key_missing", entry=entry_id, detail=str(entry_key))
                        )
                    intact = False
                elif entry_key != key.id:
                    findings.append(
                        Finding("audit_key_other", entry=entry_id, detail=str(entry_key))
                    )
                    intact = False
                elif entry_hash({**row, "at": as_utc(row["at"])}, key) != row["hash"]:
                    findings.append(Finding("audit_broken_hash", entry=entry_id))
                    intact = False
            hashes_seen.saw(entry_id, str(row["hash"]))
            if intact:
                for table, digests in (details.get(STATE_FIELD) or {}).items():
                    if table in states and isinstance(digests, dict):
                        for row_id, digest in digests.items():
                            states[table][int(row_id)] = str(digest)
            event_id = (
                details.get("event_id") if row["action"].startswith(Action.REPORT_PREFIX) else None
            )
            if event_id is not None:
                first_event = event_id if first_event is None else first_event
                while pending is not None and pending["id"] < event_id:
                    if pending["id"] >= first_event:
                        findings.append(
                            Finding(
                                "audit_broken_unlogged_event",
                                entry=entry_id,
                                table="report_event",
                                row=int(pending["id"]),
                            )
                        )
                    pending = next(events, None)
                if pending is None or pending["id"] != event_id:
                    findings.append(
                        Finding(
                            "audit_broken_event_missing",
                            entry=entry_id,
                            table="report_event",
                            row=int(event_id),
                        )
                    )
                elif event_digest(pending) != details.get("event_sha256"):
                    findings.append(
                        Finding(
                            "audit_broken_event_changed",
                            entry=entry_id,
                            table="report_event",
                            row=int(event_id),
                        )
                    )
                    pending = next(events, None)
                else:
                    pending = next(events, None)
            prev = AuditHead(entry_id, str(row["hash"]))
        while pending is not None and first_event is not None:
            findings.append(
                Finding("audit_broken_unlogged_event", table="report_event", row=int(pending["id"]))
            )
            pending = next(events, None)
        if checked and not signing:
            # Written before entries were signed: there is no recorded state to compare,
            # unless this key signed a continuation of this very log that is now gone.
            if key is not None and already_signed(key, prev.hash):
                findings.append(Finding("audit_signed_part_missing", entry=prev.id))
        elif key is not None or not signing:
            rows_checked = _check_rows(conn, key, states, findings)
        _check_numbers(conn, findings)
        _check_intervals(conn, findings)
    for handover_id, wanted in handover_heads:
        if wanted != GENESIS and not hashes_seen.found(wanted):
            findings.append(
                Finding(
                    "audit_handover_head_missing", table="handover", row=handover_id, detail=wanted
                )
            )
    if head is not None and not hashes_seen.found(head):
        findings.append(Finding("audit_paper_head_missing", detail=head))
    return Verification(
        checked,
        prev,
        tuple(findings),
        rows_checked=rows_checked,
        signed=signed,
        key_id=key.id if key else None,
    )


class _HeadSearch:
    """Which of some wanted hashes (or hash prefixes, as noted on paper) the log holds."""

    def __init__(self, wanted: Iterable[str]) -> None:
        self._wanted: dict[str, bool] = {}
        self.add_wanted(wanted)

    def add_wanted(self, wanted: Iterable[str]) -> None:
        for text in wanted:
            self._wanted.setdefault(text.lower(), False)

    def saw(self, entry_id: int, digest: str) -> None:
        if not self._wanted:
            return
        for text in self._wanted:
            if not self._wanted[text] and digest.startswith(text):
                self._wanted[text] = True

    def found(self, text: str) -> bool:
        return self._wanted.get(text.lower(), False)


def _check_rows(
    conn: Connection,
    key: AuditKey | None,
    states: dict[str, dict[int, str]],
    findings: list[Finding],
) -> int:
    """Compare every covered row with the newest state the log recorded for it."""
    checked = 0
    for table, recorded in states.items():
        for row_id, fields in audit_state.every_row(conn, table):
            checked += 1
            digest = recorded.pop(row_id, None)
            if digest is None:
                findings.append(Finding("audit_row_unlogged", table=table, row=row_id))
            elif key is None or audit_state.row_digest(key, table, row_id, fields) != digest:
                findings.append(Finding("audit_row_changed", table=table, row=row_id))
        for row_id in sorted(recorded):
            findings.append(Finding("audit_row_deleted", table=table, row=row_id))
    return checked


def _check_intervals(conn: Connection, findings: list[Finding]) -> None:
    """Each report's stored interval seconds against its moments.

    The database works them out from the moments, which the digests cover, so they are
    not in the digests; but someone with the file could rebuild the table with plain
    columns and write other seconds there, which the statistics would then show.
    """
    differs = [
        REPORT.c[interval_column_name(name)].is_distinct_from(
            SecondsBetween(REPORT.c[start], REPORT.c[end])
        )
        for name, (start, end) in INTERVALS.items()
    ]
    query = (  # one pass over the reports for all four
        sa.select(REPORT.c.id, *differs)
        .where(sa.or_(*differs))
        .order_by(REPORT.c.id)
        .limit(VERIFY_BATCH)
    )
    for report_id, *wrong in conn.execute(query):
        for name, is_wrong in zip(INTERVALS, wrong, strict=True):
            if is_wrong:
                findings.append(
                    Finding("audit_interval_forged", table="report", row=report_id, detail=name)
                )


def _check_numbers(conn: Connection, findings: list[Finding]) -> None:
    """Every report number given out must still have its report (none deleted)."""
    given = conn.execute(sa.select(NUMBER_SEQUENCE.c.year, NUMBER_SEQUENCE.c.last_value)).all()
    for year, last in given:
        present = {
            int(r[0]) for r in conn.execute(sa.select(REPORT.c.seq).where(REPORT.c.year == year))
        }
        missing = [seq for seq in range(1, int(last) + 1) if seq not in present]
        if missing:
            shown = ", ".join(f"112-{year}-{seq:06d}" for seq in missing[:10])
            more = f" (+{len(missing) - 10})" if len(missing) > 10 else ""
            findings.append(Finding("audit_numbers_missing", table="report", detail=shown + more))


def _link_problem(row: Any, prev: AuditHead) -> str | None:
    if int(row["id"]) != prev.id + 1:
        return "audit_broken_gap"
    if row["prev_hash"] != prev.hash:
        return "audit_broken_link"
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
