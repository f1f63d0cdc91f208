"""Filing and working reports: every change is one transaction with its event.

``ReportService`` is bound to one database, one clock and one operator (whose name
every record carries). Its methods validate, apply the lifecycle rules, write, and
return plain views; they never import anything from the console.

Lifecycle rules (menunggu → ditangani → selesai):

- forwarding to an agency moves a waiting report to ``ditangani``;
- ``ditangani`` needs at least one referral;
- ``selesai`` needs a closing note (``menunggu`` → ``selesai`` is allowed with one:
  settled on the phone);
- reopening a closed report needs a reason;
- marking a duplicate closes it and points it at the original, following chains to
  the one original;
- everything else is refused with a message that says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from siaga_tui.core.catalogue import NOT_NAMED_AGENCY, Catalogue, Category, load_catalogue
from siaga_tui.core.db import Database, DriverInsert, DriverStatement
from siaga_tui.core.errors import (
    ConflictError,
    InvalidInput,
    NotFound,
    TransitionRefused,
    ValidationError,
)
from siaga_tui.core.fields import FIELD_LIMITS, bounded_text, collect
from siaga_tui.core.models import (
    CALL,
    REPORT,
    Call,
    Channel,
    Disposition,
    EventKind,
    Referral,
    Report,
    ReportEvent,
    Status,
    queue_rank,
)
from siaga_tui.core.phones import normalize_phone
from siaga_tui.core.timeutil import Clock, as_utc, system_clock, to_local
from siaga_tui.services.events import ImportedBy, append_event
from siaga_tui.services.operators import Permission, check_permission
from siaga_tui.services.rows import (
    SUMMARY_COLUMNS,
    call_view,
    event_view,
    referral_view,
    summaries,
    summary_of,
)
from siaga_tui.services.telephony import link_callback, link_phone_call
from siaga_tui.services.views import ReportDetail, ReportSummary

#: An open report of the same category in the same kelurahan this recently is offered
#: as the report a new call may be about.
DUPLICATE_WINDOW: Final = timedelta(hours=1)
#: Open reports from the same phone number are offered if filed this recently.
SAME_CALLER_WINDOW: Final = timedelta(hours=24)

ALLOWED_CHANGES: Final = {
    (Status.MENUNGGU, Status.DITANGANI),
    (Status.MENUNGGU, Status.SELESAI),
    (Status.DITANGANI, Status.SELESAI),
}
#: How far back the originals offered for "mark as duplicate" go.
DUPLICATE_LOOKBACK: Final = timedelta(days=3)


def status_moves(current: str, *, forwarded: bool) -> list[str]:
    """The statuses a report in ``current`` may move to, the usual next step first.

    The same rules ``change_status`` enforces: a closed report is reopened instead,
    and "ditangani" needs the report forwarded to an agency first.
    """
    here = Status(current)
    moves = [target for source, target in sorted(ALLOWED_CHANGES) if source == here]
    if not forwarded:
        moves = [m for m in moves if m != Status.DITANGANI]
    order = list(Status)
    return [m.value for m in sorted(moves, key=order.index)]


@dataclass(frozen=True)
class NewReport:
    """What the operator typed for a new report (raw; the service validates it)."""

    category: str
    kelurahan: str
    description: str
    phone: str | None = None
    caller_name: str | None = None
    address: str = ""
    answered_at: datetime | None = None
    priority: int | None = None
    import_key: str | None = None
    created_at: datetime | None = None
    #: False for a report from a source that recorded no call (imported history): no
    #: call row, and the answer moment stays unknown unless ``answered_at`` gives it.
    with_call: bool = True
    #: History kept out of live operations (see ``report.archived``).
    archived: bool = False
    #: The phone system's call it came from (``phone_call.id``), and the call-back it
    #: came from (``callback.id``): linked in the same transaction.
    phone_call_id: int | None = None
    callback_id: int | None = None


@dataclass(frozen=True)
class SavedReport:
    id: int
    number: str
    call_id: int | None


class ReportService:
    """Every operation on reports, for one operator."""

    def __init__(
        self,
        db: Database,
        *,
        operator: str,
        clock: Clock = system_clock,
        catalogue: Catalogue | None = None,
        role: str | None = None,
        history: bool = False,
        imported: ImportedBy | None = None,
    ) -> None:
        self.db = db
        #: Set when replaying an import: who ran it, from which file (``ImportedBy``).
        self.imported = imported
        #: True when replaying imported history: forwarding to an agency the source
        #: does not name (``NOT_NAMED_AGENCY``) is allowed.
        self.history = history
        self.operator = operator
        #: The signed-in account's role; None in single-user mode (no accounts).
        self.role = role
        self.clock = clock
        self.catalogue = catalogue or load_catalogue()

    # --- Filing -----------------------------------------------------------------------

    def validate_new_report(self, data: NewReport) -> dict[str, Any]:
        """The cleaned fields of a new report, or InvalidInput naming every bad field."""
        errors: list[ValidationError] = []
        cleaned: dict[str, Any] = {}

        def check(name: str, produce: Any) -> None:
            cleaned[name] = collect(errors, produce)

        check("category", lambda: self._category(data.category))
        check("phone", lambda: normalize_phone(data.phone))
        check("kelurahan", lambda: self.catalogue.resolve_kelurahan(data.kelurahan or ""))
        check("address", lambda: _text(data.address, "address"))
        check(
            "description",
            lambda: _text(data.description, "description", required=True, multiline=True),
        )
        check("caller_name", lambda: _text(data.caller_name, "caller_name") or None)
        if errors:
            raise InvalidInput(errors)
        return cleaned

    def create_report(self, data: NewReport) -> SavedReport:
        """File a report and the call it came from; returns its new number."""
        fields = self.validate_new_report(data)
        category: Category = fields["category"]
        kelurahan = fields["kelurahan"]
        now = self.clock()
        created_at = as_utc(data.created_at) if data.created_at else now
        answered_at: datetime | None = as_utc(data.answered_at) if data.answered_at else None
        if answered_at is None and data.with_call:
            answered_at = created_at
        if answered_at is not None:
            answered_at = min(answered_at, created_at)  # a clock step back must not invert them
        priority = data.priority or category.priority
        with self.db.write() as conn:
            year = _local_year(created_at)
            seq = _next_number(conn, year)
            number = format_report_number(year, seq)
            values = {
                "number": number,
                "year": year,
                "seq": seq,
                "category": category.code,
                "kind": category.kind,
                "priority": priority,
                "status": Status.MENUNGGU.value,
                "queue_rank": queue_rank(category.kind, Status.MENUNGGU),
                "caller_phone": fields["phone"],
                "caller_name": fields["caller_name"],
                "kelurahan_code": kelurahan.code,
                "kecamatan_code": kelurahan.kecamatan.code,
                "address": fields["address"],
                "description": fields["description"],
                "operator": self.operator,
                "created_at": created_at,
                "updated_at": created_at,
                "version": 1,
                "call_answered_at": answered_at,
                "import_key": data.import_key,
                "archived": data.archived,
            }
            report_id = _INSERT_REPORT.execute(conn, values)
            call_id = None
            if data.with_call:
                assert answered_at is not None
                call_id = _insert_call(
                    conn,
                    answered_at=answered_at,
                    phone=fields["phone"],
                    disposition=Disposition.LAPORAN,
                    operator=self.operator,
                    report_id=report_id,
                )
                link_phone_call(conn, data.phone_call_id, call_id)
            link_callback(conn, data.callback_id, report_id)
            details = {
                key: values[key]
                for key in (
                    "number",
                    "category",
                    "kind",
                    "priority",
                    "status",
                    "caller_phone",
                    "caller_name",
                    "kelurahan_code",
                    "kecamatan_code",
                    "address",
                    "description",
                )
            }
            details["call_id"] = call_id
            if data.archived:
                details["archived"] = True
            if self.imported:
                details["imported"] = {"by": self.imported.operator, "file": self.imported.file}
            append_event(
                conn,
                report_id=report_id,
                kind=EventKind.CREATED,
                operator=self.operator,
                at=created_at,
                details=details,
                number=number,
                imported=self.imported,
            )
        return SavedReport(id=report_id, number=number, call_id=call_id)

    def possible_duplicates(
        self, category: str, kelurahan_code: str | None, phone: str | None
    ) -> list[ReportSummary]:
        """Open reports the caller may be calling about: offered before filing a new one."""
        now = self.clock()
        try:
            e164 = normalize_phone(phone)
        except ValidationError:
            e164 = None
        conditions = []
        if kelurahan_code:
            conditions.append(
                sa.and_(
                    REPORT.c.kelurahan_code == kelurahan_code,
                    REPORT.c.category == category,
                    REPORT.c.created_at >= now - DUPLICATE_WINDOW,
                )
            )
        if e164:
            conditions.append(
                sa.and_(
                    REPORT.c.caller_phone == e164,
                    REPORT.c.created_at >= now - SAME_CALLER_WINDOW,
                )
            )
        if not conditions:
            return []
        query = (
            sa.select(*SUMMARY_COLUMNS)
            .where(sa.or_(*conditions), REPORT.c.status != Status.SELESAI)
            .order_by(REPORT.c.created_at.desc())
            .limit(10)
        )
        with self.db.read() as conn:
            return summaries(conn, query)

    def duplicate_candidates(self, report_id: int, *, limit: int = 20) -> list[ReportSummary]:
        """The reports this one may duplicate: same category and kelurahan, filed in the
        few days before it (or since), not itself and not themselves duplicates; newest first."""
        with self.db.read_session() as session:
            report = _find_report(session, report_id)
            created = as_utc(report.created_at)
            query = (
                sa.select(*SUMMARY_COLUMNS)
                .where(
                    REPORT.c.kelurahan_code == report.kelurahan_code,
                    REPORT.c.category == report.category,
                    REPORT.c.created_at >= created - DUPLICATE_LOOKBACK,
                    REPORT.c.id != report_id,
                    REPORT.c.duplicate_of.is_(None),
                )
                .order_by(REPORT.c.created_at.desc())
                .limit(limit)
            )
            return summaries(session.connection(), query)

    def attach_call(
        self,
        report_id: int,
        *,
        phone: str | None = None,
        answered_at: datetime | None = None,
        note: str | None = None,
        caller_name: str | None = None,
        address: str | None = None,
        description: str | None = None,
        phone_call_id: int | None = None,
        callback_id: int | None = None,
    ) -> int:
        """Record another call about an existing report (another caller, same fire).

        What this caller said (``description``, ``address``, ``caller_name``) stays with
        the call and goes into the report's history: "two people are trapped" from the
        second caller reaches whoever works the report. Every bad field is named at once.
        """
        errors: list[ValidationError] = []
        cleaned: dict[str, Any] = {}

        def check(name: str, produce: Any) -> None:
            cleaned[name] = collect(errors, produce)

        check("phone", lambda: normalize_phone(phone))
        check("note", lambda: _text(note, "note", multiline=True) or None)
        check("caller_name", lambda: _text(caller_name, "caller_name") or None)
        check("address", lambda: _text(address, "address") or None)
        check("description", lambda: _text(description, "description", multiline=True) or None)
        if errors:
            raise InvalidInput(errors)
        now = self.clock()
        said = {key: cleaned[key] for key in ("caller_name", "address", "description")}
        with self.db.write_session() as session:
            report = _load_report(session, report_id)
            call_id = _insert_call(
                session.connection(),
                answered_at=as_utc(answered_at) if answered_at else now,
                phone=cleaned["phone"],
                disposition=Disposition.LAPORAN,
                operator=self.operator,
                report_id=report_id,
                note=cleaned["note"],
                **said,
            )
            link_phone_call(session.connection(), phone_call_id, call_id)
            link_callback(session.connection(), callback_id, report_id)
            details = {
                "call_id": call_id,
                "caller_phone": cleaned["phone"],
                "note": cleaned["note"],
            }
            details.update({key: value for key, value in said.items() if value})
            self._change(session, report, EventKind.CALL_ATTACHED, now, details, {})
        return call_id

    # --- Working a report -----------------------------------------------------------

    def forward(
        self,
        report_id: int,
        agency: str,
        *,
        channel: str = Channel.TELEPON,
        agency_ref: str | None = None,
        expected_version: int | None = None,
        when_unknown: bool = False,
    ) -> int:
        """Forward the report to an agency; a waiting report becomes ``ditangani``.

        ``when_unknown``: the source (imported history) does not say when; the
        referral carries the clock's moment but the report's ``first_forwarded_at``
        stays unknown, and the event says so.
        """
        agency_code = self._agency(agency)
        channel_code = _choice("channel", channel, Channel)
        ref = _field("agency_ref", lambda: _text(agency_ref, "agency_ref")) or None
        now = self.clock()
        with self.db.write_session() as session:
            report = _load_report(session, report_id, expected_version)
            if report.status == Status.SELESAI:
                raise TransitionRefused("forward_closed", number=report.number)
            at = _not_before(now, report.created_at)
            referral = Referral(
                report_id=report_id,
                agency=agency_code,
                forwarded_at=at,
                forwarded_by=self.operator,
                channel=channel_code,
                agency_ref=ref,
            )
            session.add(referral)
            session.flush()
            assert referral.id is not None
            referral_id = referral.id
            changes: dict[str, Any] = {}
            details: dict[str, Any] = {
                "referral_id": referral_id,
                "agency": agency_code,
                "channel": channel_code,
                "agency_ref": ref,
            }
            if when_unknown:
                details["when_unknown"] = True
            elif report.first_forwarded_at is None:
                changes["first_forwarded_at"] = at
            if report.status == Status.MENUNGGU:
                changes.update(_status_columns(report, Status.DITANGANI))
                details["status_to"] = Status.DITANGANI.value
            self._change(session, report, EventKind.FORWARDED, at, details, changes)
        return referral_id

    def acknowledge(
        self,
        report_id: int,
        referral_id: int,
        *,
        acknowledged_by: str | None = None,
        agency_ref: str | None = None,
        expected_version: int | None = None,
        when_unknown: bool = False,
    ) -> None:
        """Record that the agency confirmed it has taken the report up (``when_unknown``:
        as for ``forward``)."""
        by = _field("acknowledged_by", lambda: _text(acknowledged_by, "caller_name")) or None
        ref = _field("agency_ref", lambda: _text(agency_ref, "agency_ref")) or None
        now = self.clock()
        with self.db.write_session() as session:
            report = _load_report(session, report_id, expected_version)
            referral = session.get(Referral, referral_id)
            if referral is None or referral.report_id != report_id:
                raise NotFound("referral_not_found", referral=referral_id, number=report.number)
            if referral.acknowledged_at is not None:
                raise TransitionRefused(
                    "already_acknowledged", agency=referral.agency, number=report.number
                )
            at = _not_before(now, referral.forwarded_at)
            referral.acknowledged_at = at
            referral.acknowledged_by = by
            if ref:
                referral.agency_ref = ref
            changes = {} if report.first_acknowledged_at else {"first_acknowledged_at": at}
            details = {
                "referral_id": referral_id,
                "agency": referral.agency,
                "by": by,
                "agency_ref": ref,
            }
            if when_unknown:
                changes = {}
                details["when_unknown"] = True
            self._change(session, report, EventKind.ACKNOWLEDGED, at, details, changes)

    def change_status(
        self,
        report_id: int,
        status: str,
        *,
        note: str | None = None,
        expected_version: int | None = None,
        when_unknown: bool = False,
    ) -> None:
        """Move the report along its lifecycle, if the rules allow it (``when_unknown``:
        the closing moment stays unknown, as for ``forward``)."""
        target = Status(_choice("status", status, Status))
        clean_note = _field("note", lambda: _text(note, "note", multiline=True))
        now = self.clock()
        with self.db.write_session() as session:
            report = _load_report(session, report_id, expected_version)
            current = Status(report.status)
            _check_transition(session, report, current, target, clean_note)
            at = _not_before(now, report.created_at, report.first_forwarded_at)
            changes = _status_columns(report, target)
            if target == Status.SELESAI and not when_unknown:
                changes["closed_at"] = at
            details = {"from": current.value, "to": target.value, "note": clean_note or None}
            if when_unknown:
                details["when_unknown"] = True
            self._change(session, report, EventKind.STATUS_CHANGED, at, details, changes)

    def add_note(self, report_id: int, note: str, *, expected_version: int | None = None) -> None:
        clean = _field("note", lambda: _text(note, "note", required=True, multiline=True))
        now = self.clock()
        with self.db.write_session() as session:
            report = _load_report(session, report_id, expected_version)
            self._change(session, report, EventKind.NOTE_ADDED, now, {"note": clean}, {})

    def mark_duplicate(
        self,
        report_id: int,
        original: str | int,
        *,
        expected_version: int | None = None,
        when_unknown: bool = False,
    ) -> str:
        """Close the report as a duplicate of another; returns the original's number
        (``when_unknown``: the closing moment stays unknown, as for ``forward``)."""
        now = self.clock()
        with self.db.write_session() as session:
            report = _load_report(session, report_id, expected_version)
            if report.duplicate_of is not None:
                raise TransitionRefused("already_duplicate", number=report.number)
            root = _resolve_original(session, original)
            if root.id == report_id:
                raise TransitionRefused("duplicate_of_itself", number=report.number)
            at = _not_before(now, report.created_at, report.first_forwarded_at)
            changes = _status_columns(report, Status.SELESAI)
            changes.update(duplicate_of=root.id)
            if not when_unknown:
                changes["closed_at"] = at
            details = {
                "original_id": root.id,
                "original_number": root.number,
                "from": report.status,
            }
            if when_unknown:
                details["when_unknown"] = True
            self._change(session, report, EventKind.DUPLICATE_LINKED, at, details, changes)
            return root.number

    def reopen(self, report_id: int, reason: str, *, expected_version: int | None = None) -> str:
        """Reopen a closed report (with a reason); returns the status it goes back to.

        Supervisors only, once accounts exist: an operator's attempt is refused and
        recorded in the audit log.
        """
        check_permission(
            self.db,
            operator=self.operator,
            role=self.role,
            permission=Permission.REOPEN_REPORT,
            subject=str(report_id),
            clock=self.clock,
        )
        clean = _field("reason", lambda: _text(reason, "reason", required=True, multiline=True))
        now = self.clock()
        with self.db.write_session() as session:
            report = _load_report(session, report_id, expected_version)
            if report.status != Status.SELESAI:
                raise TransitionRefused("reopen_not_closed", number=report.number)
            has_referral = _referral_count(session, report_id) > 0
            target = Status.DITANGANI if has_referral else Status.MENUNGGU
            changes = _status_columns(report, target)
            changes.update(closed_at=None, duplicate_of=None)
            details = {
                "reason": clean,
                "to": target.value,
                "was_duplicate_of": report.duplicate_of,
            }
            self._change(session, report, EventKind.REOPENED, now, details, changes)
        return target.value

    # --- Reading ----------------------------------------------------------------------

    def get_report(self, report: int | str) -> ReportDetail:
        """A report by id or number, with referrals, calls and history."""
        with self.db.read_session() as session:
            return load_detail(session, report)

    # --- Internals --------------------------------------------------------------------

    def _change(
        self,
        session: Session,
        report: Report,
        kind: EventKind,
        at: datetime,
        details: dict[str, Any],
        changes: dict[str, Any],
    ) -> None:
        """Apply ``changes`` if nobody else changed the report, and append the event.

        One flush: ``UPDATE report … WHERE id = :id AND version = :old`` (the model's
        version column), then the event and its audit entry in the same transaction.
        """
        for name, value in changes.items():
            setattr(report, name, value)
        report.version += 1
        report.updated_at = at
        try:
            session.flush()
        except StaleDataError:
            raise ConflictError("report_changed_meanwhile", number=report.number) from None
        assert report.id is not None
        append_event(
            session.connection(),
            report_id=report.id,
            kind=kind,
            operator=self.operator,
            at=at,
            details=details,  # events.append_event makes it JSON (audit.jsonable)
            number=report.number,
            imported=self.imported,
        )

    def _category(self, code: str) -> Category:
        try:
            return self.catalogue.category((code or "").strip())
        except NotFound:
            raise ValidationError("category", "category_unknown", value=code or "") from None

    def _agency(self, code: str) -> str:
        """A catalogue agency's code; "not named" only for history (an imported row
        handled by an agency its source does not name), never for a live forward."""
        wanted = (code or "").strip().lower()
        if wanted == NOT_NAMED_AGENCY and self.history:
            return wanted
        try:
            if wanted == NOT_NAMED_AGENCY:
                raise NotFound("agency_unknown", value=code)
            return self.catalogue.agency(wanted).code
        except NotFound:
            raise ValidationError("agency", "agency_unknown", value=code or "") from None


# --- Module helpers, shared with the other services -----------------------------------


# Filing a report runs these: straight on the driver's cursor, which keeps the save path
# close to a raw insert (see core.db.DriverStatement and benchmarks, B3).
_INSERT_REPORT = DriverInsert(
    REPORT,
    [
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
        "call_answered_at",
        "import_key",
        "archived",
    ],
)
_INSERT_CALL = DriverInsert(
    CALL,
    [
        "answered_at",
        "caller_phone",
        "disposition",
        "operator",
        "note",
        "report_id",
        "caller_name",
        "address",
        "description",
    ],
)
_NEXT_NUMBER = DriverStatement(
    sa.text(
        "INSERT INTO report_number_sequence (year, last_value) VALUES (:year, 1) "
        "ON CONFLICT (year) DO UPDATE SET last_value = report_number_sequence.last_value + 1 "
        "RETURNING last_value"
    )
)


def format_report_number(year: int, seq: int) -> str:
    """``112-2026-000123``: readable on the phone, unique across workstations."""
    return f"112-{year}-{seq:06d}"


def _local_year(moment: datetime) -> int:
    local = to_local(moment)
    assert local is not None
    return local.year


def _next_number(conn: Connection, year: int) -> int:
    """Take the next number for ``year``; the row lock serialises concurrent filers."""
    return int(_NEXT_NUMBER.first(conn, {"year": year})[0])


def _insert_call(
    conn: Connection,
    *,
    answered_at: datetime,
    phone: str | None,
    disposition: Disposition,
    operator: str,
    report_id: int | None = None,
    note: str | None = None,
    caller_name: str | None = None,
    address: str | None = None,
    description: str | None = None,
) -> int:
    return _INSERT_CALL.execute(
        conn,
        {
            "answered_at": answered_at,
            "caller_phone": phone,
            "disposition": disposition.value,
            "operator": operator,
            "note": note,
            "report_id": report_id,
            "caller_name": caller_name,
            "address": address,
            "description": description,
        },
    )


insert_call = _insert_call


def _load_report(session: Session, report_id: int, expected_version: int | None = None) -> Report:
    # The row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers):
    # a change made without a view of the report (a script's note or status) waits for
    # the one before it and applies to what it committed, instead of failing the
    # version check below. A stale view (the console's expected_version) still fails.
    report = session.get(Report, report_id, with_for_update=True)
    if report is None:
        raise NotFound("report_not_found", number=str(report_id))
    if expected_version is not None and report.version != expected_version:
        raise ConflictError("report_changed_meanwhile", number=report.number)
    return report


def _resolve_original(session: Session, original: str | int) -> Report:
    """The report a duplicate points to, following chains to the one original."""
    report = _find_report(session, original)
    seen = {report.id}
    while report.duplicate_of is not None:
        found = session.get(Report, report.duplicate_of)
        if found is None or found.id in seen:  # a cycle cannot be written; never loop
            break
        report = found
        seen.add(report.id)
    return report


def _find_report(session: Session, report: str | int) -> Report:
    if isinstance(report, int):
        found = session.get(Report, report)
    else:
        number = normalise_report_number(report)
        found = session.exec(select(Report).where(Report.number == number)).first()
    if found is None:
        raise NotFound("report_not_found", number=str(report))
    return found


def normalise_report_number(text: str) -> str:
    """Accept ``112-2026-000123``, ``2026-123`` and ``2026/123`` as the same number."""
    cleaned = text.strip()
    parts = [p for p in cleaned.replace("/", "-").split("-") if p]
    if len(parts) == 3 and parts[0] == "112" and parts[1].isdigit() and parts[2].isdigit():
        return format_report_number(int(parts[1]), int(parts[2]))
    if len(parts) == 2 and all(p.isdigit() for p in parts) and len(parts[0]) == 4:
        return format_report_number(int(parts[0]), int(parts[1]))
    return cleaned


def _referral_count(session: Session, report_id: int) -> int:
    query = select(sa.func.count()).select_from(Referral).where(Referral.report_id == report_id)
    return int(session.exec(query).one())


def _check_transition(
    session: Session, report: Report, current: Status, target: Status, note: str
) -> None:
    number = report.number
    if current == target:
        raise TransitionRefused("status_unchanged", number=number, status=target.value)
    if current == Status.SELESAI:
        raise TransitionRefused("status_closed_use_reopen", number=number)
    if (current, target) not in ALLOWED_CHANGES:
        raise TransitionRefused(
            "status_not_allowed", number=number, current=current.value, target=target.value
        )
    if target == Status.DITANGANI and _referral_count(session, report_id_of(report)) == 0:
        raise TransitionRefused("status_needs_referral", number=number)
    if target == Status.SELESAI and not note:
        raise ValidationError("note", "status_needs_closing_note", number=number)


def _status_columns(report: Report, target: Status) -> dict[str, Any]:
    return {"status": target.value, "queue_rank": queue_rank(report.kind, target)}


def report_id_of(report: Report) -> int:
    """A stored report's id (a loaded report always has one)."""
    assert report.id is not None
    return report.id


