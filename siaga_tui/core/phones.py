"""Caller phone numbers: one stored form, shown the way operators read them.

Numbers are stored in E.164 (``+6281234567890``) so that ``0812…``, ``62812…`` and
``+62812…`` from caller ID are the same caller; service short codes (``112``) are stored
as their digits. Callers without a SIM or with a withheld number have no number: the
field is optional and ``None`` means "none".

Validity comes from the ``phonenumbers`` library for region ``ID`` (and for any country
when the number is written with ``+``: tourists call too). We never check mobile
operator prefixes: numbers move between operators.

``phonenumbers`` loads a lot of metadata on import, so it is imported inside the
functions, never at module level: the console's start-up must stay fast.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Final, Literal

from siaga_tui.core.errors import ValidationError
from siaga_tui.core.text import clean_text, safe_cell

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

__all__ = [
    "SERVICE_CODES",
    "format_phone",
    "mask_phone",
    "normalize_phone",
    "phone_search_key",
]

REGION: Final = "ID"
COUNTRY_CODE: Final = "62"

SERVICE_CODES: Final[frozenset[str]] = frozenset({"110", "112", "113", "115", "118", "119"})
"""Indonesian emergency service numbers; stored and shown as their digits."""

PhoneStyle = Literal["national", "international"]

# What people and caller ID put between digits. Anything else (letters, "ext", "#") is
# refused rather than guessed at.
_ALLOWED: Final = re.compile(r"\+?[0-9\s\-.()]*")
_NON_DIGITS: Final = re.compile(r"[^0-9]")
_DIGIT: Final = re.compile(r"[0-9]")

# A national number is at most 15 digits (E.164) plus the trunk "0"; more is not a phone.
_MIN_DIGITS: Final = 3
_MAX_DIGITS: Final = 16
_MASK_TAIL: Final = 4
_SHOWN_IN_ERROR: Final = 40


def normalize_phone(raw: str | None) -> str | None:
    """The stored form of ``raw``: E.164, a service code's digits, or ``None``.

    ``None``, ``""`` and whitespace give ``None`` (no number). Spaces, dashes, dots and
    brackets are accepted between digits, and a leading ``+``. Digits starting with
    ``62`` are read as the country code when that gives a valid number, since caller ID
    sends ``62812…``. Raises ``ValidationError("phone", "phone_invalid", value=...)`` for
    anything else: letters, too few or too many digits, or a number ``phonenumbers``
    does not consider valid.
    """
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if _ALLOWED.fullmatch(text) is None:
        raise _invalid(raw)
    digits = _NON_DIGITS.sub("", text)
    if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
        raise _invalid(raw)
    stored = _normalize_digits(digits, international=text.startswith("+"))
    if stored is None:
        raise _invalid(raw)
    return stored


def format_phone(stored: str | None, *, style: PhoneStyle = "national") -> str:
    """``stored`` for people to read.

    ``"national"``: ``0812-3456-7890``, ``(0431) 864444``; numbers from other countries
    in international form (``+44 20 7946 0958``), since a national form would hide the
    country. ``"international"``: ``+62 812-3456-7890``. Service codes as they are,
    ``None`` as ``""``; a stored value that is not a number (old data) is shown cleaned.
    """
    if style not in ("national", "international"):
        raise ValueError(f"unknown phone style {style!r}: use 'national' or 'international'")
    if not stored:
        return ""
    if stored in SERVICE_CODES or _is_short_code(stored):
        return stored
    number = _parse_stored(stored)
    if number is None:
        return clean_text(stored)
    return _format(stored, international=style == "international" or not _is_domestic(number))


def mask_phone(stored: str | None) -> str:
    """``stored`` with the middle digits hidden, for screens and exports with personal data.

    Keeps the trunk ``0`` with the operator or area code and the last 4 digits of the
    national form: ``0812-****-7890``, ``(0431) **4444``. Foreign numbers keep the
    country and area code: ``+44 20 **** 0958``. Service codes are not personal and stay
    as they are; ``None`` gives ``""``.
    """
    if not stored:
        return ""
    if stored in SERVICE_CODES or _is_short_code(stored):
        return stored
    number = _parse_stored(stored)
    if number is None:
        # Not a number we understand (old data): hide all but the last digits.
        return _mask_digits(clean_text(stored), head=0, tail=_MASK_TAIL)
    domestic = _is_domestic(number)
    shown = _format(stored, international=not domestic)
    destination_code = _destination_code_length(stored)
    # Digits before the hidden part: "0" + operator/area code, or country + area code.
    head = 1 + destination_code if domestic else len(str(number.country_code)) + destination_code
    return _mask_digits(shown, head=head, tail=_MASK_TAIL)


def phone_search_key(raw: str | None) -> str | None:
    """What to look for in the stored phone column while the operator types ``raw``.

    - ``raw`` is a complete number: its stored form (``+6281234567890``, or ``112``).
    - ``raw`` is part of a number (digits, spaces, dashes, ...): its digits, with a
      leading trunk ``0`` turned into ``62`` and no ``+``: ``"0812 345"`` → ``"62812345"``.
    - ``raw`` is empty, has letters or more digits than any phone number (it is not a
      phone search): ``None``.

    Both forms are found with a substring match, ``phone LIKE '%' || :key || '%'``: a
    partial key ``62812345`` is inside ``+6281234567890``, and a complete key also finds
    longer numbers that start with it (``0812345678`` is valid, and a prefix of
    ``0812-3456-7890``). Keys hold only digits and ``+``, so no LIKE escaping is needed.
    """
    if raw is None or not raw.strip():
        return None
    try:
        stored = normalize_phone(raw)
    except ValidationError:
        stored = None
    if stored is not None:
        return stored
    text = raw.strip()
    if _ALLOWED.fullmatch(text) is None:
        return None
    digits = _NON_DIGITS.sub("", text)
    if not digits or len(digits) > _MAX_DIGITS:
        return None
    if digits.startswith("0") and not text.startswith("+"):
        return COUNTRY_CODE + digits[1:]
    return digits


def _invalid(raw: str) -> ValidationError:
    # The value goes into a message: keep it as typed unless it is long or unsafe.
    as_typed = len(raw) <= _SHOWN_IN_ERROR and clean_text(raw) == raw
    shown = raw if as_typed else safe_cell(raw, width=_SHOWN_IN_ERROR)
    return ValidationError("phone", "phone_invalid", value=shown)


@lru_cache(maxsize=4096)
def _normalize_digits(digits: str, *, international: bool) -> str | None:
    """The stored form of a number given as bare ``digits``, or ``None`` if not valid."""
    if international:
        return _valid_e164("+" + digits, region=None)
    if _is_short_code(digits):
        return digits
    candidates: list[tuple[str, str | None]] = [(digits, REGION)]
    if digits.startswith(COUNTRY_CODE):
        # Caller ID writes "62812…" for "+62812…". Read as national digits, some of
        # these are also valid ("62431864444" would be an Aceh number, 0624-…), so the
        # country-code reading goes first; a national number is written with its "0".
        candidates.insert(0, ("+" + digits, None))
    for text, region in candidates:
        stored = _valid_e164(text, region=region)
        if stored is not None:
            return stored
    return None


def _valid_e164(text: str, *, region: str | None) -> str | None:
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=256)
def _is_short_code(digits: str) -> bool:
    """True for Indonesian 3-digit service numbers (ours, and those phonenumbers knows)."""
    if digits in SERVICE_CODES:
        return True
    if len(digits) != 3 or not digits.isdigit() or not digits.startswith("1"):
        return False
    import phonenumbers

    number = phonenumbers.parse(digits, REGION)
    return phonenumbers.is_valid_short_number_for_region(number, REGION)


@lru_cache(maxsize=4096)
def _parse_stored(stored: str) -> PhoneNumber | None:
    """The parsed E.164 ``stored`` value, or ``None`` for anything else (old data).

    The cached object is shared: read it, never change it.
    """
    if not stored.startswith("+"):
        return None
    import phonenumbers

    try:
        return phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=4096)
def _format(stored: str, *, international: bool) -> str:
    import phonenumbers

    number = _parse_stored(stored)
    assert number is not None  # callers check first
    style = (
        phonenumbers.PhoneNumberFormat.INTERNATIONAL
        if international
        else phonenumbers.PhoneNumberFormat.NATIONAL
    )
    return phonenumbers.format_number(number, style)


@lru_cache(maxsize=4096)
def _destination_code_length(stored: str) -> int:
    """Digits of the operator or area code (``812``, ``431``, ``21``); 3 if unknown."""
    import phonenumbers

    number = _parse_stored(stored)
    assert number is not None
    return phonenumbers.length_of_national_destination_code(number) or 3


def _is_domestic(number: PhoneNumber) -> bool:
    return str(number.country_code) == COUNTRY_CODE


def _mask_digits(shown: str, *, head: int, tail: int) -> str:
    """``shown`` with every digit but the first ``head`` and last ``tail`` as ``*``.

    Separators stay, so the masked number keeps its familiar shape. At least two digits
    are always hidden: a mask that hides nothing would be a leak.
    """
    count = len(_DIGIT.findall(shown))
    hidden = max(count - head - tail, min(2, count))
    keep_tail = min(tail, count - hidden)
    keep_head = max(count - hidden - keep_tail, 0)
    seen = 0
    out: list[str] = []
    for char in shown:
        if "0" <= char <= "9":
            seen += 1
            out.append(char if seen <= keep_head or seen > count - keep_tail else "*")
        else:
            out.append(char)
    return "".join(out)
