"""Calls as the phone system sees them: ringing, answered, ended, and the call-back list.

Every event about a call (a PBX hook, the position's softphone) lands on one
``phone_call`` row keyed by the phone system's call id, so the same event twice changes
nothing and events out of order (an answer before the ring, a hang-up the PBX sent
before the answer's hook finished) still give the right call: the first moment given
for each of offered / answered / ended is kept, and how the call ended follows from
them: ended without an answer is **abandoned**, ended after it **answered**, unless the
line was cut (**dropped**).

Times come from the phone system when it gives them (``at``); otherwise they are the
moment the event reached this program. Intervals taken from them are the phone's
(``stats``: ``phone``).

On PostgreSQL every change sends ``NOTIFY siaga112_phone`` so the other positions ring
at once (``services/phone_signal.py`` listens); on SQLite the console's live watch sees
the commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from siaga_tui.core.db import Database
from siaga_tui.core.errors import NotFound, ValidationError
from siaga_tui.core.fields import bounded_text
from siaga_tui.core.models import (
    CALL,
    CALLBACK,
    PHONE_CALL,
    REPORT,
    CallbackMethod,
    CallbackOutcome,
    CallOutcome,
    Disposition,
)
from siaga_tui.core.phones import format_phone, normalize_phone
from siaga_tui.core.text import clean_text
from siaga_tui.core.timeutil import Clock, as_utc, system_clock

#: The channel other positions listen on (PostgreSQL).
NOTIFY_CHANNEL: Final = "siaga112_phone"
#: A call still "ringing" after this long lost its hang-up somewhere: no longer shown.
RING_STALE: Final = timedelta(minutes=10)
#: How far back the call-back list looks.
CALLBACK_WINDOW: Final = timedelta(days=2)
CALLBACK_LIMIT: Final = 50
#: The longest phone-system call id, caller id, line and position kept.
CALL_ID_LENGTH: Final = 200
LINE_LENGTH: Final = 64

_URI: Final = re.compile(r"<([^>]*)>")
_SCHEME: Final = re.compile(r"^(sips?|tel):", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PhoneCallView:
    """One call as the phone system saw it."""

    #: The row's id; None while the call is known only from the softphone's event.
    id: int | None
    system_call_id: str
    line: str | None
    caller_id: str | None
    caller_phone: str | None
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    position: str | None
    outcome: str | None
    logged_call_id: int | None

    @property
    def ringing(self) -> bool:
        return self.outcome is None and self.answered_at is None

    @property
    def number_shown(self) -> str:
        """The number in national format, else the caller id as given ("" when withheld)."""
        if self.caller_phone:
            return format_phone(self.caller_phone)
        return self.caller_id or ""

    @property
    def recorded(self) -> bool:
        """Written to the database (it has a row id); False for a call known only from
        the softphone's event so far."""
        return self.id is not None

    @classmethod
    def offered(cls, system_call_id: str, caller: str | None, at: datetime) -> PhoneCallView:
        """A call ringing as its event gives it, before (or without) the database: what
        ``TelephonyService.ring`` would write."""
        caller_id, phone = parse_caller(caller)
        return cls(
            id=None,
            system_call_id=clean_call_id(system_call_id),
            line=None,
            caller_id=caller_id,
            caller_phone=phone,
            offered_at=as_utc(at),
            answered_at=None,
            ended_at=None,
            position=None,
            outcome=None,
            logged_call_id=None,
        )

    def answered(self, at: datetime, position: str) -> PhoneCallView:
        """This call answered at ``position`` (the first answer is kept, as ``answer`` does)."""
        if self.answered_at is not None:
            return self
        return replace(self, answered_at=as_utc(at), position=self.position or position)

    def ended(self, at: datetime, *, dropped: bool = False) -> PhoneCallView:
        """This call ended (the first end is kept, as ``hangup`` does)."""
        if self.ended_at is not None:
            return self
        return replace(
            self, ended_at=as_utc(at), outcome=_outcome(self.answered_at, at, dropped=dropped)
        )


