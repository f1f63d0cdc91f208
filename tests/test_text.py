"""The text sanitiser: caller text is stored as typed minus what could harm a terminal."""

from __future__ import annotations

import pytest

from siaga_tui.core.errors import ValidationError
from siaga_tui.core.fields import FIELD_LIMITS, bounded_text
from siaga_tui.core.i18n import has_message, translate
from siaga_tui.core.text import clean_text, safe_cell

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl

# (input, single-line result, multiline result)
CLEANING: list[tuple[str, str, str]] = [
    # Markup is data: kept literally, the console shows it with markup off.
    ("[bold]x[/", "[bold]x[/", "[bold]x[/"),
    ("[@click=app.quit]tekan[/]", "[@click=app.quit]tekan[/]", "[@click=app.quit]tekan[/]"),
    # Escape sequences go as a whole, parameters included.
    ("a\x1b[2Jb", "ab", "ab"),
    ("a\x1b[1;31mmerah\x1b[0m", "amerah", "amerah"),
    ("x\x1b]52;c;ZXZpbA==\x07y", "xy", "xy"),  # OSC 52: write the clipboard
    ("x\x1b]0;judul palsu\x1b\\y", "xy", "xy"),  # OSC 0: window title, ST-terminated
    ("x\x1bP1$r\x1b\\y", "xy", "xy"),  # DCS
    ("x\x1b_apc\x1b\\y", "xy", "xy"),  # APC
    ("x\x1b(By", "xy", "xy"),  # charset designation
    ("x\x1bcy", "xy", "xy"),  # RIS: reset the terminal
    ("x\x9b2Jy", "xy", "xy"),  # 8-bit CSI
    ("x\x1b[12", "x", "x"),  # cut short at the end
    # Controls.
    ("a\x00b", "ab", "ab"),
    ("a\x07b", "ab", "ab"),  # BEL
    ("a\x7fb", "ab", "ab"),  # DEL
    ("a\x85b", "ab", "ab"),  # C1 NEL
    ("a\x08b", "ab", "ab"),  # backspace
    ("a\x0b\x0cb", "ab", "ab"),  # VT, FF
    ("abc\u202edcb", "abcdcb", "abcdcb"),  # RLO
    ("a\u2066b\u2069c", "abc", "abc"),  # LRI ... PDI
    ("a\u202ab\u202cc", "abc", "abc"),  # LRE ... PDF
    # TAB and line breaks.
    ("a\tb", "a b", "a\tb"),
    ("a\nb", "a b", "a\nb"),
    ("a\r\nb", "a b", "a\nb"),
    ("a\r\n\r\nb", "a  b", "a\n\nb"),
    ("a\rb", "a b", "ab"),
    ("  depan dan belakang  ", "depan dan belakang", "  depan dan belakang"),
    ("baris\n  menjorok\n\n  \n", "baris   menjorok", "baris\n  menjorok"),
    # Unicode.
    ("Jose\u0301", "Jos\u00e9", "Jos\u00e9"),  # NFD -> NFC
    (f"keluarga {FAMILY}!", f"keluarga {FAMILY}!", f"keluarga {FAMILY}!"),
    ("\u0645\u200c\u06cc", "\u0645\u200c\u06cc", "\u0645\u200c\u06cc"),  # ZWNJ kept
    ("a\u200bb", "a\u200bb", "a\u200bb"),  # zero-width space kept
    (
        "Kecelakaan di Jl. Sam Ratulangi, Wenang; korban 2 orang (luka-luka).",
        "Kecelakaan di Jl. Sam Ratulangi, Wenang; korban 2 orang (luka-luka).",
        "Kecelakaan di Jl. Sam Ratulangi, Wenang; korban 2 orang (luka-luka).",
    ),
    ("", "", ""),
]


@pytest.mark.parametrize(("raw", "single", "multi"), CLEANING)
def test_clean_text(raw: str, single: str, multi: str) -> None:
    assert clean_text(raw) == single
    assert clean_text(raw, multiline=True) == multi


@pytest.mark.parametrize(("raw", "single", "multi"), CLEANING)
def test_clean_text_is_idempotent(raw: str, single: str, multi: str) -> None:
    # Text is cleaned when stored and again when shown: the second pass changes nothing.
    assert clean_text(single) == single
    assert clean_text(multi, multiline=True) == multi


def test_clean_text_none_is_empty() -> None:
    assert clean_text(None) == ""
    assert clean_text(None, multiline=True) == ""


def test_no_escape_or_control_survives() -> None:
    nasty = "".join(chr(c) for c in range(0xA0)) + "\u202a\u202b\u202c\u202d\u202e"
    nasty += "\u2066\u2067\u2068\u2069"
    for multiline in (False, True):
        cleaned = clean_text(nasty * 3, multiline=multiline)
        allowed = {"\t", "\n"} if multiline else set()
        controls = {c for c in cleaned if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0}
        assert controls <= allowed
        assert not set(cleaned) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_ten_megabytes_is_cleaned_linearly() -> None:
    # Dense with escapes, controls and unterminated strings: a backtracking regex would
    # never finish. No timing assert (machines differ); finishing is the test.
    chunk = "Halo \x1b[31mmerah\x1b[0m\x00\r\n\x1b]0;t\x07é\u202e" + "x" * 70
    expected_chunk = "Halo merah\né" + "x" * 70
    count = 10_000_000 // len(chunk)
    cleaned = clean_text(chunk * count, multiline=True)
    assert len(cleaned) == len(expected_chunk) * count
    assert cleaned.startswith(expected_chunk + expected_chunk)


