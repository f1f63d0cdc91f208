"""The header line: who is working, on which database, and the time in WITA.

The clock shows hours and minutes and wakes once a minute, on the minute: a console
left open through a shift does nothing in between.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static

from siaga_tui.core.i18n import translate
from siaga_tui.core.timeutil import Clock, format_local
from siaga_tui.widgets.notice_line import NoticeLine

if TYPE_CHECKING:
    from siaga_tui.phone_desk import PhoneState

#: The clock's tick lands this long after the minute turns, never before it.
MINUTE_SLACK: Final = 0.05
#: However the clock behaves (a frozen test clock, a timer firing early), at most this often.
MIN_TICK: Final = 1.0


class StatusHeader(Vertical):
    """``SIAGA 112 · <screen> │ operator │ database │ 10:00 WITA``, ticking each minute,
    and under it the newest notices while they last (``NoticeLine``)."""

    DEFAULT_CSS = """
    StatusHeader {
        height: auto;
        dock: top;
        background: $panel;
        color: $foreground;
        & > #header-line { height: 1; }
        & > #header-line > Static { width: auto; height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
        & #header-title { text-style: bold; color: $primary; }
        & #header-who { width: 1fr; max-width: 40; }
        & #header-where { width: 2fr; color: $text-muted; }
        & #header-clock { text-style: bold; }
        & #header-phone { color: $success; }
        & #header-phone.-down { color: $text; background: $error; text-style: bold; }
    }
    """

    title: reactive[str] = reactive("")

    def __init__(self, *, operator: str, database: str, clock: Clock, lang: str) -> None:
        super().__init__()
        self._operator = operator
        self._database = database
        self._clock = clock
        self._lang = lang
        self._minute_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="header-line"):
            yield from self._line()
        yield NoticeLine()

    def _line(self) -> ComposeResult:
        yield Static(id="header-title", markup=False)
        yield Static(
            Content(translate("console_header_operator", self._lang, name=self._operator)),
            id="header-who",
        )
        yield Static(Content(self._database), id="header-where")
        yield Static(id="header-phone")
        yield Static(id="header-clock")

    def on_mount(self) -> None:
        self._tick()
        phone = self.query_one("#header-phone", Static)
        phone.display = False
        desk = getattr(self.app, "phone_desk", None)
        if desk is not None:
            self._show_phone(desk.state)
            desk.changed.subscribe(self, self._show_phone)

    def _show_phone(self, state: PhoneState) -> None:
        """The softphone's link (down: said plainly) and the call-backs waiting."""
        phone = self.query_one("#header-phone", Static)
        text = phone_header_text(state, self._lang)
        phone.display = bool(text)
        phone.set_class(state.link is False, "-down")
        phone.update(Content(text))

    def watch_title(self, title: str) -> None:
        self.query_one("#header-title", Static).update(
            Content(f"SIAGA 112 · {title}" if title else "SIAGA 112")
        )

    def _tick(self) -> None:
        """Show the time, and come back when the minute turns."""
        now = self._clock()
        # Always the same width: no relayout of the whole screen.
        self.query_one("#header-clock", Static).update(
            Content(f"{format_local(now, '%H:%M')} WITA"), layout=False
        )
        if self._minute_timer is not None:
            self._minute_timer.stop()
        wait = max(seconds_to_next_minute(now) + MINUTE_SLACK, MIN_TICK)
        self._minute_timer = self.set_timer(wait, self._tick, name="header-clock")


def phone_header_text(state: PhoneState, lang: str) -> str:
    parts: list[str] = []
    if state.link is True:
        parts.append(translate("phone_header_up", lang))
    elif state.link is False:
        parts.append(translate("phone_header_down", lang, reason=state.reason or "-"))
    if state.callbacks:
        parts.append(translate("phone_header_callbacks", lang, count=state.callbacks))
    return " · ".join(parts)


def seconds_to_next_minute(now: datetime) -> float:
    """Seconds from ``now`` until the next whole minute."""
    return 60 - now.second - now.microsecond / 1_000_000
