"""Reading rows into the plain views, shared by every service module."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from siaga_tui.core.models import CALL, REFERRAL, REPORT
from siaga_tui.services.views import CallView, ReferralView, ReportSummary

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


def summary_from(row: RowMapping | dict[str, Any], agencies: Sequence[str] = ()) -> ReportSummary:
    return ReportSummary(**{c.name: row[c.name] for c in SUMMARY_COLUMNS}, agencies=tuple(agencies))


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


def summaries(conn: Connection, query: sa.Select[Any]) -> list[ReportSummary]:
    """Run a query selecting SUMMARY_COLUMNS and attach each report's agencies."""
    rows = conn.execute(query).mappings().all()
    agencies = agencies_by_report(conn, (row["id"] for row in rows))
    return [summary_from(row, agencies.get(row["id"], ())) for row in rows]


def referral_from(row: RowMapping) -> ReferralView:
    return ReferralView(**{c.name: row[c.name] for c in REFERRAL.c if c.name != "report_id"})


def call_from(row: RowMapping, report_number: str | None = None) -> CallView:
    return CallView(**{c.name: row[c.name] for c in CALL.c}, report_number=report_number)
