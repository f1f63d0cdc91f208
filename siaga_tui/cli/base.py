"""What every ``siaga112`` command shares: the Typer app, global options, output.

Global options come before the command (``siaga112 --db FILE add …``) and are kept in
``Settings``; commands open the database through ``settings.database()`` only when
they need it, so ``--help`` never touches a file.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import typer
from typer.core import TyperGroup

from siaga_tui.core.db import Database, open_database
from siaga_tui.core.i18n import set_language, translate
from siaga_tui.core.text import clean_text, visible_controls

#: The longest operator name kept (it is shown in the queue and on every event).
OPERATOR_NAME_LIMIT = 60


class ClosedPipe(Exception):
    """The reader of standard output went away (``export - | head``)."""


class _Commands(TyperGroup):
    """The command group; a closed pipe leaves it as ``ClosedPipe``, which ``main``
    ends quietly with exit 0 (Typer would turn the ``BrokenPipeError`` into exit 1)."""

    def invoke(self, ctx: Any) -> Any:  # click's Context, as Typer hands it over
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise ClosedPipe from exc


app = typer.Typer(
    cls=_Commands,
    name="siaga112",
    help="Siaga 112 console: take calls, file and work reports, study the figures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass
class Settings:
    """Global options, resolved once per invocation."""

    db_value: str | None = None
    lang: str | None = None
    operator: str | None = None
    #: The signed-in account (``services.operators.Actor``) once ``cli/identity.py``
    #: checked who is acting; None in single-user mode or before the check.
    actor: Any = None
    identity_checked: bool = False
    _db: Database | None = field(default=None, repr=False)

    def database(self, *, migrate: bool = True) -> Database:
        if self._db is None:
            self._db = open_database(self.db_value, migrate=migrate)
            for warning in self._db.warnings:
                print(warning, file=sys.stderr)
        return self._db

    def reset(self) -> None:
        """Forget the previous invocation's database (tests run many in one process)."""
        if self._db is not None:
            self._db.dispose()
        self._db = None
        self.actor = None
        self.identity_checked = False

    @property
    def role(self) -> str | None:
        """The signed-in account's role (None: single-user mode)."""
        return None if self.actor is None else self.actor.role

    @property
    def operator_name(self) -> str:
        """The name recorded on what is done: the signed-in account's, or (single-user
        mode) the ``--operator`` text, cleaned like any text that is stored."""
        if self.actor is not None:
            return str(self.actor.username)
        raw = self.operator or os.environ.get("SIAGA112_OPERATOR") or _login_name()
        return clean_text(raw)[:OPERATOR_NAME_LIMIT] or _login_name()


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


settings = Settings()

#: Global options that take a value (the command word comes after them).
GLOBAL_OPTIONS_WITH_VALUE = frozenset({"--db", "--lang", "--operator"})


@app.callback()
def global_options(
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="SIAGA112_DB",
        help="SQLite file or SQLAlchemy URL (postgresql+psycopg://…). "
        "Default: a file in your user data folder.",
    ),
    lang: str | None = typer.Option(
        None, "--lang", envvar="SIAGA112_LANG", help="Language: id (default) or en."
    ),
    operator: str | None = typer.Option(
        None,
        "--operator",
        envvar="SIAGA112_OPERATOR",
        help="Name recorded on what you do (default: your login name).",
    ),
) -> None:
    settings.reset()
    settings.db_value = db
    settings.lang = _language(lang)
    settings.operator = operator


def _language(lang: str | None) -> str:
    """The language asked for; an unknown one is warned about and the default used
    (an unusable environment value must not stop every command)."""
    if not lang:
        return set_language(None)
    try:
        return set_language(lang)
    except ValueError:
        chosen = set_language(None)
        print(
            f"siaga112: {translate('cli_unknown_language', None, value=clean_text(lang)[:20], using=chosen)}",
            file=sys.stderr,
        )
        return chosen


def t(key: str, **params: Any) -> str:
    return translate(key, None, **params)


def print_json(data: Any) -> None:
    """Machine output: UTF-8 JSON, times as ISO 8601."""
    # Controls and bidi overrides in the data (written by another tool) become JSON's
    # own \\uXXXX escapes: the same values for a program, nothing for a terminal to act on.
    print(visible_controls(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, frozenset | set | tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def fail(message: str) -> typer.Exit:
    """One clear line on stderr and exit code 2 (bad input)."""
    print(f"siaga112: {message}", file=sys.stderr)
    return typer.Exit(2)
