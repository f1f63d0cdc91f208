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

import importlib
import sys
import traceback
from pathlib import Path
from typing import Final

from siaga_tui.cli.base import GLOBAL_OPTIONS_WITH_VALUE, app
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
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:
        log = _log_unexpected(exc)
        print(
            translate("cli_unexpected", error=f"{type(exc).__name__}: {exc}", log=log),
            file=sys.stderr,
        )
        sys.exit(1)


def _log_unexpected(exc: BaseException) -> str:
    import platformdirs

    folder = Path(platformdirs.user_log_dir("siaga112", appauthor=False))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "errors.log"
        with path.open("a", encoding="utf-8") as handle:
            handle.write("".join(traceback.format_exception(exc)))
        return str(path)
    except OSError:
        return "-"
