"""Shift handover: what the outgoing shift leaves to the incoming one, on record.

``shift_summary`` gathers, for one shift: every report still open (the most urgent
first), which of them are overdue against their category's targets from the catalogue
(``forward_target``: forwarded to an agency; ``finish_target``: done; both counted from
the moment the report was recorded), the referrals still waiting for an agency's
acknowledgement, and the shift's calls by disposition and reports by category.

``HandoverService.create`` stores that summary with the outgoing operator's notes and
the audit log's head hash; ``acknowledge`` records the incoming operator taking it over.
Both are audit entries, and a stored handover can be shown again later exactly as it
was handed over.

Which shift: the one running now (07–14, 14–21, 21–07 WITA), except in its first hour,
when the handover is most likely about the shift that just ended.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.catalogue import Catalogue, load_catalogue
from siaga_tui.core.db import Database
from siaga_tui.core.errors import InvalidInput, NotFound, TransitionRefused, ValidationError
from siaga_tui.core.fields import bounded_text
from siaga_tui.core.lateness import ON_TIME, format_span, lateness
from siaga_tui.core.models import AUDIT, CALL, HANDOVER, REFERRAL, REPORT, Disposition
from siaga_tui.core.timeutil import Clock, as_utc, format_moment, system_clock
from siaga_tui.services import audit
from siaga_tui.services.audit import Action, canonical
from siaga_tui.services.phone_stats import compute_phone_figures
from siaga_tui.services.queue import OPEN
from siaga_tui.services.rows import agencies_by_report
from siaga_tui.services.stats import Period

#: In a shift's first hour the handover is about the shift that just ended.
HANDOVER_GRACE: Final = timedelta(hours=1)
#: At most this many open reports are listed one by one (all are counted).
OPEN_LIST_LIMIT: Final = 200
NOTES_LIMIT: Final = 8000


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An open report as the handover lists it; ``overdue`` is None, forward or finish."""

    number: str
    category: str
    kind: str
    status: str
    created_at: datetime
    kelurahan_code: str
    agencies: tuple[str, ...]
    overdue: str | None = None
    late_minutes: int = 0


@dataclass(frozen=True, slots=True)
class AwaitingAck:
    number: str
    agency: str
    forwarded_at: datetime
    waiting_minutes: int


@dataclass(frozen=True, slots=True)
class ShiftSummary:
    start: datetime
    end: datetime
    generated_at: datetime
    open_total: int
    open_items: tuple[OpenItem, ...]
    overdue: tuple[OpenItem, ...]
    awaiting_ack: tuple[AwaitingAck, ...]
    calls_by_disposition: dict[str, int] = field(default_factory=dict)
    reports_by_category: dict[str, int] = field(default_factory=dict)
    reports_filed: int = 0
    reports_closed: int = 0
    #: The phone's figures for the shift (``services/phone_stats.py``, its JSON keys);
    #: None when no call of the shift has the phone system's moments.
    phone: dict[str, Any] | None = None

    @property
    def calls_total(self) -> int:
        return sum(self.calls_by_disposition.values())

    def to_dict(self) -> dict[str, Any]:
        return audit.jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShiftSummary:
        def when(value: str) -> datetime:
            return as_utc(datetime.fromisoformat(value))

        def item(d: dict[str, Any]) -> OpenItem:
            return OpenItem(
                **{**d, "created_at": when(d["created_at"]), "agencies": tuple(d["agencies"])}
            )

        return cls(
            start=when(data["start"]),
            end=when(data["end"]),
            generated_at=when(data["generated_at"]),
            open_total=int(data["open_total"]),
            open_items=tuple(item(d) for d in data["open_items"]),
            overdue=tuple(item(d) for d in data["overdue"]),
            awaiting_ack=tuple(
                AwaitingAck(**{**d, "forwarded_at": when(d["forwarded_at"])})
                for d in data["awaiting_ack"]
            ),
            calls_by_disposition=dict(data["calls_by_disposition"]),
            reports_by_category=dict(data["reports_by_category"]),
            reports_filed=int(data["reports_filed"]),
            reports_closed=int(data["reports_closed"]),
            phone=data.get("phone"),
        )


