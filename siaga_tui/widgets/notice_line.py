"""Notices under the header: where they hide nothing the operator needs.

Textual's toasts pile up in the bottom right corner, over the queue's bottom rows,
where reports filed a moment ago land. Here the newest notices (two at most) take
lines of their own under the header, pushing the screen down while they show and
giving the room back when they expire. The text is always plain: a notice may quote
what a caller said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

#: The most notices shown at once (the newest); older ones are still in the app's list.
MAX_SHOWN: Final = 2
STYLES: Final = {
    "information": "$text-success",
    "warning": "bold $text-warning",
    "error": "bold $text-error",
}
MARKS: Final = {"information": "✓", "warning": "!", "error": "✗"}


@dataclass(frozen=True)
class Notice:
    message: Content
    severity: str
    until: datetime


class NoticeLine(Static):
    """The newest notices, one line each; hidden when there are none."""

    DEFAULT_CSS = """
    NoticeLine {
        height: auto;
        max-height: 2;
        padding: 0 1;
        background: $boost;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        display: none;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="notice-line")
        self._notices: list[Notice] = []
        self._timer: Timer | None = None

    @property
    def shown(self) -> list[str]:
        """The messages on screen now, newest first."""
        return [notice.message.plain for notice in self._notices]

    def add(self, message: Content, severity: str, timeout: float) -> None:
        now = datetime.now()
        self._notices.insert(0, Notice(message, severity, now + timedelta(seconds=timeout)))
        del self._notices[MAX_SHOWN:]
        self._show(now)

    def _expire(self) -> None:
        self._show(datetime.now())

    def _show(self, now: datetime) -> None:
        self._notices = [notice for notice in self._notices if notice.until > now]
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.display = bool(self._notices)
        if not self._notices:
            return
        lines = [
            Content.assemble(
                (f"{MARKS.get(n.severity, '·')} ", STYLES.get(n.severity, "")), n.message
            )
            for n in self._notices
        ]
        self.update(Content("\n").join(lines))
        soonest = min(notice.until for notice in self._notices)
        self._timer = self.set_timer(
            max((soonest - now).total_seconds(), 0.1), self._expire, name="notice-expiry"
        )
