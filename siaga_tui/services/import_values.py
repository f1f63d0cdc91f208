"""Dates and times as spreadsheets hold them, read into aware UTC moments.

A date cell may be ``YYYY-MM-DD``, ``DD/MM/YYYY``, ``DD-MM-YYYY`` or ``DD.MM.YYYY``
(day first, as in Indonesia), an Excel serial day number (``43525`` is 1 March 2019,
``43525.5`` its noon), or ISO 8601 with a time and an offset
(``2019-03-01T14:05:00+08:00``); any of the day forms may carry the time after a space
(``01/03/2019 10:00``). A time cell is ``HH:MM`` or ``HH:MM:SS`` (``.`` also
separates), or a fraction of a day. A moment without an offset is WITA (the display
zone).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Final

from siaga_tui.core.errors import ValidationError
from siaga_tui.core.timeutil import as_utc, display_zone

_ISO_DAY: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY_DAY: Final = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
_TIME: Final = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:[.,]\d+)?)?")
_SERIAL: Final = re.compile(r"\d{1,7}(?:[.,]\d+)?")
_OFFSET: Final = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})")
#: Excel's day 0 (serials count from here; 60 is Excel's phantom 29 Feb 1900).
_EXCEL_EPOCH: Final = date(1899, 12, 30)
#: The years a moment read from a file may fall in: year 1 or 9999 cannot always be
#: moved between zones, and nothing a center recorded is older or that far ahead.
FIRST_YEAR: Final = 1900
LAST_YEAR: Final = 2999
#: Serials this program reads as dates: 1 Jan 1900 to 31 Dec 9999.
_SERIAL_RANGE: Final = range(1, 2958466)


def parse_moment(field: str, day_text: str, time_text: str = "") -> tuple[datetime, bool]:
    """The moment a date cell (and an optional time cell) give, and whether a time was
    given at all (a date alone is its local midnight)."""
    value = (day_text or "").strip()
    clock_text = (time_text or "").strip()
    day, at, offset = _split_moment(field, value)
    if clock_text:
        if at is not None:
            raise ValidationError("time", "import_time_twice", value=clock_text)
        at = parse_time(clock_text)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError(field, "import_bad_date", value=value)
    local = datetime.combine(day, at or time(0))
    try:
        if offset is not None:
            return as_utc(datetime.fromisoformat(f"{local.isoformat()}{offset}")), True
        return as_utc(local.replace(tzinfo=display_zone())), at is not None
    except (OverflowError, ValueError):  # beyond what a UTC datetime holds
        raise ValidationError(field, "import_bad_date", value=value) from None


def parse_time(text: str) -> time:
    value = text.strip()
    match = _TIME.fullmatch(value)
    try:
        if match:
            return time(int(match[1]), int(match[2]), int(match[3] or 0))
        fraction = float(value.replace(",", "."))
        if not 0 <= fraction < 1:
            raise ValueError(value)
        seconds = round(fraction * 86400)
        return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
    except ValueError:
        raise ValidationError("time", "import_bad_time", value=text) from None


def _split_moment(field: str, value: str) -> tuple[date, time | None, str | None]:
    """The day, the time (if any) and the offset (if any) of a date cell."""
    bad = ValidationError(field, "import_bad_date", value=value)
    if _SERIAL.fullmatch(value):
        return _serial(value, bad)
    day_part, _, rest = value.replace("T", " ", 1).partition(" ")
    rest = rest.strip()
    offset = None
    if rest and (found := _OFFSET.search(rest)) and found.end() == len(rest):
        offset = found[0] if found[0] != "Z" else "+00:00"
        if len(offset) == 5:
            offset = f"{offset[:3]}:{offset[3:]}"
        rest = rest[: found.start()].strip()
    try:
        if match := _ISO_DAY.fullmatch(day_part):
            day = date(int(match[1]), int(match[2]), int(match[3]))
        elif match := _DMY_DAY.fullmatch(day_part):
            day = date(int(match[4]), int(match[3]), int(match[1]))
        else:
            raise bad
    except ValueError:
        raise bad from None
    at = None
    if rest:
        try:
            at = parse_time(rest)
        except ValidationError:
            raise bad from None
    return day, at, offset


def _serial(value: str, bad: ValidationError) -> tuple[date, time | None, None]:
    number = float(value.replace(",", "."))
    whole = int(number)
    if whole not in _SERIAL_RANGE:
        raise bad
    day = _EXCEL_EPOCH + timedelta(days=whole)
    seconds = round((number - whole) * 86400)
    if seconds == 0 and "." not in value and "," not in value:
        return day, None, None
    if seconds >= 86400:
        day, seconds = day + timedelta(days=1), 0
    return day, time(seconds // 3600, seconds % 3600 // 60, seconds % 60), None