@dataclass(frozen=True, slots=True)
class CallbackItem:
    """A call to call back: abandoned (``phone_call_id``) or silent (``call_id``)."""

    kind: str  # "abandoned" or "silent"
    at: datetime
    phone: str | None
    caller_id: str | None
    phone_call_id: int | None
    call_id: int | None
    attempts: int
    last_outcome: str | None
    #: From the number's history: earlier calls, reports and pranks.
    earlier_calls: int
    reports: int
    pranks: int

    @property
    def key(self) -> str:
        return f"p{self.phone_call_id}" if self.phone_call_id is not None else f"c{self.call_id}"

    @property
    def number_shown(self) -> str:
        return format_phone(self.phone) if self.phone else (self.caller_id or "")

    @property
    def dialable(self) -> str | None:
        """What a softphone can dial: the national digits, or a SIP address given."""
        if self.phone:
            return _dial_digits(self.phone)
        if self.caller_id and self.caller_id.lower().startswith("sip:") and "@" in self.caller_id:
            user = self.caller_id[4:].split("@", 1)[0]
            if user and user.lower() != "anonymous":
                return self.caller_id
        return None


def parse_caller(raw: str | None) -> tuple[str | None, str | None]:
    """``(caller_id, caller_phone)`` from what the phone system gave.

    ``caller_id`` is the text as given (cleaned, at most 200 characters), None when
    empty; ``caller_phone`` its E.164 form (or a service code) when the number, or a
    SIP/tel URI's user part, is a phone number. ``anonymous``, ``sip:user@host`` and
    anything else are kept as given with no phone, never refused: a withheld number
    must not stop a call from being taken.
    """
    text = clean_text(raw or "").strip()[:CALL_ID_LENGTH]
    if not text:
        return None, None
    candidate = text
    inside = _URI.search(candidate)
    if inside:
        candidate = inside.group(1)
    candidate = _SCHEME.sub("", candidate.strip())
    candidate = candidate.split(";", 1)[0].split("@", 1)[0]
    try:
        phone = normalize_phone(candidate)
    except ValidationError:
        phone = None
    return text, phone


