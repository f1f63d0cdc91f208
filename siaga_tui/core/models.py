"""The data model: calls, reports, referrals, the event history and operators.

SQLModel classes define the tables, with typed fields. The services read and change one
report with its referrals, calls and events through a ``sqlmodel.Session`` and these
classes, and use SQL over ``Report.__table__`` (aliases below: ``REPORT``, ``CALL``, …)
where many rows are streamed or counted and objects would only cost (export, the
statistics, the queue window, the change feed). No ORM object crosses a thread: the
services return frozen views (``services/views.py``).
The schema itself is created and changed only by the Alembic migrations in
``siaga_tui/migrations``; a test checks that a migrated database equals these models.

Every index here serves a named hot query; each is checked with ``EXPLAIN QUERY PLAN``
in ``tests/test_query_plans.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Final

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import declared_attr
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Field, SQLModel


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


class SecondsBetween(sa.sql.functions.FunctionElement[int]):
    """``end - start`` in whole seconds (the difference rounded, half away from zero), in
    SQL, on SQLite and PostgreSQL; NULL when either moment is unknown. The statistics,
    the breakdowns and the export all count time this way, and so do the report's
    stored interval columns (``INTERVALS``)."""

    type = sa.Integer()
    name = "seconds_between"
    inherit_cache = True

    def __init__(self, start: sa.ColumnElement[Any], end: sa.ColumnElement[Any]) -> None:
        super().__init__(start, end)


@compiles(SecondsBetween, "sqlite")
def _seconds_between_sqlite(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(round((julianday({end}) - julianday({start})) * 86400.0) AS INTEGER)"


@compiles(SecondsBetween)
def _seconds_between(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(round(EXTRACT(EPOCH FROM {end} - {start})) AS INTEGER)"


#: The handling intervals the statistics report, by name, as (from, to) moments of the
#: report row. Each is also a column of the report, ``<name>_s``, that the database
#: works out from the two moments whenever either changes (see ``interval_column``).
INTERVALS: Final = {
    "answer_to_saved": ("call_answered_at", "created_at"),
    "saved_to_forwarded": ("created_at", "first_forwarded_at"),
    "forwarded_to_acknowledged": ("first_forwarded_at", "first_acknowledged_at"),
    "forwarded_to_done": ("first_forwarded_at", "closed_at"),
}


def interval_column_name(name: str) -> str:
    return f"{name}_s"


#: (from, to) moments → the report's column that keeps the seconds between them.
STORED_INTERVALS: Final = {moments: interval_column_name(n) for n, moments in INTERVALS.items()}


def interval_column(name: str) -> sa.Column[Any]:
    """The stored, generated column of one interval: the database computes it, so no
    writer can leave it out of step with the moments. Reading integers instead of
    parsing two time texts per interval halves the statistics' pass over the reports
    (4.5 ms against 9.3 ms of SQL at 10 k reports, B5)."""
    start, end = INTERVALS[name]
    return sa.Column(
        interval_column_name(name),
        sa.Integer,
        sa.Computed(SecondsBetween(sa.column(start), sa.column(end)), persisted=True),
        nullable=True,
    )


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


class Scope(StrEnum):
    """What a sign-in session may be used for (``operator_session.scope``)."""

    ALL = "all"  # every command: an operator's shift
    PHONE = "phone"  # only the phone commands (ring, answer, hang up): a PBX's token


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


#: The partial index's condition: reports not yet closed, and not archived history.
OPEN_QUEUE_WHERE: Final = sa.text("status != 'selesai' AND NOT archived")


class Operator(SQLModel, table=True):
    __tablename__: ClassVar[Any] = "operator"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=120)
    role: str = Field(max_length=16, default=Role.OPERATOR)
    active: bool = Field(default=True)
    password_hash: str | None = Field(default=None, max_length=255)
    failed_attempts: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class OperatorSession(SQLModel, table=True):
    """A command-line sign-in (``siaga112 login``): only the token's SHA-256 is kept.

    ``scope`` is ``all`` (an operator's shift) or ``phone`` (a PBX's token, valid only
    for the phone commands); ``expires_at`` None means it never expires (PBX tokens
    only). ``ended_at``/``ended_by``: signed out, or revoked by a supervisor.
    """

    __tablename__: ClassVar[Any] = "operator_session"
    __table_args__ = (
        # A supervisor's `operator sessions` and revoking an account's sessions.
        sa.Index("ix_operator_session_operator", "operator_id", "ended_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    operator_id: int = Field(foreign_key="operator.id")
    scope: str = Field(max_length=16, default="all")
    label: str = Field(default="", max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_by: str | None = Field(default=None, max_length=64)


class Report(SQLModel, table=True):
    __tablename__: ClassVar[Any] = "report"
    __table_args__ = (
        sa.UniqueConstraint("year", "seq", name="uq_report_year_seq"),
        # The live queue: open reports, most urgent first. A partial index, because
        # SQLite cannot use (status, created_at) for "status != 'selesai'" (a full
        # scan at 1 M rows: 570 ms against 0.45 ms).
        sa.Index(
            "ix_report_open_queue",
            "queue_rank",
            "created_at",
            "id",
            sqlite_where=OPEN_QUEUE_WHERE,
            postgresql_where=OPEN_QUEUE_WHERE,
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

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    year: int
    seq: int
    category: str = Field(max_length=40)
    kind: str = Field(max_length=16)
    priority: int
    status: str = Field(max_length=16, default=Status.MENUNGGU)
    queue_rank: int
    caller_phone: str | None = Field(default=None, max_length=32)
    caller_name: str | None = Field(default=None, max_length=120)
    kelurahan_code: str = Field(max_length=16)
    kecamatan_code: str = Field(max_length=16)
    address: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=8000)
    operator: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    version: int = Field(default=1)
    duplicate_of: int | None = Field(default=None, foreign_key="report.id")
    # Lifecycle moments, for the intervals the statistics report.
    call_answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_forwarded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set for rows that came from `siaga112 import`, so the same file twice adds nothing.
    import_key: str | None = Field(default=None, max_length=64, unique=True)
    # History (imported with `--history`, or older than the backlog age): counted in the
    # statistics and exports, never in the live queue, handover, alarms or oldest-waiting.
    archived: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # The handling intervals in whole seconds, generated by the database (read only).
    answer_to_saved_s: int | None = Field(
        default=None, sa_column=interval_column("answer_to_saved")
    )
    saved_to_forwarded_s: int | None = Field(
        default=None, sa_column=interval_column("saved_to_forwarded")
    )
    forwarded_to_acknowledged_s: int | None = Field(
        default=None, sa_column=interval_column("forwarded_to_acknowledged")
    )
    forwarded_to_done_s: int | None = Field(
        default=None, sa_column=interval_column("forwarded_to_done")
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # A change through a Session is ``UPDATE … WHERE id = :id AND version = :old``:
        # a report someone else changed meanwhile is never overwritten (the services
        # set ``version`` themselves, one more per event, and turn a miss into
        # ConflictError).
        table = cls.__table__  # type: ignore[attr-defined]
        return {"version_id_col": table.c.version, "version_id_generator": False}


class Call(SQLModel, table=True):
    __tablename__: ClassVar[Any] = "call"
    __table_args__ = (
        sa.Index("ix_call_phone", "caller_phone", "answered_at"),
        sa.Index("ix_call_answered", "answered_at", "disposition"),
        sa.Index("ix_call_report", "report_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    answered_at: datetime = Field(sa_type=UTCDateTime)
    caller_phone: str | None = Field(default=None, max_length=32)
    disposition: str = Field(max_length=16)
    operator: str = Field(max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    report_id: int | None = Field(default=None, foreign_key="report.id")
    # What this caller said, when the call joined a report someone else filed.
    caller_name: str | None = Field(default=None, max_length=120)
    address: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=8000)


class Referral(SQLModel, table=True):
    __tablename__: ClassVar[Any] = "referral"
    __table_args__ = (
        sa.Index("ix_referral_report", "report_id"),
        sa.Index("ix_referral_agency", "agency", "acknowledged_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id")
    agency: str = Field(max_length=40)
    forwarded_at: datetime = Field(sa_type=UTCDateTime)
    forwarded_by: str = Field(max_length=64)
    channel: str = Field(max_length=16)
    agency_ref: str | None = Field(default=None, max_length=100)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=120)
    outcome: str | None = Field(default=None, max_length=2000)


class ReportEvent(SQLModel, table=True):
    """Append-only history of every change to a report.

    The id is also the change sequence the live queue follows: every change writes
    exactly one event, in the same transaction, so "events after the last id I saw"
    is the list of reports to refresh, whatever the wall clock did.
    """

    __tablename__: ClassVar[Any] = "report_event"
    __table_args__ = (sa.Index("ix_report_event_report", "report_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id")
    at: datetime = Field(sa_type=UTCDateTime)
    operator: str = Field(max_length=64)
    kind: str = Field(max_length=24)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class ReportNumberSequence(SQLModel, table=True):
    """The last report number given out per year; its row lock keeps numbers unique."""

    __tablename__: ClassVar[Any] = "report_number_sequence"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_value: int = Field(default=0)


class AuditEntry(SQLModel, table=True):
    """One line of the audit log: who did what, when, chained to the line before.

    ``hash`` is SHA-256 over the entry's fields and ``prev_hash`` (see
    ``services/audit.py``), so changing, removing or reordering any entry breaks every
    hash after it. The database refuses UPDATE and DELETE on this table (triggers in
    migration 0002), as it does on ``report_event``.
    """

    __tablename__: ClassVar[Any] = "audit_entry"
    __table_args__ = (
        # `siaga112 audit --from/--to` and the handover's span.
        sa.Index("ix_audit_entry_at", "at"),
        # `siaga112 audit --operator`.
        sa.Index("ix_audit_entry_operator", "operator", "id"),
    )

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_type=UTCDateTime)
    operator: str = Field(max_length=64)
    action: str = Field(max_length=40)
    subject: str = Field(default="", max_length=120)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class Handover(SQLModel, table=True):
    """A shift handover: the outgoing operator's summary and notes, and its acceptance."""

    __tablename__: ClassVar[Any] = "handover"
    __table_args__ = (sa.Index("ix_handover_created", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    outgoing: str = Field(max_length=64)
    shift_start: datetime = Field(sa_type=UTCDateTime)
    shift_end: datetime = Field(sa_type=UTCDateTime)
    notes: str = Field(default="", max_length=8000)
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    audit_head: str = Field(max_length=64)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    incoming: str | None = Field(default=None, max_length=64)


class CallOutcome(StrEnum):
    """How a call ended, as the phone system saw it."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"  # the caller hung up before anyone answered
    DROPPED = "dropped"  # cut off after the answer by the network or the phone


class CallbackOutcome(StrEnum):
    """What a call-back to an abandoned or silent call came to."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"


class CallbackMethod(StrEnum):
    PHONE = "phone"  # dialled by the position's softphone
    MANUAL = "manual"  # made by hand, recorded afterwards


class PhoneCall(SQLModel, table=True):
    """A call as the phone system sees it: its moments, line and answering position.

    One row per phone-system call id, whatever the order or repetition of the events
    about it (``services/telephony.py``). ``caller_id`` is what the phone system gave
    (``anonymous``, ``sip:user@host``, ``112``…), ``caller_phone`` its E.164 form when
    it is a phone number. ``logged_call_id`` is the ``call`` row the operator filed it
    as (with its disposition); abandoned calls have none. ``outcome`` is None while the
    call lasts.
    """

    __tablename__: ClassVar[Any] = "phone_call"
    __table_args__ = (
        # Calls ringing now (outcome NULL) and the call-back list (abandoned), newest first.
        sa.Index("ix_phone_call_outcome", "outcome", "offered_at"),
        # The phone's figures for a period.
        sa.Index("ix_phone_call_offered", "offered_at"),
        # A number's history on the call-back list.
        sa.Index("ix_phone_call_phone", "caller_phone", "offered_at"),
        sa.Index("ix_phone_call_logged", "logged_call_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    system_call_id: str = Field(max_length=200, unique=True)
    line: str | None = Field(default=None, max_length=64)
    caller_id: str | None = Field(default=None, max_length=200)
    caller_phone: str | None = Field(default=None, max_length=32)
    offered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    position: str | None = Field(default=None, max_length=64)
    outcome: str | None = Field(default=None, max_length=16)
    logged_call_id: int | None = Field(default=None, foreign_key="call.id")
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Callback(SQLModel, table=True):
    """One call-back to an abandoned (``phone_call_id``) or silent (``call_id``) call."""

    __tablename__: ClassVar[Any] = "callback"
    __table_args__ = (
        sa.Index("ix_callback_phone_call", "phone_call_id"),
        sa.Index("ix_callback_call", "call_id"),
        sa.Index("ix_callback_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    phone_call_id: int | None = Field(default=None, foreign_key="phone_call.id")
    call_id: int | None = Field(default=None, foreign_key="call.id")
    phone: str = Field(max_length=200)
    at: datetime = Field(sa_type=UTCDateTime)
    operator: str = Field(max_length=64)
    method: str = Field(max_length=16)
    outcome: str = Field(max_length=16)
    # The softphone's id of the call dialled back.
    system_call_id: str | None = Field(default=None, max_length=200)
    # The report the call-back led to.
    report_id: int | None = Field(default=None, foreign_key="report.id")
    note: str | None = Field(default=None, max_length=2000)


#: Every table, for Alembic (``target_metadata``) and the schema comparison.
metadata: Final[sa.MetaData] = SQLModel.metadata

# The tables, for SQL over many rows (``select(REPORT.c.id, …)``, ``insert(CALL)``).
REPORT: Final[sa.Table] = Report.__table__  # type: ignore[attr-defined]
CALL: Final[sa.Table] = Call.__table__  # type: ignore[attr-defined]
REFERRAL: Final[sa.Table] = Referral.__table__  # type: ignore[attr-defined]
EVENT: Final[sa.Table] = ReportEvent.__table__  # type: ignore[attr-defined]
OPERATOR: Final[sa.Table] = Operator.__table__  # type: ignore[attr-defined]
OPERATOR_SESSION: Final[sa.Table] = OperatorSession.__table__  # type: ignore[attr-defined]
NUMBER_SEQUENCE: Final[sa.Table] = ReportNumberSequence.__table__  # type: ignore[attr-defined]
AUDIT: Final[sa.Table] = AuditEntry.__table__  # type: ignore[attr-defined]
HANDOVER: Final[sa.Table] = Handover.__table__  # type: ignore[attr-defined]
PHONE_CALL: Final[sa.Table] = PhoneCall.__table__  # type: ignore[attr-defined]
CALLBACK: Final[sa.Table] = Callback.__table__  # type: ignore[attr-defined]
