"""``siaga112 operator``: accounts (add, list, disable, passwd, sessions, revoke), and
``siaga112 login`` / ``logout``.

While no account exists the program runs in single-user mode, as it always did. Once
accounts exist, every command that changes data or shows personal data acts for the
signed-in operator (``cli/identity.py``): a session from ``login`` (a shift, kept 0600
in the user's runtime folder), ``SIAGA112_PASSWORD`` for scripts, or the password asked
without echo. New passwords are asked twice without echo, or read from the first line
of stdin (``--password-stdin``).
"""

from __future__ import annotations

import getpass
import os
import socket
import sys

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from siaga_tui.cli import session_file
from siaga_tui.cli.base import app, fail, print_json, settings, t
from siaga_tui.cli.identity import (
    ENV_PASSWORD,
    ENV_TOKEN,
    require_operator,
    sign_in_with_password,
    signed_in,
)
from siaga_tui.cli.json_output import AccountOutput, SessionOutput
from siaga_tui.core.errors import PermissionDenied
from siaga_tui.core.models import Role, Scope
from siaga_tui.core.text import safe_cell
from siaga_tui.core.timeutil import format_local, system_clock
from siaga_tui.services.operators import Actor, OperatorService, has_accounts
from siaga_tui.services.sessions import DEFAULT_LIFETIME, SessionService, lifetime_from_hours

operator_app = typer.Typer(
    help="Operator accounts: add, list, disable, change passwords.", no_args_is_help=True
)
app.add_typer(operator_app, name="operator")

PASSWORD_STDIN = typer.Option(
    False,
    "--password-stdin",
    help="Read the new password from the first line of stdin (for scripts).",
)


def _service() -> OperatorService:
    return OperatorService(settings.database())


def signed_in_actor() -> Actor | None:
    """The signed-in operator (``cli/identity.py``); None in single-user mode."""
    actor: Actor | None = require_operator()
    return actor


def signed_in_role() -> str | None:
    """The role to hand to a service for a supervisor-only action (None: single-user)."""
    actor = signed_in_actor()
    return actor.role if actor else None