@dataclass(frozen=True, slots=True)
class HandoverView:
    id: int
    created_at: datetime
    outgoing: str
    notes: str
    summary: ShiftSummary
    audit_head: str
    acknowledged_at: datetime | None
    incoming: str | None
    #: The number of the audit entry whose hash is ``audit_head`` (its place in the log).
    audit_head_id: int | None = None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


def outgoing_shift(clock: Clock = system_clock) -> Period:
    """The shift a handover made now is about (see the module notes)."""
    now = as_utc(clock())
    shift = Period.shift(lambda: now)
    assert shift.start is not None
    if now - shift.start < HANDOVER_GRACE:
        before = shift.start - timedelta(seconds=1)
        shift = Period.shift(lambda: before)
    return shift


def shift_summary(
    db: Database,
    period: Period,
    *,
    clock: Clock = system_clock,
    catalogue: Catalogue | None = None,
) -> ShiftSummary:
    """Everything the incoming shift needs to know, as of now, for ``period``."""
    catalogue = catalogue or load_catalogue()
    now = as_utc(clock())
    if period.start is None or period.end is None:
        raise ValueError("a handover needs a bounded shift")
    with db.read() as conn:
        open_items, open_total = _open_items(conn, catalogue, now)
        awaiting = _awaiting_ack(conn, now)
        calls: dict[str, int] = dict(
            conn.execute(
                sa.select(CALL.c.disposition, sa.func.count())
                .where(*period.condition(CALL.c.answered_at))
                .group_by(CALL.c.disposition)
            ).all()
        )
        categories: dict[str, int] = dict(
            conn.execute(
                sa.select(REPORT.c.category, sa.func.count())
                .where(*period.condition(REPORT.c.created_at))
                .group_by(REPORT.c.category)
            ).all()
        )
        closed = conn.execute(
            sa.select(sa.func.count())
            .select_from(REPORT)
            .where(*period.condition(REPORT.c.closed_at))
        ).scalar_one()
    overdue = tuple(item for item in open_items if item.overdue)
    phone = compute_phone_figures(db, period)
    return ShiftSummary(
        start=period.start,
        end=period.end,
        generated_at=now,
        open_total=open_total,
        open_items=open_items[:OPEN_LIST_LIMIT],
        overdue=overdue,
        awaiting_ack=awaiting,
        calls_by_disposition={d.value: int(calls.get(d.value, 0)) for d in Disposition},
        reports_by_category={code: int(n) for code, n in sorted(categories.items())},
        reports_filed=int(sum(categories.values())),
        reports_closed=int(closed),
        phone=phone.to_dict() if phone.offered else None,
    )


