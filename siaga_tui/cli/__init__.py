"""The ``siaga112`` command.

Each group of commands lives in its own module and registers itself on the shared
Typer ``app`` (``cli/base.py``). ``main`` turns every error meant for people into one
line on stderr and exit code 2; an unexpected failure is logged to a file and reported
in one line, never as a traceback.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from siaga_tui.cli import console, database, reports  # noqa: F401  (register commands)
from siaga_tui.cli import audit, handover, operators  # noqa: F401  (register commands)
from siaga_tui.cli import demo, stats  # noqa: F401  (register commands)
from siaga_tui.cli import backup, export, importer  # noqa: F401  (register commands)
from siaga_tui.cli.base import app
from siaga_tui.core.errors import SiagaError
from siaga_tui.core.i18n import translate

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``siaga112`` console script."""
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
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback to users
        log = _log_unexpected(exc)
        print(translate("cli_unexpected", error=f"{type(exc).__name__}: {exc}", log=log), file=sys.stderr)
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