def _new_password(username: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise fail(t("acct_password_needed", username=username))
    first = getpass.getpass(t("acct_new_password_prompt", username=username))
    if getpass.getpass(t("acct_repeat_password_prompt")) != first:
        raise fail(t("acct_password_mismatch"))
    return first


@operator_app.command("add")
def operator_add(
    username: str = typer.Argument(..., help="Sign-in name: lowercase letters, digits, . _ -"),
    name: str = typer.Option(..., "--name", "-n", help="Display name, as shown on records."),
    role: str = typer.Option(Role.OPERATOR.value, "--role", "-r", help="operator or supervisor."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Create an account (the first one must be a supervisor; then supervisors only)."""
    service = _service()
    by = signed_in_actor()
    password = _new_password(username, password_stdin)
    account = service.add(username, name, role, password, by=by)
    print(t("acct_added", username=account.username, role=t(f"acct_role_{account.role}")))


@operator_app.command("list")
def operator_list(as_json: bool = typer.Option(False, "--json", help="Output as JSON.")) -> None:
    """List the accounts with their role and state (never a password or hash)."""
    accounts = _service().list_accounts()
    now = system_clock()
    if as_json:
        print_json([AccountOutput.model_validate(a).model_dump() for a in accounts])
        return
    if not accounts:
        print(t("acct_none"))
        return
    table = Table(title=t("acct_list_title"))
    for column in ("username", "name", "role", "state"):
        table.add_column(t(f"acct_col_{column}"))
    for a in accounts:
        if not a.active:
            state = t("acct_state_disabled")
        elif a.is_locked(now):
            state = t("acct_state_locked", until=format_local(a.locked_until, "%H:%M"))
        else:
            state = t("acct_state_active")
        table.add_row(
            a.username, Text(safe_cell(a.display_name, width=40)), t(f"acct_role_{a.role}"), state
        )
    Console().print(table)


@operator_app.command("disable")
def operator_disable(username: str = typer.Argument(..., help="The account to disable.")) -> None:
    """Disable an account (supervisors only); its name stays on what it recorded."""
    service = _service()
    service.disable(username, by=signed_in_actor())
    print(t("acct_disabled", username=safe_cell(username, width=64)))


@operator_app.command("passwd")
def operator_passwd(
    username: str = typer.Argument(..., help="The account whose password changes."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Change a password: your own (signing in with the current one), or anyone's as a
    supervisor. Clears a lock-out."""
    service = _service()
    by = signed_in_actor()
    current = os.environ.get(ENV_PASSWORD)
    own = by is not None and not by.is_supervisor and by.username == username.strip().lower()
    if own and current is None:
        # Signed in by a session: one's own password still changes only with the current
        # one, asked here (never counted as a wrong attempt for not being given).
        if not sys.stdin.isatty():
            raise fail(t("acct_password_needed", username=safe_cell(username, width=64)))
        current = getpass.getpass(
            t("acct_current_password_prompt", username=safe_cell(username, width=64))
        )
    password = _new_password(username, password_stdin)
    service.set_password(username, password, by=by, current_password=current)
    print(t("acct_password_changed", username=safe_cell(username, width=64)))


# --- Sessions ---------------------------------------------------------------------------

ENV_SESSION_HOURS = "SIAGA112_SESSION_HOURS"


@app.command("login")
def login(
    hours: float | None = typer.Option(
        None,
        "--hours",
        help="How long the sign-in lasts (default 12, or SIAGA112_SESSION_HOURS; at most 24).",
    ),
    scope: str = typer.Option(
        Scope.ALL.value, "--scope", help="all (your shift) or phone (a PBX's token)."
    ),
    no_expiry: bool = typer.Option(
        False, "--no-expiry", help="A phone token that never expires (supervisors)."
    ),
    for_account: str | None = typer.Option(
        None, "--for", help="The account a phone token acts for (supervisors)."
    ),
    label: str | None = typer.Option(
        None, "--label", help="Shown in `operator sessions` (default: this machine)."
    ),
) -> None:
    """Sign in once for the shift: later commands on this database need no password.

    With --scope phone the token is printed instead, for the PBX's configuration
    (SIAGA112_TOKEN): it is valid only for the phone commands."""
    db = settings.database()
    if not has_accounts(db):
        print(t("ident_login_single_user"))
        return
    if scope not in set(Scope):
        raise fail(t("choice_unknown", value=scope, field="--scope", allowed=", ".join(Scope)))
    actor = sign_in_with_password(db)
    lifetime = (
        None if no_expiry else lifetime_from_hours(hours if hours is not None else _default_hours())
    )
    started = SessionService(db).start(
        actor,
        scope=scope,
        lifetime=lifetime,
        label=label if label is not None else socket.gethostname(),
        for_account=for_account,
    )
    session = started.session
    until = (
        format_local(session.expires_at, "%Y-%m-%d %H:%M")
        if session.expires_at
        else t("ident_no_expiry")
    )
    if scope == Scope.PHONE:
        print(started.token)
        print(
            t("ident_phone_token_issued", username=session.username, id=session.id, until=until),
            file=sys.stderr,
        )
        return
    try:  # the sign-in this file held ends here, not left valid with its token lost
        previous = session_file.load(db.describe())
    except PermissionDenied:
        previous = None
    path = session_file.save(
        db.describe(), token=started.token, username=session.username, expires_at=session.expires_at
    )
    if previous and (ended := SessionService(db).end(previous)) is not None:
        print(t("ident_logged_out", username=ended.username))
    print(t("ident_logged_in", username=session.username, until=until, path=str(path)))


def _default_hours() -> float:
    raw = os.environ.get(ENV_SESSION_HOURS, "").strip()
    if not raw:
        return DEFAULT_LIFETIME.total_seconds() / 3600
    try:
        return float(raw)
    except ValueError:
        raise fail(t("ident_hours_env_invalid", value=safe_cell(raw, width=20))) from None


@app.command("logout")
def logout() -> None:
    """End this database's sign-in (the session file's, or SIAGA112_TOKEN's)."""
    db = settings.database()
    where = db.describe()
    from_env = os.environ.get(ENV_TOKEN)
    try:
        token = from_env or session_file.load(where)
    except PermissionDenied:
        token = None  # an unsafe file is not presented anywhere: just removed below
    ended = SessionService(db).end(token) if token and has_accounts(db) else None
    removed = False if from_env else session_file.remove(where)
    if ended is not None:
        print(t("ident_logged_out", username=ended.username))
    elif removed:
        print(t("ident_logged_out_file_only"))
    else:
        print(t("ident_not_logged_in"))


@operator_app.command("sessions")
@signed_in
def operator_sessions(
    as_json: bool = typer.Option(False, "--json", help="Output as JSON."),
) -> None:
    """The sign-ins still valid (supervisors): who, what for, since and until when."""
    sessions = SessionService(settings.database()).live_sessions(settings.actor)
    if as_json:
        print_json([SessionOutput.model_validate(s).model_dump() for s in sessions])
        return
    if not sessions:
        print(t("ident_no_sessions"))
        return
    table = Table(title=t("ident_sessions_title"))
    for column in ("id", "username", "scope", "label", "since", "until"):
        table.add_column(t(f"ident_col_{column}"))
    for s in sessions:
        table.add_row(
            str(s.id),
            s.username,
            s.scope,
            Text(safe_cell(s.label, width=40)),
            format_local(s.created_at, "%Y-%m-%d %H:%M"),
            format_local(s.expires_at, "%Y-%m-%d %H:%M") if s.expires_at else t("ident_no_expiry"),
        )
    Console().print(table)


@operator_app.command("revoke")
@signed_in
def operator_revoke(
    session_id: int | None = typer.Argument(
        None, help="The session's number (see `operator sessions`)."
    ),
    user: str | None = typer.Option(None, "--user", help="Every session of this account instead."),
) -> None:
    """End a sign-in, or all of an account's (supervisors); recorded in the audit log."""
    if (session_id is None) == (user is None):
        raise fail(t("ident_revoke_what"))
    ended = SessionService(settings.database()).revoke(
        settings.actor, session_id=session_id, username=user
    )
    print(t("ident_revoked", count=len(ended)))