class TelephonyService:
    """The phone system's events about calls, and the call-back list, for one position."""

    def __init__(self, db: Database, *, operator: str, clock: Clock = system_clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    # --- Events --------------------------------------------------------------------

    def ring(
        self,
        system_call_id: str,
        caller: str | None,
        *,
        line: str | None = None,
        at: datetime | None = None,
    ) -> PhoneCallView:
        """A call is offered (ringing). Repeated or late rings keep what is known."""
        call_id = clean_call_id(system_call_id)
        caller_id, phone = parse_caller(caller)
        line_text = _optional_text(line, "line", LINE_LENGTH)
        moment = self._moment(at)
        with self.db.write() as conn:
            row = _row(conn, call_id)
            if row is None:
                return self._insert(
                    conn,
                    call_id,
                    line=line_text,
                    caller_id=caller_id,
                    caller_phone=phone,
                    offered_at=moment,
                )
            changes: dict[str, Any] = {}
            if row["offered_at"] is None:
                changes["offered_at"] = moment
            if row["caller_id"] is None and caller_id is not None:
                changes.update(caller_id=caller_id, caller_phone=phone)
            if row["line"] is None and line_text:
                changes["line"] = line_text
            return self._update(conn, row, changes)

    def answer(
        self, system_call_id: str, *, position: str | None = None, at: datetime | None = None
    ) -> PhoneCallView:
        """The call is answered at ``position``; the first answer given is kept."""
        call_id = clean_call_id(system_call_id)
        where = _optional_text(position, "position", LINE_LENGTH) or self.operator
        moment = self._moment(at)
        with self.db.write() as conn:
            row = _row(conn, call_id)
            if row is None:
                return self._insert(conn, call_id, answered_at=moment, position=where)
            changes: dict[str, Any] = {}
            if row["answered_at"] is None:
                changes.update(answered_at=moment, position=row["position"] or where)
            return self._update(conn, row, changes)

    def hangup(
        self, system_call_id: str, *, at: datetime | None = None, dropped: bool = False
    ) -> PhoneCallView:
        """The call ended; ``dropped``: the line was cut after the answer."""
        call_id = clean_call_id(system_call_id)
        moment = self._moment(at)
        with self.db.write() as conn:
            row = _row(conn, call_id)
            if row is None:
                return self._insert(conn, call_id, ended_at=moment, dropped=dropped)
            changes: dict[str, Any] = {}
            if row["ended_at"] is None:
                changes["ended_at"] = moment
                if dropped:
                    changes["outcome"] = CallOutcome.DROPPED.value
            return self._update(conn, row, changes)

    def get(self, system_call_id: str) -> PhoneCallView:
        with self.db.read() as conn:
            row = _row(conn, clean_call_id(system_call_id))
        if row is None:
            raise NotFound("phone_call_unknown", call_id=clean_text(system_call_id)[:80])
        return _view(row)

    def ringing(self) -> list[PhoneCallView]:
        """Calls ringing at the center now (not answered, not ended), oldest first."""
        since = self.clock() - RING_STALE
        with self.db.read() as conn:
            rows = (
                conn.execute(
                    sa.select(PHONE_CALL)
                    .where(
                        PHONE_CALL.c.outcome.is_(None),
                        PHONE_CALL.c.offered_at >= since,
                        PHONE_CALL.c.answered_at.is_(None),
                    )
                    .order_by(PHONE_CALL.c.offered_at, PHONE_CALL.c.id)
                )
                .mappings()
                .all()
            )
        return [_view(row) for row in rows]

    # --- The call-back list -----------------------------------------------------------

    def callback_list(
        self, *, limit: int = CALLBACK_LIMIT, history: bool = True
    ) -> list[CallbackItem]:
        """Abandoned and silent calls not yet reached by a call-back, newest first.

        ``history=False`` leaves the numbers' history out (zeros): for counting only.
        """
        since = self.clock() - CALLBACK_WINDOW
        reached = CallbackOutcome.REACHED.value
        with self.db.read() as conn:
            attempts_p = _attempts(conn, CALLBACK.c.phone_call_id, since)
            attempts_c = _attempts(conn, CALLBACK.c.call_id, since)
            abandoned = (
                conn.execute(
                    sa.select(PHONE_CALL)
                    .where(
                        PHONE_CALL.c.outcome == CallOutcome.ABANDONED.value,
                        sa.func.coalesce(PHONE_CALL.c.offered_at, PHONE_CALL.c.ended_at) >= since,
                    )
                    .order_by(PHONE_CALL.c.offered_at.desc())
                    .limit(limit * 2)
                )
                .mappings()
                .all()
            )
            silent = (
                conn.execute(
                    sa.select(CALL, PHONE_CALL.c.caller_id)
                    .outerjoin(PHONE_CALL, PHONE_CALL.c.logged_call_id == CALL.c.id)
                    .where(
                        CALL.c.disposition == Disposition.HENING.value, CALL.c.answered_at >= since
                    )
                    .order_by(CALL.c.answered_at.desc())
                    .limit(limit * 2)
                )
                .mappings()
                .all()
            )
            items: list[CallbackItem] = []
            for row in abandoned:
                tries = attempts_p.get(row["id"], [])
                if reached in tries:
                    continue
                at = row["offered_at"] or row["ended_at"] or row["updated_at"]
                items.append(
                    self._item(
                        conn,
                        "abandoned",
                        at,
                        row["caller_phone"],
                        row["caller_id"],
                        row["id"],
                        None,
                        tries,
                        history,
                    )
                )
            for row in silent:
                tries = attempts_c.get(row["id"], [])
                if reached in tries:
                    continue
                items.append(
                    self._item(
                        conn,
                        "silent",
                        row["answered_at"],
                        row["caller_phone"],
                        row["caller_id"],
                        None,
                        row["id"],
                        tries,
                        history,
                    )
                )
        # A withheld number cannot be called back: it is not on the list.
        items = [item for item in items if item.dialable is not None]
        items.sort(key=lambda item: item.at, reverse=True)
        return items[:limit]

    def callback_count(self) -> int:
        """How many calls wait for a call-back (the header's count, on every change)."""
        return len(self.callback_list(history=False))

    def record_callback(
        self,
        item_key: str,
        outcome: str,
        *,
        method: str = CallbackMethod.MANUAL,
        system_call_id: str | None = None,
        note: str | None = None,
        at: datetime | None = None,
    ) -> int:
        """Record a call-back to the list entry ``item_key`` (``p<id>`` or ``c<id>``)."""
        if outcome not in {o.value for o in CallbackOutcome}:
            raise ValidationError(
                "outcome",
                "choice_unknown",
                value=outcome,
                allowed=", ".join(o.value for o in CallbackOutcome),
            )
        if method not in {m.value for m in CallbackMethod}:
            raise ValidationError(
                "method",
                "choice_unknown",
                value=method,
                allowed=", ".join(m.value for m in CallbackMethod),
            )
        phone_call_id, call_id = _parse_key(item_key)
        clean_note = bounded_text(note, field="note", max_length=2000, multiline=True) or None
        moment = self._moment(at)
        with self.db.write() as conn:
            if phone_call_id is not None:
                row = (
                    conn.execute(sa.select(PHONE_CALL).where(PHONE_CALL.c.id == phone_call_id))
                    .mappings()
                    .first()
                )
                phone = row and (row["caller_phone"] or row["caller_id"])
            else:
                row = conn.execute(sa.select(CALL).where(CALL.c.id == call_id)).mappings().first()
                phone = row and row["caller_phone"]
            if row is None:
                raise NotFound("callback_unknown", key=item_key)
            return int(
                conn.execute(
                    sa.insert(CALLBACK).values(
                        phone_call_id=phone_call_id,
                        call_id=call_id,
                        phone=phone or "",
                        at=moment,
                        operator=self.operator,
                        method=method,
                        outcome=outcome,
                        system_call_id=system_call_id,
                        note=clean_note,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )

    # --- Inside ------------------------------------------------------------------------

    def _moment(self, at: datetime | None) -> datetime:
        return as_utc(at) if at is not None else self.clock()

    def _insert(
        self, conn: Connection, call_id: str, *, dropped: bool = False, **values: Any
    ) -> PhoneCallView:
        values.setdefault("offered_at", None)
        values.setdefault("answered_at", None)
        values.setdefault("ended_at", None)
        values["outcome"] = _outcome(values["answered_at"], values["ended_at"], dropped=dropped)
        new_id = conn.execute(
            sa.insert(PHONE_CALL).values(system_call_id=call_id, updated_at=self.clock(), **values)
        ).inserted_primary_key[0]  # type: ignore[index]
        _notify(conn, int(new_id))
        row = conn.execute(sa.select(PHONE_CALL).where(PHONE_CALL.c.id == new_id)).mappings().one()
        return _view(row)

    def _update(self, conn: Connection, row: RowMapping, changes: dict[str, Any]) -> PhoneCallView:
        if not changes:
            return _view(row)
        merged = {**row, **changes}
        if merged["outcome"] != CallOutcome.DROPPED.value:
            changes["outcome"] = _outcome(merged["answered_at"], merged["ended_at"])
        changes["updated_at"] = self.clock()
        conn.execute(sa.update(PHONE_CALL).where(PHONE_CALL.c.id == row["id"]).values(**changes))
        _notify(conn, int(row["id"]))
        return _view({**row, **changes})

    def _item(
        self,
        conn: Connection,
        kind: str,
        at: datetime,
        phone: str | None,
        caller_id: str | None,
        phone_call_id: int | None,
        call_id: int | None,
        tries: list[str],
        history: bool,
    ) -> CallbackItem:
        earlier = reports = pranks = 0
        if phone and history:
            # Earlier calls from the number: those taken (any disposition) and those
            # that rang out unanswered, before this one.
            taken = (
                sa.select(sa.func.count())
                .select_from(CALL)
                .where(CALL.c.caller_phone == phone, CALL.c.answered_at < at)
            )
            rang_out = (
                sa.select(sa.func.count())
                .select_from(PHONE_CALL)
                .where(
                    PHONE_CALL.c.caller_phone == phone,
                    PHONE_CALL.c.offered_at < at,
                    PHONE_CALL.c.outcome == CallOutcome.ABANDONED.value,
                )
            )
            earlier = int(conn.execute(taken).scalar_one()) + int(
                conn.execute(rang_out).scalar_one()
            )
            counts: dict[str, int] = dict(
                conn.execute(
                    sa.select(CALL.c.disposition, sa.func.count())
                    .where(CALL.c.caller_phone == phone)
                    .group_by(CALL.c.disposition)
                ).all()
            )
            pranks = int(counts.get(Disposition.ISENG.value, 0))
            reports = int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(REPORT)
                    .where(REPORT.c.caller_phone == phone)
                ).scalar_one()
            )
        return CallbackItem(
            kind=kind,
            at=at,
            phone=phone,
            caller_id=caller_id,
            phone_call_id=phone_call_id,
            call_id=call_id,
            attempts=len(tries),
            last_outcome=tries[-1] if tries else None,
            earlier_calls=earlier,
            reports=reports,
            pranks=pranks,
        )


def link_phone_call(conn: Connection, phone_call_id: int | None, call_id: int) -> None:
    """In the filing transaction: the phone call became the logged call ``call_id``."""
    if phone_call_id is None:
        return
    conn.execute(
        sa.update(PHONE_CALL)
        .where(PHONE_CALL.c.id == phone_call_id, PHONE_CALL.c.logged_call_id.is_(None))
        .values(logged_call_id=call_id)
    )


def link_callback(conn: Connection, callback_id: int | None, report_id: int) -> None:
    """In the filing transaction: the call-back ``callback_id`` led to ``report_id``."""
    if callback_id is None:
        return
    conn.execute(
        sa.update(CALLBACK)
        .where(CALLBACK.c.id == callback_id, CALLBACK.c.report_id.is_(None))
        .values(report_id=report_id)
    )


def _outcome(
    answered_at: datetime | None, ended_at: datetime | None, *, dropped: bool = False
) -> str | None:
    if ended_at is None:
        return None
    if answered_at is None:
        return CallOutcome.ABANDONED.value
    return CallOutcome.DROPPED.value if dropped else CallOutcome.ANSWERED.value


def _notify(conn: Connection, phone_call_id: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, str(phone_call_id))))


