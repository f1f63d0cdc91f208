"""Sign-in sessions: a shift's sign-in for the command line, and a PBX's phone token.

``siaga112 login`` signs an account in once with its password and starts a session:
a random token (256 bits) that later commands present instead of the password. The
database keeps only the token's SHA-256 (``operator_session.token_hash``): a copy of
the database signs nobody in. A session ends when it expires (a shift: 12 hours by
default, ``SIAGA112_SESSION_HOURS`` or ``login --hours``), at ``logout``, when a
supervisor revokes it, or when its account's password is changed; a disabled account's
sessions stop working at once. Every start, end and revocation is in the audit log.

Scopes: ``all`` is an operator's shift (every command). ``phone`` is for a PBX: the
token is valid only for commands gated with ``Scope.PHONE`` (ring, answer, hang up),
and only a supervisor may issue one that never expires or that acts for another
account (``login --scope phone --for pbx --no-expiry``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.db import Database
from siaga_tui.core.errors import InvalidInput, PermissionDenied, ValidationError
from siaga_tui.core.models import OPERATOR, OPERATOR_SESSION, Scope
from siaga_tui.core.text import clean_text
from siaga_tui.core.timeutil import Clock, as_utc, format_local, system_clock
from siaga_tui.services import audit
from siaga_tui.services.audit import Action
from siaga_tui.services.operators import Actor, Permission, check_permission, end_sessions

#: A shift (the longest is 21–07) with time to hand over.
DEFAULT_LIFETIME: Final = timedelta(hours=12)
MAX_LIFETIME: Final = timedelta(hours=24)
TOKEN_PREFIX: Final = "s112_"
LABEL_LIMIT: Final = 64


@dataclass(frozen=True, slots=True)
class SessionView:
    id: int
    username: str
    scope: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None

    def is_live(self, now: datetime) -> bool:
        return self.ended_at is None and (self.expires_at is None or as_utc(self.expires_at) > now)


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A new session: its token (shown once, never stored) and its record."""

    token: str
    session: SessionView


