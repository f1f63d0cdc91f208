"""Calls that are no report (prank, silent, information, wrong number) and caller history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlmodel import col, select

from siaga_tui.core.db import Database
from siaga_tui.core.errors import InvalidInput, ValidationError
from siaga_tui.core.fields import FIELD_LIMITS, bounded_text, collect
from siaga_tui.core.models import (
    CALL,
    NON_REPORT_DISPOSITIONS,
    REPORT,
    Call,
    Disposition,
    Report,
)
from siaga_tui.core.phones import normalize_phone
from siaga_tui.core.timeutil import Clock, as_utc, system_clock
from siaga_tui.services import audit
from siaga_tui.services.reports import insert_call
from siaga_tui.services.rows import SUMMARY_COLUMNS, call_view, summaries
from siaga_tui.services.telephony import link_phone_call
from siaga_tui.services.views import CallerHistory

#: A number with this many prank calls in the window is flagged to the operator.
REPEAT_PRANK_CALLS: Final = 2
REPEAT_PRANK_WINDOW: Final = timedelta(days=30)
HISTORY_LIMIT: Final = 20


class CallService:
    def __init__(self, db: Database, *, operator: str, clock: Clock = system_clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    def log_call(
        self,
        disposition: str,
        *,
        phone: str | None = None,
        note: str | None = None,
        answered_at: datetime | None = None,
        phone_call_id: int | None = None,
    ) -> int:
        """Log a call that became no report; returns the call's id.

        ``phone_call_id``: the phone system's call it was (linked in the same transaction).
        """
        errors: list[ValidationError] = []
        wanted = (disposition or "").strip().lower()
        allowed = [d.value for d in NON_REPORT_DISPOSITIONS]
        if wanted not in allowed:
            errors.append(
                ValidationError(
                    "disposition", "choice_unknown", value=disposition, allowed=", ".join(allowed)
                )
            )
        e164 = collect(errors, lambda: normalize_phone(phone))
        clean_note = collect(
            errors,
            lambda: (
                bounded_text(note, field="note", max_length=FIELD_LIMITS["note"], multiline=True)
                or None
            ),
        )
        if errors:
            raise InvalidInput(errors)
        at = as_utc(answered_at) if answered_at else self.clock()
        with self.db.write() as conn:
            call_id = insert_call(
                conn,
                answered_at=at,
                phone=e164,
                disposition=Disposition(wanted),
                operator=self.operator,
                note=clean_note,
            )
            link_phone_call(conn, phone_call_id, call_id)
            audit.append_audit(
                conn,
                at=at,
                operator=self.operator,
                action=audit.Action.CALL_LOGGED,
                subject=str(call_id),
                details={"disposition": wanted},
                rows=[("call", call_id)],
            )
            return call_id

    def last_call_id(self) -> int:
        """The newest call's id (one index lookup): a live board polls it for new calls."""
        with self.db.read() as conn:
            return int(
                conn.execute(sa.select(sa.func.coalesce(sa.func.max(CALL.c.id), 0))).scalar_one()
            )

    def caller_history(self, phone: str | None) -> CallerHistory | None:
        """Earlier calls and reports from this number; None when it is not a full number."""
        try:
            e164 = normalize_phone(phone)
        except ValidationError:
            return None
        if not e164:
            return None
        since = self.clock() - REPEAT_PRANK_WINDOW
        with self.db.read_session() as session:
            calls = session.exec(
                select(Call, Report.number)
                .outerjoin(Report, col(Report.id) == col(Call.report_id))
                .where(Call.caller_phone == e164)
                .order_by(col(Call.answered_at).desc())
                .limit(HISTORY_LIMIT)
            ).all()
            conn = session.connection()
            counts: dict[str, int] = dict(
                conn.execute(
                    sa.select(CALL.c.disposition, sa.func.count())
                    .where(CALL.c.caller_phone == e164)
                    .group_by(CALL.c.disposition)
                ).all()
            )
            recent_pranks = int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(CALL)
                    .where(
                        CALL.c.caller_phone == e164,
                        CALL.c.answered_at >= since,
                        CALL.c.disposition == Disposition.ISENG,
                    )
                ).scalar_one()
            )
            reports = summaries(
                conn,
                sa.select(*SUMMARY_COLUMNS)
                .where(REPORT.c.caller_phone == e164)
                .order_by(REPORT.c.created_at.desc())
                .limit(HISTORY_LIMIT),
            )
        return CallerHistory(
            phone=e164,
            calls=tuple(call_view(call, number) for call, number in calls),
            reports=tuple(reports),
            dispositions={str(k): int(v) for k, v in counts.items()},
            prank_count=int(counts.get(Disposition.ISENG.value, 0)),
            repeat_prank=recent_pranks >= REPEAT_PRANK_CALLS,
        )
