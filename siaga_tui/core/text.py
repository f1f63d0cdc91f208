"""One sanitiser for every piece of caller and operator text.

Text from callers is data: it is stored as typed, minus whatever could harm a terminal
(escape sequences that clear the screen, set the title or write the clipboard; control
characters; bidi overrides that make text read differently from how it is stored), and
the same function runs again when the text is shown, so rows written by older versions
or other tools are safe too.

Markup-looking text such as ``[bold]`` is *kept*: it is harmless as data, and the
console shows caller text with markup switched off (see STYLE.md, "Caller text is data").

Everything here is linear in the length of the text: the regexes have no nested or
overlapping repetition, and the cheap ``in`` checks skip work that plain text never needs.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["clean_text", "remove_escape_sequences", "safe_cell"]

_ESC: Final = "\x1b"
_CSI_8BIT: Final = "\x9b"

# Whole escape sequences, so their parameters ("[2J", "]52;c;...") do not survive as
# stray text once the ESC itself is gone. Each alternative is a fixed introducer followed
# by runs of disjoint character classes, so matching never backtracks more than once.
# A sequence cut short (no final byte, no string terminator) is removed up to where it
# stops, which is also what a terminal would swallow.
_ESCAPE_SEQUENCE: Final = re.compile(
    r"""
      \x1b\[ [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?       # CSI: ESC [ params inter final
    | \x9b   [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?       # 8-bit CSI
    | \x1b[\]PX^_] [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)? # OSC, DCS, SOS, PM, APC strings
    | \x1b [\x20-\x2f]* [\x30-\x7e]?                      # two-char (and nF) sequences
    """,
    re.VERBOSE,
)

# Controls no stored text may contain: C0 except TAB and LF (CR is handled before), DEL,
# C1, and the bidi embeddings/overrides/isolates. ZWJ, ZWNJ and U+200B are not here:
# emoji sequences and several scripts need them.
_UNSAFE_CONTROLS: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+")


_CELL_NEWLINE: Final = " \u23ce "  # " ⏎ "
_ELLIPSIS: Final = "\u2026"  # "…"


def clean_text(value: str | None, *, multiline: bool = False) -> str:
    """``value`` as it may be stored and shown: no escapes, no unsafe controls, NFC.

    Single-line mode turns each TAB, LF and CR (CRLF counting as one) into a space and
    strips the ends; multiline mode keeps TAB and LF, drops CR and strips only the
    trailing whitespace at the very end. ``None`` gives ``""``.
    """
    if not value:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"clean_text expects str, not {type(value).__name__}")
    text = _remove_escape_sequences(value)
    text = _normalise_line_breaks(text, multiline=multiline)
    text = _remove_unsafe_controls(text)
    text = _to_nfc(text)
    return text.rstrip() if multiline else text.strip()


def safe_cell(value: object, *, width: int = 60) -> str:
    """Stored text for one line of a table cell, at most ``width`` terminal cells.

    Line breaks show as " ⏎ " so a multi-line description stays readable on one line;
    text that does not fit ends with "…". Wide characters (CJK, most emoji) count as two
    cells, as the table measures them. ``None`` gives ``""``.
    """
    if value is None:
        return ""
    text = clean_text(value if isinstance(value, str) else str(value), multiline=True)
    text = text.replace("\t", " ").strip().replace("\n", _CELL_NEWLINE)
    return _truncate_cells(text, max(width, 1))


def remove_escape_sequences(text: str) -> str:
    """``text`` without terminal escape sequences, and nothing else changed."""
    return _remove_escape_sequences(text)


def _remove_escape_sequences(text: str) -> str:
    # ``in`` is a fast scan; plain text never pays for the regex.
    if _ESC in text or _CSI_8BIT in text:
        return _ESCAPE_SEQUENCE.sub("", text)
    return text


def _normalise_line_breaks(text: str, *, multiline: bool) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if multiline:
        # A lone CR would move the cursor back over what is already on the line.
        return text.replace("\r", "") if "\r" in text else text
    # Single-line fields get line breaks and tabs from pastes: each becomes one space.
    # str.replace stays fast on non-ASCII text, where translate() goes char by char.
    for blank in ("\t", "\n", "\r"):
        if blank in text:
            text = text.replace(blank, " ")
    return text


#: What a terminal would act on in output that otherwise keeps its line structure
#: (TAB, LF and CR stay: CSV rows end in CRLF).
_OUTPUT_UNSAFE: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


def terminal_safe(text: str) -> str:
    """Output text without escape sequences, controls or bidi overrides (for CSV sent
    to standard output): what reached the database through another tool is not sent
    to the terminal as commands."""
    if text.isascii() and text.isprintable():
        return text
    return _LONE_CR.sub("", _OUTPUT_UNSAFE.sub("", _remove_escape_sequences(text)))


_LONE_CR: Final = re.compile("\r(?!\n)")


def visible_controls(text: str) -> str:
    """Text with every control, escape or bidi character shown as ``\\uXXXX`` (for a
    path or a JSON string: the value stays exact and readable, the terminal unmoved)."""
    return _OUTPUT_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _remove_unsafe_controls(text: str) -> str:
    return _UNSAFE_CONTROLS.sub("", text)


def _to_nfc(text: str) -> str:
    # is_normalized has a quick check that avoids building a copy of ordinary text.
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def _truncate_cells(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells, ending with "…" when it was cut."""
    # Rich measures cells the way Textual's DataTable does; rich is not Textual, and it
    # is imported here only, so the core's start-up does not pay for it.
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    # set_cell_size pads with a space where a wide character would be split in half.
    return set_cell_size(text, width - 1).rstrip() + _ELLIPSIS
