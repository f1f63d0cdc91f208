"""The header line: who is working, on which database, and the time in WITA."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from siaga_tui.core.i18n import translate
from siaga_tui.core.timeutil import Clock, format_local


class StatusHeader(Horizontal):
    """``SIAGA 112 · <screen> │ operator │ database │ 10:00:00 WITA``, ticking every second."""

    DEFAULT_CSS = """
    StatusHeader {
        height: 1;
        dock: top;
        background: $panel;
        color: $foreground;
        & > Static { width: auto; height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
        & > #header-title { text-style: bold; color: $primary; }
        & > #header-who { width: 1fr; max-width: 40; }
        & > #header-where { width: 2fr; color: $text-muted; }
        & > #header-clock { text-style: bold; }
    }
    """

    title: reactive[str] = reactive("")

    def __init__(self, *, operator: str, database: str, clock: Clock, lang: str) -> None:
        super().__init__()
        self._operator = operator
        self._database = database
        self._clock = clock
        self._lang = lang

    def compose(self) -> ComposeResult:
        yield Static(id="header-title", markup=False)
        yield Static(Content(translate("console_header_operator", self._lang, name=self._operator)), id="header-who")
        yield Static(Content(self._database), id="header-where")
        yield Static(id="header-clock")

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(1, self._tick)

    def watch_title(self, title: str) -> None:
        self.query_one("#header-title", Static).update(Content(f"SIAGA 112 · {title}" if title else "SIAGA 112"))

    def _tick(self) -> None:
        now = format_local(self._clock(), "%H:%M:%S")
        # Always the same width: no relayout of the whole screen every second.
        self.query_one("#header-clock", Static).update(Content(f"{now} WITA"), layout=False)
