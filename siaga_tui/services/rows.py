"""Reading rows and model objects into the plain views, shared by every service module.

Lists of many reports are read as rows (``SUMMARY_COLUMNS``: no object per row); one
report and what hangs off it is read as model objects, turned into views here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from siaga_tui.core.models import REFERRAL, REPORT, Call, Referral, Report, ReportEvent
from siaga_tui.core.timeutil import as_utc
from siaga_tui.services.views import CallView, EventView, ReferralView, ReportSummary

SUMMARY_COLUMNS = (
    REPORT.c.id,
    REPORT.c.number,
    REPORT.c.category,
    REPORT.c.kind,
    REPORT.c.priority,
    REPORT.c.status,
    REPORT.c.caller_phone,
    REPORT.c.kelurahan_code,
    REPORT.c.kecamatan_code,
    REPORT.c.address,
    REPORT.c.description,
    REPORT.c.operator,
    REPORT.c.created_at,
    REPORT.c.updated_at,
    REPORT.c.version,
    REPORT.c.duplicate_of,
    REPORT.c.first_forwarded_at,
    REPORT.c.closed_at,
)


def summary_from(
    row: RowMapping | dict[str, Any],
    agencies: Sequence[str] = (),
    awaiting_ack_since: datetime | None = None,
) -> ReportSummary:
    return ReportSummary(
        **{c.name: row[c.name] for c in SUMMARY_COLUMNS},
        agencies=tuple(agencies),
        awaiting_ack_since=awaiting_ack_since,
    )


def agencies_by_report(conn: Connection, report_ids: Iterable[int]) -> dict[int, list[str]]:
    """The agencies each report was forwarded to, in forwarding order (one query)."""
    ids = list(report_ids)
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    rows = conn.execute(
        sa.select(REFERRAL.c.report_id, REFERRAL.c.agency)
        .where(REFERRAL.c.report_id.in_(ids))
        .order_by(REFERRAL.c.report_id, REFERRAL.c.id)
    )
    for report_id, agency in rows:
        agencies = found.setdefault(report_id, [])
        if agency not in agencies:
            agencies.append(agency)
    return found


def awaiting_ack_by_report(conn: Connection, report_ids: Iterable[int]) -> dict[int, datetime]:
    """When each report was first forwarded to an agency that has not acknowledged yet."""
    ids = list(report_ids)
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(REFERRAL.c.report_id, sa.func.min(REFERRAL.c.forwarded_at))
        .where(REFERRAL.c.report_id.in_(ids), REFERRAL.c.acknowledged_at.is_(None))
        .group_by(REFERRAL.c.report_id)
    ).all()
    # min() over a UTCDateTime column comes back as the stored text on SQLite.
    return {int(report_id): as_utc(_moment(at)) for report_id, at in rows if at is not None}


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def summaries(conn: Connection, query: sa.Select[Any]) -> list[ReportSummary]:
    """Run a query selecting SUMMARY_COLUMNS and attach each report's agencies."""
    rows = conn.execute(query).mappings().all()
    return summaries_from(conn, rows)


def summaries_from(conn: Connection, rows: Sequence[RowMapping]) -> list[ReportSummary]:
    """The rows as summaries, with their agencies and any acknowledgement still awaited."""
    ids = [row["id"] for row in rows]
    agencies = agencies_by_report(conn, ids)
    awaiting = awaiting_ack_by_report(conn, ids)
    return [summary_from(row, agencies.get(row["id"], ()), awaiting.get(row["id"])) for row in rows]


def summary_of(
    report: Report, agencies: Sequence[str] = (), awaiting_ack_since: datetime | None = None
) -> ReportSummary:
    """One stored report as a summary (``summary_from`` for an object)."""
    assert report.id is not None
    return ReportSummary(
        id=report.id,
        number=report.number,
        category=report.category,
        kind=report.kind,
        priority=report.priority,
        status=report.status,
        caller_phone=report.caller_phone,
        kelurahan_code=report.kelurahan_code,
        kecamatan_code=report.kecamatan_code,
        address=report.address,
        description=report.description,
        operator=report.operator,
        created_at=report.created_at,
        updated_at=report.updated_at,
        version=report.version,
        duplicate_of=report.duplicate_of,
        first_forwarded_at=report.first_forwarded_at,
        closed_at=report.closed_at,
        agencies=tuple(agencies),
        awaiting_ack_since=awaiting_ack_since,
    )


def referral_view(referral: Referral) -> ReferralView:
    return ReferralView(**referral.model_dump(exclude={"report_id"}))


def call_view(call: Call, report_number: str | None = None) -> CallView:
    return CallView(**call.model_dump(), report_number=report_number)


def event_view(event: ReportEvent) -> EventView:
    assert event.id is not None
    return EventView(
        id=event.id, at=event.at, operator=event.operator, kind=event.kind, details=event.details
    )
