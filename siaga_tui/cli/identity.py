"""Who is acting: the one sign-in gate of the command line.

Once any account exists, every command that changes data or shows personal data acts
for a signed-in operator, never for a name typed after ``--operator``. A command opts in
with one line, under its ``@app.command``::

    @app.command("add")
    @signed_in
    def add(...): ...

    @phone_app.command("ring")
    @signed_in(scope=Scope.PHONE)   # a PBX's phone-only token is enough here
    def ring(...): ...

Before the command runs, ``require_operator`` finds who is acting, in this order:

1. ``SIAGA112_PASSWORD`` (unattended scripts): the ``--operator`` account (or the login
   name) signs in with it, as before sessions existed;
2. ``SIAGA112_TOKEN`` (a PBX's phone token), or the session file ``siaga112 login``
   left for this database (``cli/session_file.py``): the session's account;
3. in a terminal, the password asked without echo.

Anything else is refused in one line (exit 2): no sign-in at all; an ``--operator``
that is not exactly a sign-in name (``SARI`` for ``sari``); a session of another
account than ``--operator`` names (recorded); an expired, ended, revoked or
out-of-scope session, or one of a disabled account; a wrong password, an unknown or
disabled account (recorded, and slowed down, by ``OperatorService.sign_in``). The
account signed in is then what every record names (``settings.operator_name``) and
whose role the services get (``settings.role``). Without accounts (single-user mode)
nothing is asked and nothing changes.

``tests/test_identity.py`` checks that every command is either gated or listed there
as open (it shows no personal data and changes nothing), so a new command cannot be
forgotten.
"""

from __future__ import annotations

import functools
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any, Final, TypeVar, overload

from siaga_tui.cli import session_file
from siaga_tui.cli.base import fail, settings, t
from siaga_tui.core.models import Scope
from siaga_tui.core.text import safe_cell

ENV_PASSWORD: Final = "SIAGA112_PASSWORD"
ENV_TOKEN: Final = "SIAGA112_TOKEN"

#: The attribute the gate leaves on a command's function (tests list the gated ones).
GATE_ATTRIBUTE: Final = "__siaga112_sign_in__"

F = TypeVar("F", bound=Callable[..., Any])


@overload
def signed_in(command: F, /) -> F: ...
@overload
def signed_in(*, scope: str = Scope.ALL, migrate: bool = True) -> Callable[[F], F]: ...


def signed_in(
    command: F | None = None, /, *, scope: str = Scope.ALL, migrate: bool = True
) -> F | Callable[[F], F]:
    """Make a command act only for the signed-in operator (once accounts exist).

    ``scope``: the narrowest session the command accepts (``Scope.PHONE`` lets a
    PBX's phone-only token in; every other command needs a full sign-in).
    ``migrate=False``: open the database without bringing its schema up to date
    (``db upgrade`` does that itself, after the sign-in).
    """
    if scope not in set(Scope):
        raise ValueError(f"unknown sign-in scope {scope!r}")

    def wrap(function: F) -> F:
        @functools.wraps(function)
        def gated(*args: Any, **kwargs: Any) -> Any:
            require_operator(scope=scope, migrate=migrate)
            return function(*args, **kwargs)

        setattr(gated, GATE_ATTRIBUTE, scope)
        return gated  # type: ignore[return-value]

    return wrap(command) if command is not None else wrap


def signs_in_itself(command: F) -> F:
    """Mark a command whose body calls ``require_operator`` itself, after checks that
    must come before the database is opened (``backup`` refuses a missing file first)."""
    setattr(command, GATE_ATTRIBUTE, Scope.ALL)
    return command


def require_operator(*, scope: str = Scope.ALL, migrate: bool = True) -> Any:
    """The signed-in operator's ``Actor`` (None in single-user mode); refuses otherwise.

    Resolved once per invocation: a command that asks again gets the same answer.
    """
    if not settings.identity_checked:
        settings.actor = _find_operator(migrate=migrate)
        settings.identity_checked = True
    actor = settings.actor
    if actor is not None and actor.scope != Scope.ALL and actor.scope != scope:
        raise fail(t("ident_scope_refused", scope=actor.scope))
    return actor


def _find_operator(*, migrate: bool) -> Any:
    from siaga_tui.services.operators import has_accounts

    db = settings.database(migrate=migrate)
    if not (migrate or _has_account_table(db)) or not has_accounts(db):
        return None
    requested = settings.operator
    if requested is not None:
        check_exact_name(requested)
    if os.environ.get(ENV_PASSWORD) is None:
        token = os.environ.get(ENV_TOKEN) or session_file.load(db.describe())
        if token:
            return _session_actor(db, token, requested)
    return sign_in_with_password(db)


def sign_in_with_password(db: Any) -> Any:
    """The ``--operator`` account (or the login name), signed in with its password:
    ``SIAGA112_PASSWORD``, or asked without echo in a terminal."""
    from siaga_tui.services.operators import OperatorService

    username = settings.operator if settings.operator is not None else settings.operator_name
    check_exact_name(username)
    password = os.environ.get(ENV_PASSWORD)
    if password is None:
        if not sys.stdin.isatty():
            raise fail(t("ident_sign_in_first", username=safe_cell(username, width=64)))
        password = getpass.getpass(
            t("acct_password_prompt", username=safe_cell(username, width=64))
        )
    return OperatorService(db).sign_in(username, password)


def check_exact_name(name: str) -> None:
    """``--operator`` must be a sign-in name exactly as written (``SARI`` is not ``sari``)."""
    from siaga_tui.services.operators import USERNAME_PATTERN

    if not USERNAME_PATTERN.fullmatch(name):
        raise fail(t("ident_not_a_sign_in_name", name=safe_cell(name, width=64)))


def _session_actor(db: Any, token: str, requested: str | None) -> Any:
    from siaga_tui.services import audit
    from siaga_tui.services.sessions import SessionService

    actor = SessionService(db).actor(token)
    if requested is not None and requested != actor.username:
        audit.record(
            db,
            operator=actor.username,
            action=audit.Action.REFUSED,
            subject=requested,
            details={
                "reason": "operator_is_not_the_signed_in_account",
                "session": actor.session_id,
            },
        )
        raise fail(
            t(
                "ident_session_other_account",
                username=actor.username,
                requested=safe_cell(requested, width=64),
            )
        )
    return actor


def _has_account_table(db: Any) -> bool:
    """Whether the schema has accounts at all (a database older than them has none)."""
    import sqlalchemy as sa

    with db.read() as conn:
        return bool(sa.inspect(conn).has_table("operator"))