def _open_items(
    conn: Connection, catalogue: Catalogue, now: datetime
) -> tuple[tuple[OpenItem, ...], int]:
    rows = (
        conn.execute(
            sa.select(
                REPORT.c.id,
                REPORT.c.number,
                REPORT.c.category,
                REPORT.c.kind,
                REPORT.c.status,
                REPORT.c.created_at,
                REPORT.c.kelurahan_code,
            )
            .where(OPEN)
            .order_by(REPORT.c.queue_rank, REPORT.c.created_at, REPORT.c.id)
        )
        .mappings()
        .all()
    )
    agencies = agencies_by_report(conn, [row["id"] for row in rows[:OPEN_LIST_LIMIT]])
    items = []
    for row in rows:
        created = as_utc(row["created_at"])
        try:
            late = lateness(catalogue.category(row["category"]), row["status"], created, now)
        except NotFound:  # a category since removed from the catalogue: no target to miss
            late = ON_TIME
        items.append(
            OpenItem(
                number=row["number"],
                category=row["category"],
                kind=row["kind"],
                status=row["status"],
                created_at=created,
                kelurahan_code=row["kelurahan_code"],
                agencies=tuple(agencies.get(row["id"], ())),
                overdue=late.stage,
                late_minutes=int(late.late_by.total_seconds() // 60),
            )
        )
    return tuple(items), len(rows)


def _awaiting_ack(conn: Connection, now: datetime) -> tuple[AwaitingAck, ...]:
    rows = conn.execute(
        sa.select(REPORT.c.number, REFERRAL.c.agency, REFERRAL.c.forwarded_at)
        .join(REPORT, REPORT.c.id == REFERRAL.c.report_id)
        .where(REFERRAL.c.acknowledged_at.is_(None), OPEN)
        .order_by(REFERRAL.c.forwarded_at, REFERRAL.c.id)
    ).all()
    return tuple(
        AwaitingAck(
            number=number,
            agency=agency,
            forwarded_at=as_utc(at),
            waiting_minutes=max(0, int((now - as_utc(at)).total_seconds() // 60)),
        )
        for number, agency, at in rows
    )


def summary_lines(
    summary: ShiftSummary, lang: str | None, catalogue: Catalogue
) -> list[tuple[bool, str]]:
    """The summary after the open-report table, as (is heading, text) lines in ``lang``.

    Shared by ``siaga112 handover`` and the console's handover screen.
    """
    from siaga_tui.core.i18n import translate

    def t(key: str, **params: Any) -> str:
        return translate(key, lang, **params)

    agencies = {a.code: a.name for a in catalogue.agencies}
    categories = {c.code: c.label(lang) for c in catalogue.categories}
    lines: list[tuple[bool, str]] = [(True, t("handover_overdue", count=len(summary.overdue)))]
    lines += [(False, f"  {item.number}  {overdue_text(item, lang)}") for item in summary.overdue]
    lines.append((True, t("handover_awaiting", count=len(summary.awaiting_ack))))
    lines += [
        (
            False,
            "  "
            + t(
                "handover_awaiting_row",
                number=w.number,
                agency=agencies.get(w.agency, w.agency),
                at=format_moment(w.forwarded_at, summary.generated_at),
                waited=format_span(timedelta(minutes=w.waiting_minutes), lang),
            ),
        )
        for w in summary.awaiting_ack
    ]
    lines.append((True, t("handover_calls", count=summary.calls_total)))
    lines += [
        (False, f"  {t(f'disposition_{d}')}: {n}") for d, n in summary.calls_by_disposition.items()
    ]
    lines.append(
        (True, t("handover_reports", count=summary.reports_filed, closed=summary.reports_closed))
    )
    lines += [
        (False, f"  {categories.get(c, c)}: {n}") for c, n in summary.reports_by_category.items()
    ]
    phone = summary.phone
    if phone:
        within = phone["answered_within_15s"]
        lines.append((True, t("handover_phone", offered=phone["offered"])))
        lines.append(
            (
                False,
                "  "
                + t(
                    "handover_phone_row",
                    answered=phone["answered"],
                    abandoned=phone["abandoned"],
                    within="–" if within["percent"] is None else f"{within['percent']} %",
                    called_back=phone["callbacks"]["abandoned_called_back"]["count"],
                ),
            )
        )
    return lines


def overdue_text(item: OpenItem, lang: str | None) -> str:
    """``not forwarded, 47 min late`` (``2 d 3 h`` once past a day) for an overdue report;
    empty otherwise."""
    from siaga_tui.core.i18n import translate

    if not item.overdue:
        return ""
    return translate(
        f"handover_overdue_{item.overdue}",
        lang,
        late=format_span(timedelta(minutes=item.late_minutes), lang),
    )


class HandoverService:
    """Creating, acknowledging and reading handovers, for one operator."""

    def __init__(
        self,
        db: Database,
        *,
        operator: str,
        clock: Clock = system_clock,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock
        self.catalogue = catalogue or load_catalogue()

    def preview(self, period: Period | None = None) -> ShiftSummary:
        """The summary as it would be handed over now (nothing is written)."""
        return shift_summary(
            self.db,
            period or outgoing_shift(self.clock),
            clock=self.clock,
            catalogue=self.catalogue,
        )

    def create(self, notes: str = "", period: Period | None = None) -> HandoverView:
        """Record the handover of the outgoing shift, with the outgoing operator's notes."""
        try:
            clean = bounded_text(notes, field="notes", max_length=NOTES_LIMIT, multiline=True)
        except ValidationError as error:
            raise InvalidInput([error]) from error
        summary = self.preview(period)
        stored = summary.to_dict()
        now = self.clock()
        with self.db.write() as conn:
            handover_id = int(
                conn.execute(
                    sa.insert(HANDOVER)
                    .values(
                        created_at=now,
                        outgoing=self.operator,
                        shift_start=summary.start,
                        shift_end=summary.end,
                        notes=clean,
                        summary=stored,
                        audit_head="",
                    )
                    .returning(HANDOVER.c.id)
                ).scalar_one()
            )
            head = audit.append_audit(
                conn,
                at=now,
                operator=self.operator,
                action=Action.HANDOVER_CREATED,
                subject=f"handover #{handover_id}",
                details={
                    "handover_id": handover_id,
                    "shift_start": summary.start,
                    "shift_end": summary.end,
                    "open": summary.open_total,
                    "overdue": len(summary.overdue),
                    "awaiting_ack": len(summary.awaiting_ack),
                    "content_sha256": hashlib.sha256(
                        canonical({"notes": clean, "summary": stored}).encode("utf-8")
                    ).hexdigest(),
                },
            )
            conn.execute(
                sa.update(HANDOVER).where(HANDOVER.c.id == handover_id).values(audit_head=head.hash)
            )
        return self.get(handover_id)

    def acknowledge(self, handover_id: int) -> HandoverView:
        """The incoming operator takes the shift over."""
        now = self.clock()
        with self.db.write() as conn:
            row = _load(conn, handover_id)
            if row["acknowledged_at"] is not None:
                raise TransitionRefused(
                    "handover_already_acknowledged", id=handover_id, incoming=row["incoming"]
                )
            if row["outgoing"] == self.operator:
                raise TransitionRefused("handover_own", id=handover_id)
            conn.execute(
                sa.update(HANDOVER)
                .where(HANDOVER.c.id == handover_id)
                .values(acknowledged_at=now, incoming=self.operator)
            )
            audit.append_audit(
                conn,
                at=now,
                operator=self.operator,
                action=Action.HANDOVER_ACKNOWLEDGED,
                subject=f"handover #{handover_id}",
                details={"handover_id": handover_id, "outgoing": row["outgoing"]},
            )
        return self.get(handover_id)

    def get(self, handover_id: int) -> HandoverView:
        with self.db.read() as conn:
            return _view(conn, _load(conn, handover_id))

    def latest(self, limit: int = 20) -> list[HandoverView]:
        """The newest handovers, newest first."""
        with self.db.read() as conn:
            rows = (
                conn.execute(sa.select(HANDOVER).order_by(HANDOVER.c.id.desc()).limit(limit))
                .mappings()
                .all()
            )
            return [_view(conn, row) for row in rows]

    def for_shift(self, period: Period | None = None) -> list[HandoverView]:
        """The handovers already recorded for the outgoing shift (or ``period``), oldest first:
        a second one for the same shift is allowed, and the operator is told."""
        shift = period or outgoing_shift(self.clock)
        with self.db.read() as conn:
            rows = (
                conn.execute(
                    sa.select(HANDOVER)
                    .where(HANDOVER.c.shift_start == shift.start)
                    .order_by(HANDOVER.c.id)
                )
                .mappings()
                .all()
            )
            return [_view(conn, row) for row in rows]

    def pending(self) -> HandoverView | None:
        """The newest handover nobody has acknowledged yet, by someone else."""
        with self.db.read() as conn:
            row = (
                conn.execute(
                    sa.select(HANDOVER)
                    .where(
                        HANDOVER.c.acknowledged_at.is_(None), HANDOVER.c.outgoing != self.operator
                    )
                    .order_by(HANDOVER.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            return _view(conn, row) if row else None


def _load(conn: Connection, handover_id: int) -> Any:
    row = conn.execute(sa.select(HANDOVER).where(HANDOVER.c.id == handover_id)).mappings().first()
    if row is None:
        raise NotFound("handover_not_found", id=handover_id)
    return row


def _view(conn: Connection, row: Any) -> HandoverView:
    head_id = conn.execute(sa.select(AUDIT.c.id).where(AUDIT.c.hash == row["audit_head"])).scalar()
    return HandoverView(
        id=int(row["id"]),
        created_at=as_utc(row["created_at"]),
        outgoing=row["outgoing"],
        notes=row["notes"],
        summary=ShiftSummary.from_dict(row["summary"]),
        audit_head=row["audit_head"],
        acknowledged_at=as_utc(row["acknowledged_at"]) if row["acknowledged_at"] else None,
        incoming=row["incoming"],
        audit_head_id=int(head_id) if head_id is not None else None,
    )
