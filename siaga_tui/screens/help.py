"""Bantuan (F1): every key of the screen the operator came from, and the global ones."""

from __future__ import annotations

from rich.table import Table
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
            yield Static(id="help-marks")
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
        form = translate("help_the_form", t)
        for key, description in self._form_keys():
            table.add_row(Text(form), Text(key_name(key)), Text(description))
        self._show_marks()

    def _show_marks(self) -> None:
        """What the queue's marks, the backlog and the waits for agencies mean."""
        t = self.lang
        theme = self.app.current_theme
        rows: tuple[tuple[Text, str, dict[str, object]], ...] = (
            (Text("●", style=f"bold {theme.error}"), "help_mark_emergency", {}),
            (Text("!", style=f"bold {theme.warning}"), "help_mark_overdue", {}),
            (Text("!!", style=f"bold reverse {theme.error}"), "help_mark_alarmed", {}),
            (Text("↗ 12m/3m"), "help_mark_awaiting", {}),
            (
                Text(translate("queue_key_backlog", t) + " (b)"),
                "help_mark_backlog",
                {"days": self._backlog_days},
            ),
        )
        # A table of two columns that wraps its explanations (a DataTable cuts them).
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_row(
            Text(translate("help_col_mark", t), style="bold"),
            Text(translate("help_col_means", t), style="bold"),
        )
        for mark, key, params in rows:
            grid.add_row(mark, Text(translate(key, t, **params)))
        self.query_one("#help-marks", Static).update(grid)
        self.marks = [(mark.plain, translate(key, t, **params)) for mark, key, params in rows]

    @property
    def _backlog_days(self) -> int:
        return int(getattr(self.app, "backlog_days", 7))

    def _form_keys(self) -> list[tuple[str, str]]:
        """The entry form's keys (F2), unless that is the screen being helped."""
        from siaga_tui.screens.entry import EntryScreen

        if isinstance(self.below, EntryScreen):
            return []
        return [(k.key, translate(k.label, self.lang)) for k in EntryScreen.KEYS if k.show]

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
