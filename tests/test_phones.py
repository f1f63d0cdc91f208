"""Phone numbers: one stored form (E.164 or a service code), national display, masking."""

from __future__ import annotations

import subprocess
import sys

import pytest

from siaga_tui.core.errors import ValidationError
from siaga_tui.core.i18n import has_message, translate
from siaga_tui.core.phones import format_phone, mask_phone, normalize_phone, phone_search_key

MOBILE = "+6281234567890"  # synthetic example from DOMAIN.md
MANADO = "+62431864444"

NORMALISED: list[tuple[str | None, str | None]] = [
    # One mobile, every way caller ID and operators write it.
    ("0812-3456-7890", MOBILE),
    ("081234567890", MOBILE),
    ("0812 3456 7890", MOBILE),
    ("0812.3456.7890", MOBILE),
    ("+62 812 3456 7890", MOBILE),
    ("+62-812-3456-7890", MOBILE),
    ("+6281234567890", MOBILE),
    ("6281234567890", MOBILE),
    ("62 812 3456 7890", MOBILE),
    ("  0812-3456-7890  ", MOBILE),
    ("(0812) 3456 7890", MOBILE),
    # Manado landline.
    ("(0431) 864444", MANADO),
    ("0431-864444", MANADO),
    ("+62 431 864444", MANADO),
    # "62" + a landline is also a valid national number (0624-…): caller ID wins.
    ("62431864444", MANADO),
    # Jakarta landline, 2-digit area code.
    ("(021) 1234 5678", "+622112345678"),
    # Service numbers stay as digits.
    ("112", "112"),
    ("110", "110"),
    ("113", "113"),
    ("115", "115"),
    ("118", "118"),
    ("119", "119"),
    (" 112 ", "112"),
    # Tourists.
    ("+44 20 7946 0958", "+442079460958"),
    ("+1 202 555 0143", "+12025550143"),
    # No number.
    (None, None),
    ("", None),
    ("   ", None),
]


@pytest.mark.parametrize(("raw", "stored"), NORMALISED)
def test_normalize_phone(raw: str | None, stored: str | None) -> None:
    assert normalize_phone(raw) == stored


def test_three_forms_of_one_mobile_are_the_same_caller() -> None:
    forms = {normalize_phone(raw) for raw in ("0812-3456-7890", "6281234567890", "+6281234567890")}
    assert forms == {MOBILE}


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "0812-3456-789O",  # letter O for zero
        "0812 3456 7890 ext 12",
        "tel:081234567890",
        "1" * 40,  # far too many digits
        "0" + "8" * 20,
        "08",  # too short
        "0812",
        "0812345",  # a start, not a number
        "12",
        "+62",
        "+999 1234 5678",  # no such country
        "+44 20 7946",  # too short for the UK
        "0812+3456",  # "+" only at the start
        "0812\x1b[2J3456",
    ],
)
def test_normalize_phone_refuses(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone(raw)
    error = caught.value
    assert (error.field, error.key) == ("phone", "phone_invalid")
    assert "\x1b" not in error.params["value"]


def test_refusal_shows_what_was_typed() -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone("0812-abc")
    assert caught.value.params["value"] == "0812-abc"
    assert caught.value.message("en") == "Not a valid phone number: 0812-abc"
    assert caught.value.message("id") == "Nomor telepon tidak valid: 0812-abc"


def test_refusal_of_huge_input_keeps_message_short() -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone("9" * 100_000)
    assert len(caught.value.params["value"]) <= 40


def test_message_exists() -> None:
    assert has_message("phone_invalid")
    assert translate("phone_invalid", "en", value="x") == "Not a valid phone number: x"


@pytest.mark.parametrize(
    ("stored", "national", "international"),
    [
        (MOBILE, "0812-3456-7890", "+62 812-3456-7890"),
        (MANADO, "(0431) 864444", "+62 431 864444"),
        ("+622112345678", "(021) 12345678", "+62 21 12345678"),
        ("112", "112", "112"),
        # Foreign numbers show the country even in the national style.
        ("+442079460958", "+44 20 7946 0958", "+44 20 7946 0958"),
        (None, "", ""),
        ("", "", ""),
    ],
)
def test_format_phone(stored: str | None, national: str, international: str) -> None:
    assert format_phone(stored) == national
    assert format_phone(stored, style="national") == national
    assert format_phone(stored, style="international") == international


def test_format_phone_old_data_is_shown_cleaned() -> None:
    assert format_phone("tidak ada\x1b[2J") == "tidak ada"


def test_format_phone_unknown_style() -> None:
    with pytest.raises(ValueError):
        format_phone(MOBILE, style="e164")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stored", "masked"),
    [
        (MOBILE, "0812-****-7890"),
        (MANADO, "(0431) **4444"),
        ("+622112345678", "(021) ****5678"),
        ("+442079460958", "+44 20 **** 0958"),
        ("112", "112"),
        (None, ""),
        ("", ""),
    ],
)
def test_mask_phone(stored: str | None, masked: str) -> None:
    assert mask_phone(stored) == masked


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("0812-3456-7890", MOBILE),  # complete: the stored form
        ("6281234567890", MOBILE),
        ("112", "112"),
        ("0812345", "62812345"),  # partial: trunk 0 becomes 62
        ("0812-345", "62812345"),
        ("+6281", "6281"),
        ("62812", "62812"),
        ("812345", "812345"),
        ("0", "62"),
        ("Budi", None),  # not a phone search
        ("", None),
        (None, None),
        ("1" * 40, None),
    ],
)
def test_phone_search_key(raw: str | None, key: str | None) -> None:
    assert phone_search_key(raw) == key


def test_partial_search_key_matches_stored_number() -> None:
    key = phone_search_key("0812 3456")
    assert key is not None
    assert key in MOBILE  # what `phone LIKE '%' || key || '%'` finds


def test_phonenumbers_is_imported_lazily() -> None:
    # Its metadata is slow to import; the console's start-up must not pay for it.
    code = (
        "import sys, siaga_tui.core.phones;"
        "assert 'phonenumbers' not in sys.modules, 'phonenumbers imported at start-up';"
        "assert 'textual' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
