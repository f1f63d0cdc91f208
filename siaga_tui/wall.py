"""The board on the command center's video wall: the status board alone, read-only.

``make_wall_app(db, …)`` is the console app opened on the status board with every
other screen and action switched off: the only keys choose the period shown (and quit),
no key changes data, the command palette is off, and the board shows no caller's
number or name (it never did: report numbers, categories and places only).

It keeps showing while the database is briefly locked (the board says why and counts
again) or gone: every ``FILE_CHECK_SECONDS`` it looks whether the file is still where
it was; when it is not, a line on screen says so and the last figures stay up; when it
is back, the connections are opened anew on it and the board counts again. A board
started while the file is not there (a browser's, see ``cli/board.py``) says so at once
and starts counting when the file appears.
``siaga112 board --serve`` runs one of these per browser (textual-serve).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from textual import on
from textual.events import Mount
from textual.widgets import Static

from siaga_tui.app import SiagaApp
from siaga_tui.core.db import Database
from siaga_tui.core.errors import SiagaError
from siaga_tui.core.i18n import translate
from siaga_tui.core.timeutil import Clock, system_clock
from siaga_tui.screens.board import BoardScreen
from siaga_tui.textual_private import node_bindings

#: How often the wall looks whether the database file is still there.
FILE_CHECK_SECONDS: Final = 2.0
#: The actions a wall board allows: the board's periods and quitting.
ALLOWED_ACTIONS: Final = frozenset({"period", "quit"})


class WallApp(SiagaApp):
    """The status board alone, read-only, for a wall screen or a browser."""

    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self, db: Database, *, lang: str, clock: Clock = system_clock, theme: str | None = None
    ) -> None:
        super().__init__(
            db, operator=translate("wall_operator", lang), lang=lang, clock=clock, theme=theme
        )
        self.db_missing = False

    @on(Mount)
    def _start_on_the_board(self, event: Mount) -> None:
        """The board, and only the board: the console's own start (queue, drafts,
        sign-in) is not run."""
        event.prevent_default()

        self._textual_bindings = node_bindings(self)
        self._localise_keys()
        self.push_screen(BoardScreen())
        if self.db.path is not None:
            self.call_after_refresh(self._check_file)  # started on a file not there: say so
            self.set_interval(FILE_CHECK_SECONDS, self._check_file, name="wall-file-check")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Nothing but the periods and quit: no screen that could change data opens."""
        return action in ALLOWED_ACTIONS

    def keep_draft(self, *, sync: bool = False) -> None:
        """A wall board has no entry form, so no draft."""

    def live_failed(self, error: SiagaError) -> None:
        """Not live because the file is not there: the wall's own line says so already."""
        path = self.db.path
        if path is None or Path(path).exists():
            super().live_failed(error)

    def board_counted(self) -> None:
        # Counted from the file, so it is back: its "not found" line goes with these
        # figures, in the same repaint, not at the next look at the file (up to
        # FILE_CHECK_SECONDS later); a browser showed both at once.
        if self.db_missing:
            self._check_file()

    def _check_file(self) -> None:
        path = self.db.path
        assert path is not None
        missing = not Path(path).exists()
        if missing == self.db_missing:
            return
        self.db_missing = missing
        screen = self.screen
        notice = screen.query("#wall-notice")
        if missing:
            if not notice:
                line = Static(id="wall-notice", markup=False)
                screen.mount(line, before=1)
                notice = screen.query("#wall-notice")
            # Figures already up stay; a board started without the file has none yet.
            shown = getattr(screen, "figures", None) is not None
            key = "wall_db_missing" if shown else "wall_db_missing_at_start"
            notice.first(Static).update(translate(key, self.lang, path=str(path)))
        else:
            notice.set(display=False)  # now; removing it takes effect a cycle later
            notice.remove()
            # The file came back (restored, moved back): connect to it anew, and watch
            # the new file rather than the one that went away.
            self.db.engine.dispose()
            if self._live is not None:
                self._live.stop()
                self._live = None
            self.follow_changes()
            database_moved = getattr(screen, "database_moved", None)
            if database_moved is not None:
                database_moved()


def make_wall_app(
    db: Database, *, lang: str | None = None, clock: Clock = system_clock, theme: str | None = None
) -> WallApp:
    from siaga_tui.core.i18n import current_language, normalise_language

    return WallApp(
        db, lang=normalise_language(lang or current_language()), clock=clock, theme=theme
    )