def clean_call_id(value: str | None) -> str:
    """The phone system's call id, cleaned; ValidationError("call_id") when empty or too long."""
    text = clean_text(value or "").strip()
    if not text:
        raise ValidationError("call_id", "text_required")
    if len(text) > CALL_ID_LENGTH:
        raise ValidationError(
            "call_id", "text_too_long", length=len(text), max_length=CALL_ID_LENGTH
        )
    return text


def _optional_text(value: str | None, field: str, limit: int) -> str | None:
    return bounded_text(value, field=field, max_length=limit) or None


def _row(conn: Connection, call_id: str) -> RowMapping | None:
    return (
        conn.execute(sa.select(PHONE_CALL).where(PHONE_CALL.c.system_call_id == call_id))
        .mappings()
        .first()
    )


def _view(row: Any) -> PhoneCallView:
    return PhoneCallView(
        id=int(row["id"]),
        system_call_id=row["system_call_id"],
        line=row["line"],
        caller_id=row["caller_id"],
        caller_phone=row["caller_phone"],
        offered_at=row["offered_at"],
        answered_at=row["answered_at"],
        ended_at=row["ended_at"],
        position=row["position"],
        outcome=row["outcome"],
        logged_call_id=row["logged_call_id"],
    )


def _attempts(conn: Connection, column: sa.Column[Any], since: datetime) -> dict[int, list[str]]:
    """Call-backs made since ``since`` (each after its call), by the call they went to."""
    since_rows = conn.execute(
        sa.select(column, CALLBACK.c.outcome)
        .where(column.is_not(None), CALLBACK.c.at >= since)
        .order_by(CALLBACK.c.id)
    ).all()
    found: dict[int, list[str]] = {}
    for key, outcome in since_rows:
        found.setdefault(int(key), []).append(str(outcome))
    return found


def _parse_key(key: str) -> tuple[int | None, int | None]:
    if len(key) > 1 and key[0] in "pc" and key[1:].isdigit():
        value = int(key[1:])
        return (value, None) if key[0] == "p" else (None, value)
    raise ValidationError("callback", "choice_unknown", value=key, allowed="p<id>, c<id>")


def _dial_digits(stored: str) -> str:
    """``+6281234567890`` → ``081234567890`` (what a line in Indonesia dials)."""
    if stored.startswith("+62"):
        return "0" + stored[3:]
    return stored
