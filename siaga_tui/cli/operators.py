"""``siaga112 operator``: accounts (add, list, disable, passwd) and CLI sign-in.

While no account exists the program runs in single-user mode, as it always did. Once
accounts exist, commands that need a supervisor (reopen, export with personal data,
account management) sign the ``--operator`` account in first: its password is read
with a no-echo prompt, or from ``SIAGA112_PASSWORD`` for scripts. New passwords are
asked twice without echo, or read from the first line of stdin (``--password-stdin``).
"""

from __future__ import annotations

import getpass
import os
import sys

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from siaga_tui.cli.base import app, fail, print_json, settings, t
from siaga_tui.cli.identity import ENV_PASSWORD, require_operator
from siaga_tui.core.models import Role
from siaga_tui.core.text import safe_cell
from siaga_tui.core.timeutil import format_local, system_clock
from siaga_tui.services.operators import Actor, OperatorService

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
        print_json(
            [
                {
                    "username": a.username,
                    "display_name": a.display_name,
                    "role": a.role,
                    "active": a.active,
                    "locked_until": a.locked_until,
                    "created_at": a.created_at,
                }
                for a in accounts
            ]
        )
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
    password = _new_password(username, password_stdin)
    current = os.environ.get(ENV_PASSWORD)
    service.set_password(username, password, by=by, current_password=current)
    print(t("acct_password_changed", username=safe_cell(username, width=64)))
