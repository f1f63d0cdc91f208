"""The footer of keys: every key on screen (a second line when one is not enough),
rebuilt once per refresh however often the keys change."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from siaga_tui.textual_private import (
    footer_bindings_ready,
    footer_has_bindings,
    footer_key_styled_as,
)


class KeyFooter(Footer):
    """Textual's footer, coalescing binding changes into one rebuild.

    Textual's footer rebuilds every key after each announcement that the bindings
    changed. A screen opening announces it several times in one go (its keys in the
    operator's language, the focus moving to the table, the screen stack changing),
    and each rebuild mounts and styles every key again: at start-up that was a good
    share of the time to the first paint (benchmarks, B1). Here the announcements
    that arrive before the next refresh share one rebuild, which reads the bindings
    as they are by then.

    Keys that do not fit on one line wrap onto a second (at 80 columns the queue's and
    the report's keys need two), so every key of a screen is on screen; F1 lists them
    with what they do. Ctrl+P (the command palette) is not in the footer: it took the
    room of a key and read as ``^p palettel``; Help names it.
    """

    DEFAULT_CSS = """
    KeyFooter {
        layout: vertical;
        height: auto;
        max-height: 3;
        & > .footer-row { height: 1; width: 100%; }
    }
    """

    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact, show_command_palette=False)
        self._laid_out_for = 0
        #: What the keys on screen were composed from (None: not the screen's keys yet).
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        """Textual's keys, in rows as wide as the screen (a key is never cut in two)."""
        width = self.size.width or self.app.size.width
        bind_keys = getattr(self.screen, "bind_keys", None)
        if not footer_has_bindings(self) and callable(bind_keys):
            bind_keys()  # a console screen's keys, bound now: composed once, with them
            footer_bindings_ready(self)
        if footer_has_bindings(self):
            self._laid_out_for = width
            self._shown = self._keys_to_show()
        else:
            # Before the screen's keys are bound: take the room they will need now, so the
            # screen is laid out once, not again when the keys arrive (B1).
            self.styles.min_height = len(_rows(self._expected_keys(), width, self.compact))
        keys = list(super().compose())
        for key in keys:
            # Each key born in the footer's style: Textual's start compact and restyle
            # themselves twice as they mount (compact, then not, from the footer): 44
            # style passes of the queue's keys before its first paint (B1).
            footer_key_styled_as(key, compact=self.compact)
        if getattr(self.screen, "KEY_LINE", False):  # the screen shows its own keys itself
            own = {key.key for key in getattr(self.screen, "KEYS", ())}
            keys = [k for k in keys if getattr(k, "key", None) not in own]
        for row in _rows(keys, width, self.compact):
            yield HorizontalGroup(*row, classes="footer-row")

    def _expected_keys(self) -> list[Widget]:
        """Stand-ins for the keys the screen will show (a console screen names them)."""
        named = getattr(self.screen, "footer_bindings", None)
        bindings = named() if callable(named) else []
        return [_KeySize(self.app.get_key_display(b), b.description) for b in bindings]

    def on_resize(self, event: Resize) -> None:
        """A terminal made wider or narrower: the keys go into rows again."""
        laid_out = self._laid_out_for
        if laid_out and event.size.width != laid_out and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    _rebuild_pending = False

    def bindings_changed(self, screen: Screen[object]) -> None:
        footer_bindings_ready(self)
        if not screen.app.app_focus:
            return  # as Textual's footer: the keys are shown again when focus returns
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return  # its screen closed meanwhile
        # Focus moving to the table announces the same keys once more after the first
        # refresh: composing them again cost a rebuild before the queue's first paint (B1).
        if self._shown is None or self._shown != self._keys_to_show():
            await self.recompose()

    def _keys_to_show(self) -> tuple[object, ...]:
        """Everything the keys are composed from: the width, and each key shown."""
        app = self.app
        keys = tuple(
            (b.key, app.get_key_display(b), b.description, b.action, enabled, tooltip)
            for _, b, enabled, tooltip in self.screen.active_bindings.values()
            if b.show
        )
        return (self.size.width or app.size.width, self.compact, keys)


class _KeySize(Widget):
    """Only the two texts that decide a key's width (never mounted)."""

    def __init__(self, key_display: str, description: str) -> None:
        super().__init__()
        self.key_display, self.description = key_display, description


def _rows(widgets: list[Widget], width: int, compact: bool) -> list[list[Widget]]:
    """The keys in rows no wider than ``width`` (a key is never cut in two)."""
    rows: list[list[Widget]] = [[]]
    used = 0
    for widget in widgets:
        need = _key_width(widget, compact=compact)
        if rows[-1] and used + need > width:
            rows.append([])
            used = 0
        rows[-1].append(widget)
        used += need
    return rows


def _key_width(widget: Widget, *, compact: bool) -> int:
    """The cells a footer key takes: its padding (Footer's CSS) around key and text."""
    key, description = getattr(widget, "key_display", None), getattr(widget, "description", None)
    if not isinstance(key, str) or not isinstance(description, str):
        return 12
    text = cell_len(key) + cell_len(description)
    return text + (2 if compact else 3)
