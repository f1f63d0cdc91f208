"""Horizontal bars of block characters for shares and counts."""

from __future__ import annotations

from textual.content import Content

#: Eighths of a cell, from one eighth to a full block.
_EIGHTHS = "\u258f\u258e\u258d\u258c\u258b\u258a\u2589\u2588"


def share_bar(
    fraction: float | None, width: int, *, style: str = "$accent", mark: float | None = None
) -> Content:
    """A bar ``width`` cells wide filled to ``fraction`` (0–1), in eighths of a cell.

    ``mark`` (0–1) puts a ``│`` at that point of the empty part, e.g. the city's aim.
    """
    width = max(width, 1)
    eighths = round(max(0.0, min(1.0, fraction or 0.0)) * width * 8)
    full, rest = divmod(eighths, 8)
    filled = "\u2588" * full + (_EIGHTHS[rest - 1] if rest else "")
    empty = [" "] * (width - len(filled))
    if mark is not None:
        position = min(width - 1, int(mark * width))
        if position >= len(filled):
            empty[position - len(filled)] = "\u2502"
    return Content.assemble(
        (filled, style), ("".join(empty), "$foreground 40%" if mark is not None else "")
    )
