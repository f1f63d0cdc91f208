"""Operator accounts, sign-in and roles.

Accounts have a username, a display name and a role: ``operator`` or ``supervisor``.
Passwords are kept only as argon2id hashes (salted, slow; ``argon2-cffi``'s RFC 9106
defaults). ``SIAGA112_PASSWORD_HASH=fast`` selects cheap parameters, for tests only.

Sign-in: a wrong password is recorded in the audit log and answered after a delay that
doubles with each consecutive failure (0.25 s … 4 s); the fifth failure in a row locks
the account for 15 minutes, during which even the right password is refused (and
recorded). An unknown username costs the same hash check as a known one and gets the
same answer, so the answer does not tell which usernames exist.

Roles: a supervisor may also reopen closed reports, export with personal data and
manage accounts (``Permission``). ``check_permission`` is the one gate: it lets the
action through or records the refusal in the audit log and raises
``PermissionDenied``. When no account exists at all the program runs in single-user
mode, as before accounts existed: nobody signs in and everything is allowed. The
first account created must be a supervisor, so accounts can always be managed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, NoReturn

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.db import Database
from siaga_tui.core.errors import InvalidInput, NotFound, PermissionDenied, ValidationError
from siaga_tui.core.fields import bounded_text
from siaga_tui.core.models import OPERATOR, OPERATOR_SESSION, Role
from siaga_tui.core.text import clean_text
from siaga_tui.core.timeutil import Clock, as_utc, system_clock
from siaga_tui.services import audit
from siaga_tui.services.audit import Action

MAX_FAILURES: Final = 5
LOCKOUT: Final = timedelta(minutes=15)
MIN_PASSWORD_LENGTH: Final = 8
MAX_PASSWORD_LENGTH: Final = 1024
USERNAME_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
ENV_HASH_PROFILE: Final = "SIAGA112_PASSWORD_HASH"


class Permission(StrEnum):
    """Actions only a supervisor may take."""

    REOPEN_REPORT = "reopen_report"
    EXPORT_PERSONAL_DATA = "export_personal_data"
    MANAGE_ACCOUNTS = "manage_accounts"


def failure_delay(failures: int) -> float:
    """Seconds to wait before answering the ``failures``-th wrong password in a row."""
    return 0.0 if failures < 1 else min(0.25 * 2 ** (failures - 1), 4.0)


def password_hasher() -> Any:
    """The argon2id hasher: RFC 9106 parameters, or cheap ones when the env asks (tests)."""
    from argon2 import PasswordHasher

    if os.environ.get(ENV_HASH_PROFILE) == "fast":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and as_utc(self.locked_until) > now


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in account, or nobody in single-user mode (role None).

    ``scope``: what the sign-in allows (``services/sessions.Scope``: ``all``, or
    ``phone`` for a PBX's token); ``session_id``: the session it came from, if any.
    """

    username: str
    display_name: str
    role: str | None
    scope: str = "all"
    session_id: int | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR


def has_accounts(conn_or_db: Database | Connection) -> bool:
    """Whether any account exists (if not, the program runs in single-user mode)."""
    query = sa.select(OPERATOR.c.id).limit(1)
    if isinstance(conn_or_db, Database):
        with conn_or_db.read() as conn:
            return conn.execute(query).first() is not None
    return conn_or_db.execute(query).first() is not None


def allows(db: Database, role: str | None, permission: Permission) -> bool:
    """Whether ``role`` may take a supervisor-only action (None: single-user mode)."""
    if role == Role.SUPERVISOR:
        return True
    return role is None and not has_accounts(db)


def check_permission(
    db: Database,
    *,
    operator: str,
    role: str | None,
    permission: Permission,
    subject: str = "",
    clock: Clock = system_clock,
) -> None:
    """Let a supervisor-only action through, or record the refusal and raise.

    Every service that offers such an action calls this first (reports: reopen;
    export: personal data; this module: accounts).
    """
    if allows(db, role, permission):
        return
    audit.record(
        db,
        operator=operator,
        action=Action.REFUSED,
        subject=subject,
        details={"permission": permission.value, "role": role},
        clock=clock,
    )
    raise PermissionDenied(f"acct_denied_{permission.value}", operator=operator)


