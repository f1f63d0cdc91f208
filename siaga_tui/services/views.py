"""Plain, immutable results the services hand to the console and the CLI.

Nothing here is tied to a database session, so these values can cross from a worker
thread to the UI thread safely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ReferralView:
    id: int
    agency: str
    forwarded_at: datetime
    forwarded_by: str
    channel: str
    agency_ref: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    at: datetime
    operator: str
    kind: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallView:
    id: int
    answered_at: datetime
    caller_phone: str | None
    disposition: str
    operator: str
    note: str | None
    report_id: int | None
    #: What this caller said, for a call that joined a report someone else filed.
    caller_name: str | None = None
    address: str | None = None
    description: str | None = None
    report_number: str | None = None


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """One row of the queue, a search result or a caller's history."""

    id: int
    number: str
    category: str
    kind: str
    priority: int
    status: str
    caller_phone: str | None
    kelurahan_code: str
    kecamatan_code: str
    address: str
    description: str
    operator: str
    created_at: datetime
    updated_at: datetime
    version: int
    duplicate_of: int | None
    first_forwarded_at: datetime | None
    closed_at: datetime | None
    agencies: tuple[str, ...] = ()
    #: Forwarded, and the agency has not acknowledged yet: since when (the earliest).
    awaiting_ack_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReportDetail:
    """Everything about one report: fields, referrals, calls and the full history."""

    summary: ReportSummary
    caller_name: str | None
    call_answered_at: datetime | None
    first_acknowledged_at: datetime | None
    duplicate_of_number: str | None
    referrals: tuple[ReferralView, ...]
    calls: tuple[CallView, ...]
    events: tuple[EventView, ...]

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def number(self) -> str:
        return self.summary.number

    @property
    def status(self) -> str:
        return self.summary.status

    @property
    def version(self) -> int:
        return self.summary.version


@dataclass(frozen=True, slots=True)
class CallerHistory:
    """What the center knows of a phone number, shown while the operator types it."""

    phone: str
    calls: tuple[CallView, ...]
    reports: tuple[ReportSummary, ...]
    dispositions: dict[str, int] = field(default_factory=dict)
    prank_count: int = 0
    repeat_prank: bool = False

    @property
    def is_known(self) -> bool:
        return bool(self.calls or self.reports)


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: tuple[ReportSummary, ...]
    total: int
    #: Sort key of the last row, to fetch the next page after it (keyset paging).
    next_after: tuple[int, datetime, int] | None


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since a sequence number: the new position and the reports touched."""

    last_seq: int
    report_ids: frozenset[int]
    overflow: bool = False

    @property
    def any(self) -> bool:
        return bool(self.report_ids) or self.overflow
