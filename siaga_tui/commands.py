"""The command palette (Ctrl+P): the console's actions, found by typing their names."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Final

from textual.command import DiscoveryHit, Hit, Hits, Provider

from siaga_tui.core.i18n import translate
from siaga_tui.screens.localised import key_name

if TYPE_CHECKING:
    from siaga_tui.app import SiagaApp

#: (action on the app, message key of its name, message key of its explanation)
COMMANDS: Final = (
    ("new_report", "console_key_new_report", "console_cmd_new_report"),
    ("queue", "console_key_queue", "console_cmd_queue"),
    ("board", "console_key_board", "console_cmd_board"),
    ("help", "console_key_help", "console_cmd_help"),
    ("switch_language", "console_cmd_language_name", "console_cmd_language"),
    ("handover", "handover_screen_title", "handover_cmd_help"),
    ("create_supervisor", "signin_create_title", "signin_cmd_create_help"),
    ("answer_call", "console_key_answer", "phone_cmd_answer"),
    ("choose_call", "console_key_choose_call", "phone_cmd_choose_call"),
    ("callbacks", "console_key_callbacks", "phone_cmd_callbacks"),
)


class ConsoleCommands(Provider):
    """The console's actions and the current screen's keys, in the operator's language."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: SiagaApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, str, Callable[[], object]]] = [
            (
                translate(name, app.lang),
                translate(explain, app.lang),
                partial(app.run_action, action),
            )
            for action, name, explain in COMMANDS
        ]
        screen = self.screen
        for key in getattr(screen, "KEYS", ()):
            if key.key != "escape":
                explain = translate("console_cmd_screen_key", app.lang, key=key_name(key.key))
                commands.append(
                    (
                        translate(key.label, app.lang),
                        explain,
                        partial(screen.run_action, key.action),
                    )
                )
        return commands

    async def discover(self) -> Hits:
        for name, explain, run in self._commands():
            yield DiscoveryHit(name, run, help=explain)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, explain, run in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=explain)
