"""The JSON the commands print with ``--json``, declared once per command.

Scripts read these keys, so each output is a model here, in the order its keys are
printed. Commands dump a model (``model_dump()``, Python mode) and hand it to
``base.print_json``, which writes datetimes as ``isoformat()`` and makes control
characters visible, exactly as before the models existed. Models read the services'
frozen views by attribute (``from_attributes``), so a view's field that is not
declared here never reaches the output (an account's failed attempts, a call's row id).

``stats --format json`` and its breakdowns are not here: their nested figures are the
services' own (``Statistics.to_dict``, ``Breakdown.to_dict``), as is the phone's part of
a shift summary (``PhoneFigures.to_dict``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer

if TYPE_CHECKING:  # many commands import this module: it loads none of their services
    from siaga_tui.core.catalogue import Category
    from siaga_tui.services.audit import Verification
    from siaga_tui.services.telephony import PhoneCallView
    from siaga_tui.services.views import ReportDetail


class Output(BaseModel):
    """A command's JSON: built from a service's view or from keyword arguments."""

    model_config = ConfigDict(from_attributes=True)


# --- Reports and calls ------------------------------------------------------------------


class CategoryOutput(Output):
    """One entry of ``categories --json``."""

    code: str
    label: str
    kind: str
    hotkey: str
    priority: int
    agencies: list[str]

    @classmethod
    def from_category(cls, category: Category, lang: str) -> CategoryOutput:
        return cls(
            code=category.code,
            label=category.label(lang),
            kind=category.kind,
            hotkey=category.hotkey,
            priority=category.priority,
            agencies=list(category.primary_agencies),
        )


class SavedReportOutput(Output):
    """``add --json``: the report filed and the call it came with."""

    id: int
    number: str
    call_id: int | None


class LoggedCall(Output):
    """``call --json``: the call logged."""

    call_id: int


class ReportRow(Output):
    """A report as ``list --json`` gives it (``services.views.ReportSummary``)."""

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
    agencies: list[str]
    awaiting_ack_since: datetime | None


class ReportList(Output):
    """``list --json``: the open reports matching, out of ``total``."""

    total: int
    reports: list[ReportRow]


class ReferralOutput(Output):
    id: int
    agency: str
    forwarded_at: datetime
    forwarded_by: str
    channel: str
    agency_ref: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    outcome: str | None


class CallOutput(Output):
    id: int
    answered_at: datetime
    caller_phone: str | None
    disposition: str
    operator: str
    note: str | None
    report_id: int | None
    caller_name: str | None
    address: str | None
    description: str | None
    report_number: str | None


class EventOutput(Output):
    id: int
    at: datetime
    operator: str
    kind: str
    details: dict[str, Any]


class _ReportDetailFields(Output):
    """What ``show --json`` adds to a report's row."""

    caller_name: str | None
    call_answered_at: datetime | None
    first_acknowledged_at: datetime | None
    duplicate_of_number: str | None
    referrals: list[ReferralOutput]
    calls: list[CallOutput]
    events: list[EventOutput]


# Pydantic puts the fields of the last base first: the detail's own keys, then the
# row's, the order ``show --json`` has always printed them in.
class ReportDetailOutput(ReportRow, _ReportDetailFields):
    """``show --json``: the report's row at the top level, with its referrals, calls
    and history."""

    @classmethod
    def from_detail(cls, detail: ReportDetail) -> ReportDetailOutput:
        own = {name: getattr(detail, name) for name in _ReportDetailFields.model_fields}
        row = {name: getattr(detail.summary, name) for name in ReportRow.model_fields}
        return cls.model_validate(own | row)


# --- The audit log ------------------------------------------------------------------------


class AuditHeadOutput(Output):
    """``audit head --json``: the newest entry's number and hash."""

    id: int
    hash: str


class AuditEntry(Output):
    """One entry of ``audit --json``."""

    id: int
    at: datetime
    operator: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class FindingOutput(Output):
    """One thing ``audit verify`` found wrong, with the line it prints for it."""

    problem: str
    entry: int | None
    table: str | None
    row: int | None
    detail: str
    message: str