def _not_before(now: datetime, *earlier: datetime | None) -> datetime:
    """``now``, or the latest earlier moment if the clock stepped back (no negative intervals)."""
    moments = [as_utc(m) for m in earlier if m is not None]
    return max([now, *moments])


def _text(
    value: str | None,
    field: str,
    *,
    required: bool = False,
    multiline: bool = False,
) -> str:
    return bounded_text(
        value, field=field, max_length=FIELD_LIMITS[field], required=required, multiline=multiline
    )


def _field(name: str, produce: Any) -> Any:
    """Run one field's validation; any error is reported as a form error on that field."""
    try:
        return produce()
    except ValidationError as error:
        raise InvalidInput([error]) from error


def _choice(field: str, value: str, allowed: Any) -> str:
    wanted = (value or "").strip().lower()
    values = [member.value for member in allowed]
    if wanted not in values:
        raise InvalidInput(
            [ValidationError(field, "choice_unknown", value=value, allowed=", ".join(values))]
        )
    return wanted


def load_detail(session: Session, report: int | str) -> ReportDetail:
    """Everything about one report, read in one transaction."""
    found = _find_report(session, report)
    report_id = report_id_of(found)
    referrals = tuple(
        referral_view(r)
        for r in session.exec(
            select(Referral).where(Referral.report_id == report_id).order_by(col(Referral.id))
        )
    )
    calls = tuple(
        call_view(c, found.number)
        for c in session.exec(
            select(Call).where(Call.report_id == report_id).order_by(col(Call.id))
        )
    )
    events = tuple(
        event_view(e)
        for e in session.exec(
            select(ReportEvent)
            .where(ReportEvent.report_id == report_id)
            .order_by(col(ReportEvent.id))
        )
    )
    duplicate_number = None
    if found.duplicate_of is not None:
        original = session.get(Report, found.duplicate_of)
        duplicate_number = original.number if original is not None else None
    agencies: list[str] = []
    for referral in referrals:
        if referral.agency not in agencies:
            agencies.append(referral.agency)
    awaiting = min((r.forwarded_at for r in referrals if r.acknowledged_at is None), default=None)
    return ReportDetail(
        summary=summary_of(found, agencies, awaiting),
        caller_name=found.caller_name,
        call_answered_at=found.call_answered_at,
        first_acknowledged_at=found.first_acknowledged_at,
        duplicate_of_number=duplicate_number,
        referrals=referrals,
        calls=calls,
        events=events,
    )
