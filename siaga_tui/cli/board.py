"""``siaga112 board``: the status board alone, read-only, in the terminal or a browser.

``siaga112 board`` shows the board in this terminal; ``siaga112 board --serve`` serves
it to browsers with textual-serve (``http://127.0.0.1:8112`` unless ``--host``/``--port``
say otherwise), one board process per browser, each running ``siaga112 board`` on the
same database and language. Nothing on it changes data or shows a caller.

Started by hand, the board refuses a database file that is not there (it never creates
one). A browser's board is started with ``--served``: when the file is missing then (moved
away during a restore, say) the browser gets the board saying so, which counts as soon as
the file is back, rather than a connection that closes without a word.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from siaga_tui.cli.base import app, fail, settings, t
from siaga_tui.core.db import database_to_wait_for
from siaga_tui.core.i18n import current_language


@app.command("board")
def board(
    serve: bool = typer.Option(False, "--serve", help="Serve the board to browsers."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to serve on (default: this machine only)."
    ),
    port: int = typer.Option(8112, "--port", min=1, max=65535, help="Port to serve on."),
    theme: str = typer.Option(
        "siaga-kontras", "--theme", help="Textual theme (default: the control-room theme)."
    ),
    served: bool = typer.Option(
        False, "--served", hidden=True, help="One browser's board (set by --serve)."
    ),
) -> None:
    """The status board alone, read-only: for the command center's video wall."""
    db_value = settings.db_value
    missing = bool(db_value and "://" not in db_value and not Path(db_value).exists())
    if missing and (serve or not served):  # only a browser's board waits for the file
        raise fail(t("wall_db_not_found", path=db_value))
    db = database_to_wait_for(str(db_value)) if missing else settings.database(migrate=False)
    if not serve:
        from siaga_tui.wall import make_wall_app

        make_wall_app(db, lang=settings.lang, theme=theme).run()
        return
    try:
        from textual_serve.server import Server
    except ImportError:
        raise fail(t("wall_serve_missing")) from None
    target = str(db.path) if db.path is not None else db.url
    command = " ".join(
        shlex.quote(part)
        for part in (
            sys.executable,
            "-m",
            "siaga_tui",
            "--db",
            target,
            "--lang",
            current_language(),
            "board",
            "--theme",
            theme,
            "--served",
        )
    )
    server = Server(command, host=host, port=port, title=t("board_title"))
    print(t("wall_serving", url=server.public_url), file=sys.stderr)
    server.serve()