class OperatorService:
    """Accounts and sign-in, on one database."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = system_clock,
        hasher: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.clock = clock
        self.hasher = hasher or password_hasher()
        self.sleep = sleep

    # --- Reading ------------------------------------------------------------------------

    def has_accounts(self) -> bool:
        return has_accounts(self.db)

    def list_accounts(self) -> list[Account]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(OPERATOR).order_by(OPERATOR.c.username)).mappings().all()
        return [_account(row) for row in rows]

    def get(self, username: str) -> Account:
        with self.db.read() as conn:
            row = _find(conn, username)
        if row is None:
            raise NotFound("acct_not_found", username=username)
        return _account(row)

    # --- Sign-in ------------------------------------------------------------------------

    def sign_in(self, username: str, password: str) -> Actor:
        """The account's actor if the password is right; PermissionDenied otherwise.

        The attempt is decided and recorded in one write transaction holding the
        account's row (``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on
        PostgreSQL): parallel attempts are checked one after the other, so a burst of
        wrong passwords is stopped at ``MAX_FAILURES`` checks, and a right password
        arriving after the lock sees it and is refused.
        """
        name = _normal_username(username)
        with self.db.read() as conn:
            known = _find(conn, name)
        if known is None or not known["active"] or not known["password_hash"]:
            self._unknown_account(name or clean_text(username)[:64], password)
        with self.db.write() as conn:
            now = self.clock()
            row = (
                conn.execute(
                    sa.select(OPERATOR).where(OPERATOR.c.id == known["id"]).with_for_update()
                )
                .mappings()
                .one()
            )
            account = _account(row)
            failures = 0
            if not account.active or not row["password_hash"]:
                outcome = "unknown"  # disabled meanwhile
                audit.append_audit(
                    conn,
                    at=now,
                    operator=name,
                    action=Action.SIGN_IN_FAILED,
                    subject=name,
                    details={"unknown_account": True},
                )
            elif account.is_locked(now):
                outcome = "locked"
                audit.append_audit(
                    conn,
                    at=now,
                    operator=name,
                    action=Action.SIGN_IN_LOCKED,
                    subject=name,
                    details={"locked_until": account.locked_until},
                )
            elif not self._verify(row["password_hash"], password):
                outcome, failures = "wrong", account.failed_attempts + 1
                values: dict[str, Any] = {"failed_attempts": failures}
                details: dict[str, Any] = {"failures": failures}
                if failures >= MAX_FAILURES:
                    values.update(failed_attempts=0, locked_until=now + LOCKOUT)
                    details["locked_until"] = now + LOCKOUT
                conn.execute(
                    sa.update(OPERATOR).where(OPERATOR.c.id == account.id).values(**values)
                )
                audit.append_audit(
                    conn,
                    at=now,
                    operator=name,
                    action=Action.SIGN_IN_FAILED,
                    subject=name,
                    details=details,
                )
            else:
                outcome = "ok"
                values = {"failed_attempts": 0, "locked_until": None}
                stronger = self._rehash(row["password_hash"], password)
                if stronger:
                    values["password_hash"] = stronger
                conn.execute(
                    sa.update(OPERATOR).where(OPERATOR.c.id == account.id).values(**values)
                )
                audit.append_audit(conn, at=now, operator=name, action=Action.SIGN_IN, subject=name)
        if outcome == "locked":
            raise PermissionDenied("acct_locked", until=_local_time(account.locked_until))
        if outcome != "ok":
            self.sleep(failure_delay(failures))
            if failures >= MAX_FAILURES:
                raise PermissionDenied("acct_locked", until=_local_time(now + LOCKOUT))
            raise PermissionDenied("acct_signin_failed")
        return Actor(username=name, display_name=account.display_name, role=account.role)

    def _unknown_account(self, name: str, password: str) -> NoReturn:
        """No such (active) account: the same hash check's cost, recorded, refused."""
        self._verify(_dummy_hash(self.hasher), password)
        audit.record(
            self.db,
            operator=name,
            action=Action.SIGN_IN_FAILED,
            subject=name,
            details={"unknown_account": True},
            clock=self.clock,
        )
        raise PermissionDenied("acct_signin_failed")

    def _verify(self, password_hash: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return bool(self.hasher.verify(password_hash, password[:MAX_PASSWORD_LENGTH]))
        except (VerificationError, InvalidHashError):
            return False

    def _rehash(self, password_hash: str, password: str) -> str | None:
        """A fresh hash when today's parameters are stronger than the stored ones.

        Never a weaker one: a hasher with cheaper parameters (``SIAGA112_PASSWORD_HASH=
        fast``, a machine configured lower) leaves the stored hash as it is.
        """
        from argon2 import extract_parameters

        try:
            stored = extract_parameters(password_hash)
            ours = (self.hasher.time_cost, self.hasher.memory_cost, self.hasher.parallelism)
            theirs = (stored.time_cost, stored.memory_cost, stored.parallelism)
            if ours == theirs or any(mine < old for mine, old in zip(ours, theirs, strict=True)):
                return None
            return str(self.hasher.hash(password))
        except Exception:  # an odd stored hash just stays as it is
            return None

    # --- Managing accounts ----------------------------------------------------------------

    def add(
        self,
        username: str,
        display_name: str,
        role: str,
        password: str,
        *,
        by: Actor | None = None,
    ) -> Account:
        """Create an account. The first one must be a supervisor; after that only a
        supervisor may add accounts."""
        name = _username(username)
        role_value = _role(role)
        display = _field(
            "display_name",
            lambda: bounded_text(display_name, field="display_name", max_length=120, required=True),
        )
        secret = _password(password)
        first = not self.has_accounts()
        if first and role_value != Role.SUPERVISOR:
            raise InvalidInput([ValidationError("role", "acct_first_must_be_supervisor")])
        actor_name = by.username if by else name
        if not first:
            self._require(by, Permission.MANAGE_ACCOUNTS, name)
        password_hash = str(self.hasher.hash(secret))
        now = self.clock()
        with self.db.write() as conn:
            if _find(conn, name) is not None:
                raise InvalidInput(
                    [ValidationError("username", "acct_username_taken", username=name)]
                )
            account_id = conn.execute(
                sa.insert(OPERATOR)
                .values(
                    username=name,
                    display_name=display,
                    role=role_value,
                    active=True,
                    password_hash=password_hash,
                    failed_attempts=0,
                    locked_until=None,
                    created_at=now,
                )
                .returning(OPERATOR.c.id)
            ).scalar_one()
            audit.append_audit(
                conn,
                at=now,
                operator=actor_name,
                action=Action.ACCOUNT_ADDED,
                subject=name,
                details={"role": role_value, "display_name": display, "first_account": first},
            )
        return Account(int(account_id), name, display, role_value, True, 0, None, now)

    def disable(self, username: str, *, by: Actor | None) -> None:
        """Disable an account (it can no longer sign in; its name stays on its records)."""
        name = _normal_username(username)
        self._require(by, Permission.MANAGE_ACCOUNTS, name)
        assert by is not None
        now = self.clock()
        with self.db.write() as conn:
            row = _find(conn, name)
            if row is None:
                raise NotFound("acct_not_found", username=name)
            if row["role"] == Role.SUPERVISOR and row["active"] and _active_supervisors(conn) <= 1:
                raise PermissionDenied("acct_last_supervisor", username=name)
            end_sessions_of(conn, name, by=by.username, now=now)
            conn.execute(sa.update(OPERATOR).where(OPERATOR.c.id == row["id"]).values(active=False))
            audit.append_audit(
                conn, at=now, operator=by.username, action=Action.ACCOUNT_DISABLED, subject=name
            )

    def set_password(
        self,
        username: str,
        new_password: str,
        *,
        by: Actor | None,
        current_password: str | None = None,
    ) -> None:
        """Change a password: one's own with the current one, anyone's as a supervisor.

        Clears failed attempts and a lock-out.
        """
        name = _normal_username(username)
        secret = _password(new_password)
        own = by is not None and by.username == name
        if own and not (by is not None and by.is_supervisor):
            self.sign_in(name, current_password or "")
        else:
            self._require(by, Permission.MANAGE_ACCOUNTS, name)
        assert by is not None
        password_hash = str(self.hasher.hash(secret))
        now = self.clock()
        with self.db.write() as conn:
            row = _find(conn, name)
            if row is None:
                raise NotFound("acct_not_found", username=name)
            conn.execute(
                sa.update(OPERATOR)
                .where(OPERATOR.c.id == row["id"])
                .values(password_hash=password_hash, failed_attempts=0, locked_until=None)
            )
            end_sessions_of(conn, name, by=by.username, now=now)  # a leaked password's sessions too
            audit.append_audit(
                conn, at=now, operator=by.username, action=Action.ACCOUNT_PASSWORD, subject=name
            )

    def _require(self, by: Actor | None, permission: Permission, subject: str) -> None:
        if by is None:
            raise PermissionDenied(f"acct_denied_{permission.value}", operator="-")
        check_permission(
            self.db,
            operator=by.username,
            role=by.role,
            permission=permission,
            subject=subject,
            clock=self.clock,
        )


# --- Helpers ----------------------------------------------------------------------------


def end_sessions_of(conn: Connection, username: str, *, by: str, now: datetime) -> int:
    """End the account's live sign-in sessions in this transaction; returns how many.

    Called when its password changes or it is disabled, after the account row is
    locked and before the history lock is taken (``services/sessions.py`` too).
    """
    rows = conn.execute(
        sa.select(
            OPERATOR_SESSION.c.id,
            OPERATOR_SESSION.c.scope,
            OPERATOR_SESSION.c.label,
            OPERATOR.c.username,
        )
        .join(OPERATOR, OPERATOR.c.id == OPERATOR_SESSION.c.operator_id)
        .where(
            OPERATOR.c.username == username,
            OPERATOR_SESSION.c.ended_at.is_(None),
            sa.or_(OPERATOR_SESSION.c.expires_at.is_(None), OPERATOR_SESSION.c.expires_at > now),
        )
    ).all()
    end_sessions(conn, rows, by=by, action=Action.SESSION_REVOKED, now=now)
    return len(rows)


def end_sessions(
    conn: Connection, rows: Sequence[Any], *, by: str | None, action: str, now: datetime
) -> None:
    """Mark ``rows``' sessions ended and record each (``by`` None: the session's own
    account signing out). Rows first, then the audit entries: the history lock is
    taken after the row locks, as every writer does."""
    for row in rows:
        conn.execute(
            sa.update(OPERATOR_SESSION)
            .where(OPERATOR_SESSION.c.id == row.id, OPERATOR_SESSION.c.ended_at.is_(None))
            .values(ended_at=now, ended_by=by or row.username)
        )
    for row in rows:
        audit.append_audit(
            conn,
            at=now,
            operator=by or row.username,
            action=action,
            subject=row.username,
            details={"session": int(row.id), "scope": row.scope, "label": row.label},
            rows=[("operator_session", int(row.id))],
        )


def _find(conn: Connection, username: str) -> Any:
    return (
        conn.execute(sa.select(OPERATOR).where(OPERATOR.c.username == username)).mappings().first()
    )


def _active_supervisors(conn: Connection) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(OPERATOR)
            .where(OPERATOR.c.role == Role.SUPERVISOR.value, OPERATOR.c.active.is_(True))
        ).scalar_one()
    )


