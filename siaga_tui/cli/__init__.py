"""The ``siaga112`` command.

Each group of commands lives in its own module and registers itself on the shared
Typer ``app`` (``cli/base.py``) when imported. ``main`` imports only the module of the
command being run, so ``siaga112 tui`` does not pay at start for the export, import,
account and statistics machinery (see benchmarks, B1); ``--help`` and anything it does
not recognise load them all. ``main`` turns every error meant for people into one line
on stderr and exit code 2; an unexpected failure is logged to a file and reported in
one line, never as a traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Final

from siaga_tui.cli.base import GLOBAL_OPTIONS_WITH_VALUE, ClosedPipe, app
from siaga_tui.core.errorlog import log_unexpected, without_parameters
from siaga_tui.core.errors import SiagaError
from siaga_tui.core.i18n import translate

__all__ = ["app", "load_commands", "main"]

#: Which module registers each top-level command (a test checks it is complete).
COMMAND_MODULES: Final = {
    "tui": "console",
    "db": "database",
    "categories": "reports",
    "add": "reports",
    "call": "reports",
    "show": "reports",
    "list": "reports",
    "forward": "reports",
    "ack": "reports",
    "status": "reports",
    "note": "reports",
    "duplicate": "reports",
    "reopen": "reports",
    "audit": "audit",
    "handover": "handover",
    "operator": "operators",
    "login": "operators",
    "logout": "operators",
    "demo": "demo",
    "stats": "stats",
    "report": "report",
    "board": "board",
    "backup": "backup",
    "export": "export",
    "import": "importer",
    "phone": "phone",
}


def load_commands(command: str | None = None) -> None:
    """Register ``command``'s module, or every command when it is None or unknown."""
    module = COMMAND_MODULES.get(command or "")
    names = [module] if module else sorted(set(COMMAND_MODULES.values()))
    for name in names:
        importlib.import_module(f"siaga_tui.cli.{name}")


def requested_command(argv: list[str]) -> str | None:
    """The command word in ``argv``, skipping the global options before it."""
    args = iter(argv)
    for arg in args:
        if arg in GLOBAL_OPTIONS_WITH_VALUE:
            next(args, None)
        elif arg.startswith("-"):
            continue
        else:
            return arg
    return None


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``siaga112`` console script."""
    args = sys.argv[1:] if argv is None else argv
    if problem := undecodable_input(args):
        print(f"siaga112: {problem}", file=sys.stderr)
        sys.exit(2)
    load_commands(None if "--help" in args or "-h" in args else requested_command(args))
    try:
        # Standalone mode: Typer reports usage errors itself (exit code 2) and exits.
        app(args=argv, prog_name="siaga112")
    except SiagaError as exc:
        print(f"siaga112: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(translate("cli_aborted"), file=sys.stderr)
        sys.exit(130)
    except (BrokenPipeError, ClosedPipe):
        _quiet_closed_pipe()
        sys.exit(0)
    except OverflowError:  # a number or date beyond what Python or the database holds
        print(f"siaga112: {translate('cli_out_of_range')}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:
        log = log_unexpected(exc)
        error = without_parameters(f"{type(exc).__name__}: {exc}").splitlines()[0]
        print(translate("cli_unexpected", error=error, log=log), file=sys.stderr)
        sys.exit(1)


def undecodable_input(args: list[str]) -> str | None:
    """A line naming the first argument or ``SIAGA112_*`` variable that is not valid
    UTF-8 (Python hands such bytes over as surrogates), or None. An unusable
    ``SIAGA112_LANG`` is only warned about: the language falls back to the default."""
    for index, arg in enumerate(args, start=1):
        if not _utf8(arg):
            return translate("cli_bad_utf8_argument", number=index, value=_shown(arg))
    for name, value in sorted(os.environ.items()):
        if name.startswith("SIAGA112_") and not _utf8(value):
            if name == "SIAGA112_LANG":
                os.environ.pop(name)
                print(
                    f"siaga112: {translate('cli_bad_language_env', value=_shown(value))}",
                    file=sys.stderr,
                )
                continue
            return translate("cli_bad_utf8_variable", name=name)
    return None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(text: str) -> str:
    """The bytes of an undecodable text, escaped, short: safe to print."""
    raw = text.encode("utf-8", "surrogateescape")[:40]
    return repr(raw)[2:-1]


def _quiet_closed_pipe() -> None:
    """The reader went away (``export - | head``): nothing more to say, and Python's
    own flush of stdout at exit must not report the closed pipe either."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
