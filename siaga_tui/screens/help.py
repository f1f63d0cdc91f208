"""Bantuan (F1): every key of the screen the operator came from, and the global ones."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static

from siaga_tui.core.i18n import translate
from siaga_tui.screens.base import ConsoleScreen
from siaga_tui.screens.localised import GLOBAL_KEYS, PHONE_KEYS, Key, key_name
from siaga_tui.textual_private import node_bindings
from siaga_tui.widgets.key_footer import KeyFooter


class HelpScreen(ConsoleScreen[None]):
    """A table of keys: the screen's own first, then those that work everywhere."""

    TITLE_KEY = "help_title"
    KEYS = (Key("escape", "close", "help_key_close"),)

    def __init__(self, below: Screen[object]) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        yield self.status_header()
        with VerticalScroll(id="help-body"):
            yield Static(Text(translate("help_intro", self.lang)), id="help-intro")
            yield DataTable(id="help-keys", cursor_type="row", show_cursor=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.lang
        self.show_title(translate("help_title", t))
        table = self.query_one("#help-keys", DataTable)
        table.add_column(Text(translate("help_col_where", t)), key="where")
        table.add_column(Text(translate("help_col_key", t)), key="key")
        table.add_column(Text(translate("help_col_does", t)), key="does")
        here = translate("help_this_screen", t)
        for key, description in self._screen_keys():
            table.add_row(Text(here), Text(key_name(key)), Text(description))
        everywhere = translate("help_everywhere", t)
        for key, description in self._global_keys():
            table.add_row(Text(everywhere), Text(key_name(key)), Text(description))

    def _screen_keys(self) -> list[tuple[str, str]]:
        keys = getattr(self.below, "KEYS", None)
        if keys is not None:
            return [(k.key, translate(k.label, self.lang)) for k in keys]
        return _described(node_bindings(self.below).key_to_bindings.values())

    def _global_keys(self) -> list[tuple[str, str]]:
        keys = [(k.key, translate(k.label, self.lang)) for k in (*GLOBAL_KEYS, *PHONE_KEYS)]
        keys.append(("ctrl+p", translate("help_key_palette", self.lang)))
        keys.append(("ctrl+q", translate("help_key_quit", self.lang)))
        return keys

    def action_close(self) -> None:
        self.dismiss()


def _described(groups: object) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for bindings in groups:  # type: ignore[attr-defined]
        for binding in bindings:
            if isinstance(binding, Binding) and binding.description:
                found.append((binding.key, binding.description))
    return found
