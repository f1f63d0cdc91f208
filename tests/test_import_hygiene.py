"""The core, the services and the CLI (but the console command) never import Textual.

Checked in a fresh interpreter, so what other tests imported does not hide a leak.
"""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "siaga_tui.core.catalogue",
    "siaga_tui.core.db",
    "siaga_tui.core.migrate",
    "siaga_tui.core.models",
    "siaga_tui.core.phones",
    "siaga_tui.core.text",
    "siaga_tui.live",
    "siaga_tui.services.calls",
    "siaga_tui.services.queue",
    "siaga_tui.services.reports",
    "siaga_tui.cli",
]


def loaded_in_fresh_interpreter(setup: str, candidates: tuple[str, ...]) -> list[str]:
    """Which of ``candidates`` a fresh interpreter has imported after running ``setup``."""
    code = f"import sys\n{setup}\nprint(','.join(m for m in {candidates!r} if m in sys.modules))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return [name for name in result.stdout.strip().split(",") if name]


def test_services_and_cli_do_not_import_textual() -> None:
    import pkgutil

    import siaga_tui.services

    service_modules = [
        f"siaga_tui.services.{info.name}"
        for info in pkgutil.iter_modules(siaga_tui.services.__path__)
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES + service_modules!r}:\n"
        "    importlib.import_module(name)\n"
        "leaks = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(leaks))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_cli_start_up_stays_light() -> None:
    """`siaga112 --help` must not pay for phone metadata or migrations."""
    heavy = ("phonenumbers", "alembic", "xlsxwriter", "textual")
    assert loaded_in_fresh_interpreter("import siaga_tui.cli", heavy) == []


def test_the_console_and_its_queue_load_nothing_the_first_paint_waits_for() -> None:
    """The console's modules up to the queue: no filing code, no phone rules and no
    migrations before the first paint (B1). The models are SQLModel classes, so
    pydantic and SQLModel load, as in B1's baseline app."""
    heavy = (
        "siaga_tui.services.reports",
        "siaga_tui.services.calls",
        "phonenumbers",
        "alembic",
    )
    setup = "import siaga_tui.cli.console, siaga_tui.app, siaga_tui.screens.queue"
    assert loaded_in_fresh_interpreter(setup, heavy) == []
    # The check above would pass on an empty interpreter; the stack it stands on loads.
    assert loaded_in_fresh_interpreter(setup, ("sqlmodel", "textual")) == ["sqlmodel", "textual"]