def token_hash(token: str) -> str:
    """What the database keeps of a token (a random 256-bit token needs no slow hash)."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def lifetime_from_hours(hours: float) -> timedelta:
    """A session lifetime asked for in hours (``--hours``), bounded to one day."""
    if not 0 < hours <= MAX_LIFETIME.total_seconds() / 3600:
        raise InvalidInput(
            [
                ValidationError(
                    "hours", "ident_hours_range", max=int(MAX_LIFETIME.total_seconds() // 3600)
                )
            ]
        )
    return timedelta(hours=hours)


class SessionService:
    """Starting, checking, listing and ending sessions on one database."""

    def __init__(self, db: Database, *, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    def start(
        self,
        by: Actor,
        *,
        scope: str = Scope.ALL,
        lifetime: timedelta | None = DEFAULT_LIFETIME,
        label: str = "",
        for_account: str | None = None,
    ) -> StartedSession:
        """A session for ``by`` (signed in with a password just now), or, issued by a
        supervisor, a phone session for ``for_account``. ``lifetime`` None: no expiry
        (phone sessions only)."""
        if scope not in set(Scope):
            raise InvalidInput(
                [ValidationError("scope", "choice_unknown", value=scope, allowed=", ".join(Scope))]
            )
        if scope == Scope.ALL and (lifetime is None or for_account is not None):
            raise InvalidInput([ValidationError("scope", "ident_only_phone_sessions")])
        target = (for_account or by.username).strip()
        if lifetime is None or target != by.username:
            check_permission(
                self.db,
                operator=by.username,
                role=by.role,
                permission=Permission.MANAGE_ACCOUNTS,
                subject=target,
                clock=self.clock,
            )
        text = clean_text(label)[:LABEL_LIMIT]
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock()
        expires = None if lifetime is None else now + lifetime
        with self.db.write() as conn:
            account = conn.execute(
                sa.select(OPERATOR.c.id, OPERATOR.c.active).where(OPERATOR.c.username == target)
            ).first()
            if account is None or not account.active:
                raise PermissionDenied("acct_not_found", username=target)
            session_id = conn.execute(
                sa.insert(OPERATOR_SESSION)
                .values(
                    token_hash=token_hash(token),
                    operator_id=account.id,
                    scope=str(scope),
                    label=text,
                    created_at=now,
                    expires_at=expires,
                    ended_at=None,
                    ended_by=None,
                )
                .returning(OPERATOR_SESSION.c.id)
            ).scalar_one()
            audit.append_audit(
                conn,
                at=now,
                operator=by.username,
                action=Action.SESSION_STARTED,
                subject=target,
                details={
                    "session": int(session_id),
                    "scope": str(scope),
                    "label": text,
                    "expires_at": expires,
                },
                rows=[("operator_session", int(session_id))],
            )
        view = SessionView(int(session_id), target, scope, text, now, expires, None, None)
        return StartedSession(token, view)

    def actor(self, token: str) -> Actor:
        """Who a token signs in, with the session's scope; PermissionDenied if it does
        not (unknown, ended, expired, or its account disabled)."""
        now = self.clock()
        with self.db.read() as conn:
            row = conn.execute(
                _SESSIONS.where(OPERATOR_SESSION.c.token_hash == token_hash(token))
            ).first()
        if row is None:
            raise PermissionDenied("ident_session_unknown")
        if row.ended_at is not None:
            raise PermissionDenied(
                "ident_session_ended", at=format_local(row.ended_at, "%Y-%m-%d %H:%M")
            )
        if row.expires_at is not None and as_utc(row.expires_at) <= now:
            raise PermissionDenied(
                "ident_session_expired", at=format_local(row.expires_at, "%Y-%m-%d %H:%M")
            )
        if not row.active:
            raise PermissionDenied("ident_session_account_disabled", username=row.username)
        return Actor(
            row.username, row.display_name, row.role, scope=row.scope, session_id=int(row.id)
        )

    def end(self, token: str) -> SessionView | None:
        """Sign out: end the token's session (None when it was unknown or had ended)."""
        now = self.clock()
        with self.db.write() as conn:
            query = _SESSIONS.where(OPERATOR_SESSION.c.token_hash == token_hash(token), _LIVE_FLAG)
            ended = _end(
                conn, conn.execute(query).all(), by=None, action=Action.SESSION_ENDED, now=now
            )
        return ended[0] if ended else None

    def revoke(
        self, by: Actor, *, session_id: int | None = None, username: str | None = None
    ) -> list[SessionView]:
        """A supervisor ends one session, or every live session of an account."""
        if session_id is None and not username:
            raise InvalidInput([ValidationError("session", "ident_revoke_what")])
        check_permission(
            self.db,
            operator=by.username,
            role=by.role,
            permission=Permission.MANAGE_ACCOUNTS,
            subject=str(session_id) if session_id is not None else str(username),
            clock=self.clock,
        )
        which = (
            OPERATOR_SESSION.c.id == session_id
            if session_id is not None
            else OPERATOR.c.username == username
        )
        now = self.clock()
        with self.db.write() as conn:
            rows = conn.execute(_SESSIONS.where(which, *_live(now))).all()
            return _end(conn, rows, by=by.username, action=Action.SESSION_REVOKED, now=now)

    def live_sessions(self, by: Actor) -> list[SessionView]:
        """Every session still valid now, newest first (supervisors only)."""
        check_permission(
            self.db,
            operator=by.username,
            role=by.role,
            permission=Permission.MANAGE_ACCOUNTS,
            subject="sessions",
            clock=self.clock,
        )
        now = self.clock()
        with self.db.read() as conn:
            rows = conn.execute(
                _SESSIONS.where(*_live(now)).order_by(OPERATOR_SESSION.c.id.desc())
            ).all()
        return [_view(row) for row in rows]


# --- Helpers ----------------------------------------------------------------------------

#: Sessions with their accounts.
_SESSIONS: Final = sa.select(
    OPERATOR_SESSION,
    OPERATOR.c.username,
    OPERATOR.c.display_name,
    OPERATOR.c.role,
    OPERATOR.c.active,
).join(OPERATOR, OPERATOR.c.id == OPERATOR_SESSION.c.operator_id)
_LIVE_FLAG: Final = OPERATOR_SESSION.c.ended_at.is_(None)


def _live(now: datetime) -> tuple[Any, ...]:
    """Not ended, not expired, of an active account."""
    return (
        _LIVE_FLAG,
        sa.or_(OPERATOR_SESSION.c.expires_at.is_(None), OPERATOR_SESSION.c.expires_at > now),
        OPERATOR.c.active.is_(True),
    )


def _end(
    conn: Connection, rows: Sequence[Any], *, by: str | None, action: str, now: datetime
) -> list[SessionView]:
    end_sessions(conn, rows, by=by, action=action, now=now)
    return [replace(_view(row), ended_at=now, ended_by=by or row.username) for row in rows]


def _view(row: Any) -> SessionView:
    return SessionView(
        id=int(row.id),
        username=row.username,
        scope=row.scope,
        label=row.label,
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at) if row.expires_at else None,
        ended_at=as_utc(row.ended_at) if row.ended_at else None,
        ended_by=row.ended_by,
    )