def _account(row: Any) -> Account:
    return Account(
        id=int(row["id"]),
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        active=bool(row["active"]),
        failed_attempts=int(row["failed_attempts"]),
        locked_until=as_utc(row["locked_until"]) if row["locked_until"] else None,
        created_at=as_utc(row["created_at"]),
    )


def _normal_username(username: str) -> str:
    return clean_text(username or "").strip().lower()[:64]


def _username(username: str) -> str:
    name = _normal_username(username)
    if not USERNAME_PATTERN.fullmatch(name):
        raise InvalidInput([ValidationError("username", "acct_username_invalid", value=name)])
    return name


def _role(role: str) -> str:
    value = (role or "").strip().lower()
    if value not in {r.value for r in Role}:
        raise InvalidInput(
            [
                ValidationError(
                    "role", "choice_unknown", value=role, allowed=", ".join(r.value for r in Role)
                )
            ]
        )
    return value


def _password(password: str) -> str:
    if not (MIN_PASSWORD_LENGTH <= len(password or "") <= MAX_PASSWORD_LENGTH):
        raise InvalidInput(
            [
                ValidationError(
                    "password",
                    "acct_password_length",
                    min=MIN_PASSWORD_LENGTH,
                    max=MAX_PASSWORD_LENGTH,
                )
            ]
        )
    return password


def _field(name: str, produce: Callable[[], str]) -> str:
    try:
        return produce()
    except ValidationError as error:
        raise InvalidInput([error]) from error


_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: Any) -> str:
    """A hash with the hasher's own parameters, to spend the same time on unknown names."""
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = str(hasher.hash("siaga112-no-such-account"))
    return _DUMMY_HASHES[key]


def _local_time(moment: datetime | None) -> str:
    from siaga_tui.core.timeutil import format_local

    return format_local(moment, "%H:%M")
