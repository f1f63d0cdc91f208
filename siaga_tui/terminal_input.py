"""Pasted text arrives whole and in order, even when it holds escape sequences.

Textual 8.2's terminal parser, meeting an ESC inside a bracketed paste, reads the
sequence and the characters after it (up to 32) as key presses and sends them at once,
while the rest of the paste waits for its end: pasting ``AAA \\x1b[31mBBB CCC`` typed
``^[31mBBB CCC`` (the ESC shown as ``^``) and then pasted ``AAA `` after it. A caller's
SMS copied from a terminal, or a hostile one, ended up stored scrambled.

``PasteSafeParser`` removes escape sequences inside a bracketed paste before the
parser sees them (the fields drop them anyway: caller text never keeps an escape), so
the paste reaches the field as one ``Paste`` event with its text in order. It keeps the
paste state across reads, since a paste and its markers can be split between them.
This is the one place the console leans on Textual's internals (the parser class the
Linux driver instantiates); ``tests/console/test_terminal_input.py`` fails when they
change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from textual._xterm_parser import XTermParser

from siaga_tui.core.text import remove_escape_sequences

PASTE_START: Final = "\x1b[200~"
PASTE_END: Final = "\x1b[201~"
#: The longest escape sequence held back at the end of a read, waiting for its rest.
HOLD_LIMIT: Final = 64


class PasteGuard:
    """Strips escape sequences from the inside of bracketed pastes in a stream of reads."""

    def __init__(self) -> None:
        self.in_paste = False
        self._held = ""  # the end of a read inside a paste that may be a split sequence
        self._tail = ""  # the end of what was passed on that may begin PASTE_START

    def filter(self, data: str) -> str:
        out: list[str] = []
        text = self._held + data
        self._held = ""
        while text:
            if not self.in_paste:
                # The tail of the last read was passed on already; a marker may begin in it.
                joined, passed = self._tail + text, len(self._tail)
                start = joined.find(PASTE_START)
                if start < 0:
                    out.append(text)
                    self._tail = _prefix_tail(joined, PASTE_START)
                    break
                out.append(joined[passed : start + len(PASTE_START)])
                text = joined[start + len(PASTE_START) :]
                self._tail = ""
                self.in_paste = True
                continue
            end = text.find(PASTE_END)
            if end < 0:
                body, self._held = _split_held(text)
                out.append(_without_escapes(body))
                break
            out.append(_without_escapes(text[:end]) + PASTE_END)
            text = text[end + len(PASTE_END) :]
            self.in_paste = False
        return "".join(out)


class PasteSafeParser(XTermParser):
    """Textual's parser, fed through a ``PasteGuard``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = PasteGuard()

    def feed(self, data: str) -> Iterable[Any]:
        if not data:  # the end of input, as for Textual's parser
            return super().feed(data)
        filtered = self._guard.filter(data)
        return super().feed(filtered) if filtered else ()  # all held back for the next read


def install() -> bool:
    """Make Textual's Linux drivers read the terminal with ``PasteSafeParser``."""
    try:
        from textual.drivers import linux_driver, linux_inline_driver
    except ImportError:  # not on this platform
        return False
    for module in (linux_driver, linux_inline_driver):
        if getattr(module, "XTermParser", None) in (XTermParser, PasteSafeParser):
            module.XTermParser = PasteSafeParser  # type: ignore[attr-defined]
    return linux_driver.XTermParser is PasteSafeParser


def _without_escapes(text: str) -> str:
    """Pasted text without escape sequences or a stray ESC; everything else as it came."""
    if "\x1b" not in text and "\x9b" not in text:
        return text
    return remove_escape_sequences(text).replace("\x1b", "")


def _split_held(text: str) -> tuple[str, str]:
    """Hold back an ESC near the end that may begin PASTE_END or a sequence cut short."""
    last = text.rfind("\x1b")
    if last >= 0 and len(text) - last <= HOLD_LIMIT:
        return text[:last], text[last:]
    return text, ""


def _prefix_tail(text: str, marker: str) -> str:
    """The end of ``text`` that is a proper beginning of ``marker`` ("" if none)."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-size:]):
            return text[-size:]
    return ""
