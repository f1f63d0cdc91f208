"""A titled bar chart for the status board: Textual's ``Sparkline`` with a scale and an axis.

The sparkline scales its bars between the smallest and the largest value, so the title
line says what the lowest and the highest bar stand for, and the axis under the bars
names the first, middle and last bucket (hours, dates): the picture never claims a
height the numbers do not have.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.events import Resize
from textual.widgets import Sparkline, Static


class BoardChart(Vertical):
    """Title and scale, the bars, and an axis with labels at the start, middle and end."""

    DEFAULT_CSS = """
    BoardChart {
        height: auto;
    }
    BoardChart > .board-chart--title {
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    BoardChart > Sparkline {
        height: 3;
    }
    BoardChart > .board-chart--axis {
        height: 1;
        color: $foreground 60%;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._labels: tuple[str, str, str] = ("", "", "")
        self._data: tuple[int, ...] = ()
        self._title = Content("")
        self._scales: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(classes="board-chart--title")
        yield Sparkline([], summary_function=max)
        yield Static(classes="board-chart--axis")

    def show(
        self, title: Content, data: Sequence[int], labels: tuple[str, str, str], *scales: str
    ) -> None:
        """Draw ``data``; ``scales`` say what the bars stand for, longest first: the
        longest that fits beside the title is shown."""
        self._data, self._labels = tuple(data), labels
        self._title, self._scales = title, scales
        self.query_one(Sparkline).data = list(self._data)
        self._draw(self.size.width)

    def on_resize(self, event: Resize) -> None:
        self._draw(event.size.width)

    def _draw(self, width: int) -> None:
        room = width - len(self._title.plain) - 2
        scale = next((s for s in self._scales if len(s) <= room), "")
        heading = Content.assemble(self._title, "  " if scale else "", (scale, "dim"))
        self.query_one(".board-chart--title", Static).update(heading)
        self._draw_axis(width)

    def _draw_axis(self, width: int) -> None:
        self.query_one(".board-chart--axis", Static).update(Content(axis(self._labels, width)))


def axis(labels: tuple[str, str, str], width: int) -> str:
    """``first`` at the left, ``middle`` centred, ``last`` at the right of ``width``."""
    first, middle, last = labels
    if width <= 0:
        return ""
    line = [" "] * width
    for start, text in (
        (0, first),
        ((width - len(middle)) // 2, middle),
        (width - len(last), last),
    ):
        for offset, char in enumerate(text):
            if 0 <= start + offset < width:
                line[start + offset] = char
    return "".join(line)
