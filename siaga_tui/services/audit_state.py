"""What the audit log covers of the tables: the state each entry produced, by digest.

Each audit entry names the rows its transaction wrote (a report, its call, a referral,
an account) and a keyed digest of each row as it stood at commit. ``audit verify``
recomputes the digest of every row in these tables and compares it with the newest
one the log holds for that row: a row changed behind the program's back, a row that
appears in no entry, and a row the log knows but the table lost are each a finding.

The digest covers the columns declared in ``STATE_COLUMNS``, nothing else. **Adding a
column to a table** is a deliberate one-line change here: append its name, or
``(name, neutral)`` when the migration fills existing rows with a value other than
NULL (``("archived", False)``). A column whose value is NULL, or its declared neutral
value, is left out of the digest, so every digest recorded before the column existed
still matches, and setting the column through another tool is caught from then on.
Columns left out on purpose are listed in ``NOT_COVERED`` with the reason; a test
checks that every column of these tables is in one list or the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from siaga_tui.core.models import (
    CALL,
    INTERVALS,
    OPERATOR,
    OPERATOR_SESSION,
    REFERRAL,
    REPORT,
    interval_column_name,
)
from siaga_tui.core.timeutil import as_utc
from siaga_tui.services.audit_key import AuditKey

Column = str | tuple[str, Any]

#: The columns each covered table's digest is computed from (see the module docstring).
STATE_COLUMNS: Final[dict[str, tuple[Column, ...]]] = {
    "report": (
        "number",
        "year",
        "seq",
        "category",
        "kind",
        "priority",
        "status",
        "queue_rank",
        "caller_phone",
        "caller_name",
        "kelurahan_code",
        "kecamatan_code",
        "address",
        "description",
        "operator",
        "created_at",
        "updated_at",
        "version",
        "duplicate_of",
        "call_answered_at",
        "first_forwarded_at",
        "first_acknowledged_at",
        "closed_at",
        "import_key",
        ("archived", False),
    ),
    "call": (
        "answered_at",
        "caller_phone",
        "disposition",
        "operator",
        "note",
        "report_id",
        "caller_name",
        "address",
        "description",
    ),
    "referral": (
        "report_id",
        "agency",
        "forwarded_at",
        "forwarded_by",
        "channel",
        "agency_ref",
        "acknowledged_at",
        "acknowledged_by",
        "outcome",
    ),
    "operator": ("username", "display_name", "role", "active", "password_hash", "created_at"),
    # A sign-in session: a row added or ended behind the program's back (a forged
    # session signs someone in) is a finding.
    "operator_session": (
        "token_hash",
        "operator_id",
        "scope",
        "label",
        "created_at",
        "expires_at",
        "ended_at",
        "ended_by",
    ),
}

#: Columns of the covered tables the digest leaves out, and why.
NOT_COVERED: Final[dict[str, dict[str, str]]] = {
    "report": {
        interval_column_name(name): "worked out by the database from moments the digest"
        " covers; audit verify checks that each still matches them"
        for name in INTERVALS
    },
    "operator": {
        "failed_attempts": "the lock-out counter changes on wrong passwords; each is audited",
        "locked_until": "the lock-out's end; the lock-out itself is audited",
    },
}

TABLES: Final = {
    "report": REPORT,
    "call": CALL,
    "referral": REFERRAL,
    "operator": OPERATOR,
    "operator_session": OPERATOR_SESSION,
}
#: Hex digits of a row digest kept in the entry (128 bits under the key).
DIGEST_CHARS: Final = 32


def _names(table: str) -> list[str]:
    return [c if isinstance(c, str) else c[0] for c in STATE_COLUMNS[table]]


def _neutral(table: str) -> dict[str, Any]:
    return {c[0]: c[1] for c in STATE_COLUMNS[table] if not isinstance(c, str)}


class _Reader:
    """Reads covered rows as the driver returns them. The write path and ``verify`` read
    the same way, so a digest compares what is stored, on each engine, without the
    cost of turning every value into Python types (SQLite's times stay the text it
    stores); a time the driver does return as a datetime (PostgreSQL) is taken in UTC,
    so a workstation's session time zone does not change the digest."""

    def __init__(self, table: str) -> None:
        self.table = table
        columns = TABLES[table].c
        self.names = _names(table)
        self.neutral = _neutral(table)
        self._columns = [columns.id, *(columns[name] for name in self.names)]
        self._by_id: dict[Dialect, str] = {}

    def by_id_sql(self, dialect: Dialect) -> str:
        found = self._by_id.get(dialect)
        if found is None:
            query = sa.select(*self._columns).where(self._columns[0] == sa.bindparam("id"))
            found = str(query.compile(dialect=dialect))
            self._by_id[dialect] = found
        return found

    def values(self, raw: Any) -> tuple[int, dict[str, Any]]:
        fields: dict[str, Any] = {}
        neutral = self.neutral
        for name, value in zip(self.names, raw[1:], strict=True):
            if value is None or (neutral and name in neutral and value == neutral[name]):
                continue
            if isinstance(value, datetime):
                value = as_utc(value).isoformat(timespec="microseconds")  # noqa: PLW2901
            fields[name] = value
        return int(raw[0]), fields


_READERS: Final = {table: _Reader(table) for table in STATE_COLUMNS}


def row_digest(key: AuditKey, table: str, row_id: int, fields: dict[str, Any]) -> str:
    text = json.dumps(
        {"table": table, "id": row_id, **fields},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return key.mac(text.encode("utf-8"))[:DIGEST_CHARS]


def current_states(
    conn: Connection, key: AuditKey, rows: Iterable[tuple[str, int]]
) -> dict[str, dict[str, str]]:
    """``{table: {row id: digest}}`` of the named rows as they are now, in ``conn``'s
    transaction (a row that does not exist is left out). Runs on the driver's cursor:
    this is on the save path (see ``core.db.DriverStatement``)."""
    dialect = conn.dialect
    out: dict[str, dict[str, str]] = {}
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None
    cursor = dbapi_connection.cursor()
    try:
        for table, row_id in dict.fromkeys(rows):
            reader = _READERS[table]
            sql = reader.by_id_sql(dialect)
            if dialect.paramstyle in ("qmark", "numeric"):
                cursor.execute(sql, (row_id,))
            else:
                cursor.execute(sql, {"id": row_id})
            raw = cursor.fetchone()
            if raw is None:
                continue
            found_id, fields = reader.values(raw)
            out.setdefault(table, {})[str(found_id)] = row_digest(key, table, found_id, fields)
    finally:
        cursor.close()
    return out


def every_row(
    conn: Connection, table: str, batch: int = 2_000
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every row of a covered table in id order, as (id, digested fields), in batches."""
    reader = _READERS[table]
    dialect = conn.dialect
    columns = reader._columns
    last = 0
    while True:
        query = sa.select(*columns).where(columns[0] > last).order_by(columns[0]).limit(batch)
        compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        rows = conn.exec_driver_sql(str(compiled)).fetchall()
        if not rows:
            return
        for raw in rows:
            yield reader.values(raw)
        last = int(rows[-1][0])


def all_row_ids(conn: Connection, table: str) -> list[int]:
    column = TABLES[table].c.id
    return [int(r[0]) for r in conn.execute(sa.select(column).order_by(column))]