def test_ten_megabytes_unterminated_osc() -> None:
    assert clean_text("ok\x1b]" + "x" * 10_000_000) == "ok"


def test_ten_megabytes_plain_text_unchanged() -> None:
    text = "Jl. Sam Ratulangi no. 1, Manado\n" * 330_000
    assert clean_text(text, multiline=True) == text.rstrip()


# bounded_text


def test_bounded_text_cleans_and_returns() -> None:
    assert bounded_text("  Budi\x1b[2J  ", field="caller_name", max_length=120) == "Budi"


@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n", "\x1b[2J", "\u202e \x00"])
def test_bounded_text_required_refuses_blank(blank: str | None) -> None:
    with pytest.raises(ValidationError) as caught:
        bounded_text(blank, field="caller_name", max_length=120, required=True)
    assert caught.value.field == "caller_name"
    assert caught.value.key == "text_required"


@pytest.mark.parametrize("blank", [None, "", "   ", "\n\n  \n"])
def test_bounded_text_optional_blank_is_empty(blank: str | None) -> None:
    assert bounded_text(blank, field="note", max_length=10, multiline=True) == ""


def test_bounded_text_too_long() -> None:
    with pytest.raises(ValidationError) as caught:
        bounded_text("x" * 121, field="caller_name", max_length=120)
    error = caught.value
    assert (error.field, error.key) == ("caller_name", "text_too_long")
    assert error.params["length"] == 121
    assert error.params["max_length"] == 120
    assert "121" in error.message("en") and "120" in error.message("en")


def test_bounded_text_counts_after_cleaning() -> None:
    # Escapes do not count towards the limit; NFC makes "e" + accent one character.
    raw = "\x1b[2J" + "e\u0301" * 10
    assert bounded_text(raw, field="reason", max_length=10) == "\u00e9" * 10


def test_bounded_text_exact_limit_is_fine() -> None:
    assert bounded_text("x" * 100, field="agency_ref", max_length=100) == "x" * 100


#: Where each limited field is stored; a limit must be its column's length, so text the
#: forms accept always fits (PostgreSQL would refuse a longer value, SQLite keep it).
STORED_IN = {
    "caller_name": ("report", "caller_name"),
    "address": ("report", "address"),
    "description": ("report", "description"),
    "note": ("call", "note"),
    "agency_ref": ("referral", "agency_ref"),
}
#: Limited but kept in no column of their own: a reopening's reason goes into the
#: event's JSON, a search is never stored.
NOT_STORED = {"reason", "search"}


def test_field_limits_are_the_lengths_of_their_columns() -> None:
    from siaga_tui.core.models import metadata

    assert set(FIELD_LIMITS) == set(STORED_IN) | NOT_STORED
    for field, (table, column) in STORED_IN.items():
        assert FIELD_LIMITS[field] == metadata.tables[table].c[column].type.length, field
    for field in NOT_STORED:
        assert 0 < FIELD_LIMITS[field] <= FIELD_LIMITS["description"], field


@pytest.mark.parametrize("key", ["text_required", "text_too_long"])
def test_messages_exist_in_both_languages(key: str) -> None:
    assert has_message(key)
    assert translate(key, "id", length=5, max_length=3, field="x") != key
    assert translate(key, "en", length=5, max_length=3, field="x") != key


# safe_cell


@pytest.mark.parametrize(
    ("value", "width", "expected"),
    [
        (None, 60, ""),
        ("Budi", 60, "Budi"),
        ("baris satu\nbaris dua", 60, "baris satu \u23ce baris dua"),
        ("a\r\nb", 60, "a \u23ce b"),
        ("tab\tdi sini", 60, "tab di sini"),
        ("[bold]x[/", 60, "[bold]x[/"),
        ("\x1b]52;c;ZXZpbA==\x07aman", 60, "aman"),
        ("x" * 61, 60, "x" * 59 + "\u2026"),
        ("x" * 60, 60, "x" * 60),
        ("kata kata kata", 10, "kata kata\u2026"),
        ("\u6f22\u5b57\u6f22\u5b57", 5, "\u6f22\u5b57\u2026"),  # wide characters: 2 cells
        (112, 60, "112"),
    ],
)
def test_safe_cell(value: object, width: int, expected: str) -> None:
    assert safe_cell(value, width=width) == expected


def test_safe_cell_default_width() -> None:
    assert safe_cell("y" * 100) == "y" * 59 + "\u2026"


def test_core_text_imports_no_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys, siaga_tui.core.text;"
        "assert 'textual' not in sys.modules, 'the core must not import Textual'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