class VerificationOutput(Output):
    """``audit verify --json``."""

    ok: bool
    checked: int
    signed: int
    rows_checked: int
    key_id: str | None
    head: AuditHeadOutput
    paper_head: str | None
    broken_id: int | None
    problem: str | None
    findings: list[FindingOutput]

    @classmethod
    def from_verification(
        cls, result: Verification, *, paper_head: str | None, messages: list[str]
    ) -> VerificationOutput:
        """``messages``: each finding's line, in the order of ``result.findings``."""
        findings = [
            FindingOutput(**asdict(finding), message=message)
            for finding, message in zip(result.findings, messages, strict=True)
        ]
        return cls(
            ok=result.ok,
            checked=result.checked,
            signed=result.signed,
            rows_checked=result.rows_checked,
            key_id=result.key_id,
            head=AuditHeadOutput.model_validate(result.head),
            paper_head=paper_head,
            broken_id=result.broken_id,
            problem=result.problem,
            findings=findings,
        )


# --- Shift handover -----------------------------------------------------------------------


def _as_stored(moment: datetime) -> str:
    """A moment of a shift summary as the handover row stores it (``audit.jsonable``:
    UTC, always with microseconds), not as the output's other moments are written."""
    from siaga_tui.services.audit import jsonable

    return str(jsonable(moment))


StoredMoment = Annotated[datetime, PlainSerializer(_as_stored)]


class OpenItemOutput(Output):
    number: str
    category: str
    kind: str
    status: str
    created_at: StoredMoment
    kelurahan_code: str
    agencies: list[str]
    overdue: str | None
    late_minutes: int


class AwaitingAckOutput(Output):
    number: str
    agency: str
    forwarded_at: StoredMoment
    waiting_minutes: int


class ShiftSummaryOutput(Output):
    """A shift's summary, as a handover records it (``services.handover.ShiftSummary``)."""

    start: StoredMoment
    end: StoredMoment
    generated_at: StoredMoment
    open_total: int
    open_items: list[OpenItemOutput]
    overdue: list[OpenItemOutput]
    awaiting_ack: list[AwaitingAckOutput]
    calls_by_disposition: dict[str, int]
    reports_by_category: dict[str, int]
    reports_filed: int
    reports_closed: int
    #: The phone's figures (``services.phone_stats``, keys in the README); None when no
    #: call of the shift has the phone system's moments.
    phone: dict[str, Any] | None


class HandoverPreview(Output):
    """``handover show --json`` without an id: the outgoing shift, and the log's head."""

    summary: ShiftSummaryOutput
    audit_head: str


class HandoverOutput(Output):
    """A recorded handover: ``handover show ID``, ``create`` and ``list`` (``--json``)."""

    id: int
    created_at: datetime
    outgoing: str
    notes: str
    summary: ShiftSummaryOutput
    audit_head: str
    acknowledged_at: datetime | None
    incoming: str | None
    audit_head_id: int | None


# --- Accounts, the database, the phone -------------------------------------------------------


class AccountOutput(Output):
    """One account of ``operator list --json`` (never a password or its hash)."""

    username: str
    display_name: str
    role: str
    active: bool
    locked_until: datetime | None
    created_at: datetime


class SessionOutput(Output):
    """One sign-in of ``operator sessions --json`` (never its token)."""

    id: int
    username: str
    scope: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None


class DatabaseCheck(Output):
    """``db check --json``."""

    database: str
    revision: str | None
    expected_revision: str
    integrity: str
    problems: list[str]


class PhoneCallOutput(Output):
    """``phone ring|answer|hangup --json``: the call as the phone system saw it."""

    call_id: str
    caller_id: str | None
    phone: str | None
    line: str | None
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    position: str | None
    outcome: str | None

    @classmethod
    def from_call(cls, call: PhoneCallView) -> PhoneCallOutput:
        return cls(
            call_id=call.system_call_id,
            caller_id=call.caller_id,
            phone=call.caller_phone,
            line=call.line,
            offered_at=call.offered_at,
            answered_at=call.answered_at,
            ended_at=call.ended_at,
            position=call.position,
            outcome=call.outcome,
        )
