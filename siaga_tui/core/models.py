"""The data model: calls, reports, referrals, the event history and operators.

SQLAlchemy Core tables define the schema, and the services use them with Core, which
keeps the write path lean and lets no ORM object cross threads. (They were SQLModel
classes; nothing used the classes but their tables, and importing SQLModel, pydantic
and the ORM cost the console a third of a second at every start: benchmarks, B1.)
The schema itself is created and changed only by the Alembic migrations in
``siaga_tui/migrations``; a test checks that a migrated database equals these models.

Every index here serves a named hot query; each is checked with ``EXPLAIN QUERY PLAN``
in ``tests/test_query_plans.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores UTC, returns aware UTC datetimes on every engine.

    SQLite has no time zones: values are stored as naive UTC text. PostgreSQL gets
    ``timestamptz``. Naive values given to the database are refused, because a naive
    local time stored as UTC is an eight-hour error nobody notices.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Kind(StrEnum):
    """Emergency (kedaruratan) or non-emergency (non kedaruratan)."""

    DARURAT = "darurat"
    NON_DARURAT = "non_darurat"


class Status(StrEnum):
    MENUNGGU = "menunggu"  # recorded, not yet taken up by an agency
    DITANGANI = "ditangani"  # forwarded, being handled
    SELESAI = "selesai"  # done, ticket closed


class Disposition(StrEnum):
    """What an answered call turned out to be."""

    LAPORAN = "laporan"  # became or joined a report
    ISENG = "iseng"  # prank
    HENING = "hening"  # silent / ghost call
    INFORMASI = "informasi"  # information request
    SALAH_SAMBUNG = "salah_sambung"  # wrong number


NON_REPORT_DISPOSITIONS: Final = (
    Disposition.ISENG,
    Disposition.HENING,
    Disposition.INFORMASI,
    Disposition.SALAH_SAMBUNG,
)


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"


class EventKind(StrEnum):
    CREATED = "created"
    CALL_ATTACHED = "call_attached"
    STATUS_CHANGED = "status_changed"
    FORWARDED = "forwarded"
    ACKNOWLEDGED = "acknowledged"
    NOTE_ADDED = "note_added"
    DUPLICATE_LINKED = "duplicate_linked"
    REOPENED = "reopened"


class Channel(StrEnum):
    """How a report was forwarded to an agency."""

    TELEPON = "telepon"
    RADIO = "radio"
    WHATSAPP = "whatsapp"
    APLIKASI = "aplikasi"
    LANGSUNG = "langsung"  # in person / liaison officer in the command center


def queue_rank(kind: str, status: str) -> int:
    """Position class in the operators' queue: emergencies waiting first.

    0 emergency waiting, 1 emergency in handling, 2 non-emergency waiting,
    3 non-emergency in handling; closed reports are not in the queue at all.
    """
    emergency = 0 if kind == Kind.DARURAT else 2
    return emergency + (0 if status == Status.MENUNGGU else 1)


metadata: Final = sa.MetaData()
#: The partial index's condition: reports not yet closed.
OPEN_QUEUE_WHERE: Final = sa.text("status != 'selesai'")


def _text(name: str, length: int, *, nullable: bool = False, **kwargs: object) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable, **kwargs)  # type: ignore[arg-type]


def _moment(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _report_id(*, nullable: bool = False) -> sa.Column[int]:
    return sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id"), nullable=nullable)


OPERATOR: Final = sa.Table(
    "operator",
    metadata,
    _id(),
    _text("username", 64, unique=True),
    _text("display_name", 120),
    _text("role", 16, default=Role.OPERATOR),
    sa.Column("active", sa.Boolean(), nullable=False, default=True),
    _text("password_hash", 255, nullable=True),
    sa.Column("failed_attempts", sa.Integer(), nullable=False, default=0),
    _moment("locked_until", nullable=True),
    _moment("created_at"),
)

REPORT: Final = sa.Table(
    "report",
    metadata,
    _id(),
    _text("number", 32, unique=True),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    _text("category", 40),
    _text("kind", 16),
    sa.Column("priority", sa.Integer(), nullable=False),
    _text("status", 16, default=Status.MENUNGGU),
    sa.Column("queue_rank", sa.Integer(), nullable=False),
    _text("caller_phone", 32, nullable=True),
    _text("caller_name", 120, nullable=True),
    _text("kelurahan_code", 16),
    _text("kecamatan_code", 16),
    _text("address", 300, default=""),
    _text("description", 8000, default=""),
    _text("operator", 64),
    _moment("created_at"),
    _moment("updated_at"),
    sa.Column("version", sa.Integer(), nullable=False, default=1),
    sa.Column("duplicate_of", sa.Integer(), sa.ForeignKey("report.id"), nullable=True),
    # Lifecycle moments, for the intervals the statistics report.
    _moment("call_answered_at", nullable=True),
    _moment("first_forwarded_at", nullable=True),
    _moment("first_acknowledged_at", nullable=True),
    _moment("closed_at", nullable=True),
    # Set for rows that came from `siaga112 import`, so the same file twice adds nothing.
    _text("import_key", 64, nullable=True, unique=True),
    sa.UniqueConstraint("year", "seq", name="uq_report_year_seq"),
    # The live queue: open reports, most urgent first. A partial index, because
    # SQLite cannot use (status, created_at) for "status != 'selesai'" (a full
    # scan at 1 M rows: 570 ms against 0.45 ms).
    # Its PostgreSQL twin of ``sqlite_where`` is added by ``schema_metadata()``.
    sa.Index(
        "ix_report_open_queue",
        "queue_rank",
        "created_at",
        "id",
        sqlite_where=OPEN_QUEUE_WHERE,
    ),
    # Statistics over all time: GROUP BY category, status without the table.
    sa.Index("ix_report_category_status", "category", "status"),
    # Statistics for a period: covering the columns they group on.
    sa.Index("ix_report_created_stats", "created_at", "kind", "category", "status"),
    # A caller's history while the phone is typed.
    sa.Index("ix_report_caller_phone", "caller_phone", "created_at"),
    # Duplicate check: the same category in the same kelurahan in the last hour.
    sa.Index("ix_report_place_category", "kelurahan_code", "category", "created_at"),
)

CALL: Final = sa.Table(
    "call",
    metadata,
    _id(),
    _moment("answered_at"),
    _text("caller_phone", 32, nullable=True),
    _text("disposition", 16),
    _text("operator", 64),
    _text("note", 2000, nullable=True),
    _report_id(nullable=True),
    sa.Index("ix_call_phone", "caller_phone", "answered_at"),
    sa.Index("ix_call_answered", "answered_at", "disposition"),
    sa.Index("ix_call_report", "report_id"),
)

REFERRAL: Final = sa.Table(
    "referral",
    metadata,
    _id(),
    _report_id(),
    _text("agency", 40),
    _moment("forwarded_at"),
    _text("forwarded_by", 64),
    _text("channel", 16),
    _text("agency_ref", 100, nullable=True),
    _moment("acknowledged_at", nullable=True),
    _text("acknowledged_by", 120, nullable=True),
    _text("outcome", 2000, nullable=True),
    sa.Index("ix_referral_report", "report_id"),
    sa.Index("ix_referral_agency", "agency", "acknowledged_at"),
)

#: Append-only history of every change to a report.
#:
#: The id is also the change sequence the live queue follows: every change writes
#: exactly one event, in the same transaction, so "events after the last id I saw"
#: is the list of reports to refresh, whatever the wall clock did.
EVENT: Final = sa.Table(
    "report_event",
    metadata,
    _id(),
    _report_id(),
    _moment("at"),
    _text("operator", 64),
    _text("kind", 24),
    sa.Column("details", sa.JSON(), nullable=False, default=dict),
    sa.Index("ix_report_event_report", "report_id", "id"),
)

#: The last report number given out per year; its row lock keeps numbers unique.
NUMBER_SEQUENCE: Final = sa.Table(
    "report_number_sequence",
    metadata,
    sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("last_value", sa.Integer(), nullable=False, default=0),
)

#: One line of the audit log: who did what, when, chained to the line before.
#:
#: ``hash`` is SHA-256 over the entry's fields and ``prev_hash`` (see
#: ``services/audit.py``), so changing, removing or reordering any entry breaks every
#: hash after it. The database refuses UPDATE and DELETE on this table (triggers in
#: migration 0002), as it does on ``report_event``.
AUDIT: Final = sa.Table(
    "audit_entry",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    _moment("at"),
    _text("operator", 64),
    _text("action", 40),
    _text("subject", 120, default=""),
    sa.Column("details", sa.JSON(), nullable=False, default=dict),
    _text("prev_hash", 64),
    _text("hash", 64, unique=True),
    # `siaga112 audit --from/--to` and the handover's span.
    sa.Index("ix_audit_entry_at", "at"),
    # `siaga112 audit --operator`.
    sa.Index("ix_audit_entry_operator", "operator", "id"),
)

#: A shift handover: the outgoing operator's summary and notes, and its acceptance.
HANDOVER: Final = sa.Table(
    "handover",
    metadata,
    _id(),
    _moment("created_at"),
    _text("outgoing", 64),
    _moment("shift_start"),
    _moment("shift_end"),
    _text("notes", 8000, default=""),
    sa.Column("summary", sa.JSON(), nullable=False, default=dict),
    _text("audit_head", 64),
    _moment("acknowledged_at", nullable=True),
    _text("incoming", 64, nullable=True),
    sa.Index("ix_handover_created", "created_at"),
)


def schema_metadata() -> sa.MetaData:
    """The tables with every engine's index options, for migrating and comparing.

    Naming a PostgreSQL option (``postgresql_where``) loads SQLAlchemy's whole
    PostgreSQL dialect, 0.05 s that a console on SQLite would pay at every start for a
    schema it never creates (benchmark B1). So the option is declared here, where the
    schema is migrated or compared, and nowhere on the way to the first screen.
    """
    index = next(i for i in REPORT.indexes if i.name == "ix_report_open_queue")
    index.dialect_options["postgresql"]["where"] = OPEN_QUEUE_WHERE
    return metadata
