"""Rules for what a field accepts: free-text limits and the bounded-text check.

Below the services and the console, above ``errors``: the sanitiser (``text``) knows
nothing of fields, so the messages (``i18n``), which clean what they quote, can use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from siaga_tui.core.errors import InvalidInput, ValidationError
from siaga_tui.core.text import clean_text

__all__ = ["FIELD_LIMITS", "bounded_text", "collect"]

FIELD_LIMITS: Final[dict[str, int]] = {
    "caller_name": 120,
    "address": 300,
    "description": 8000,
    "note": 2000,
    "reason": 2000,
    "agency_ref": 100,
    "search": 200,
}
"""Longest text, in characters, each free-text field accepts."""


def bounded_text(
    value: str | None,
    *,
    field: str,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """``clean_text(value)`` checked for presence and length, for storing in ``field``.

    Raises ``ValidationError(field, "text_required")`` when ``required`` and the text is
    empty or only whitespace, and ``ValidationError(field, "text_too_long", length=...,
    max_length=...)`` when the cleaned text has more than ``max_length`` characters.
    """
    text = clean_text(value, multiline=multiline)
    if not text.strip():
        if required:
            raise ValidationError(field, "text_required")
        return ""
    if len(text) > max_length:
        raise ValidationError(field, "text_too_long", length=len(text), max_length=max_length)
    return text


def collect(errors: list[ValidationError], produce: Callable[[], Any]) -> Any:
    """``produce()``, or None with its field errors added to ``errors``: a form is then
    refused once, naming every bad field (``InvalidInput(errors)``)."""
    try:
        return produce()
    except InvalidInput as exc:
        errors.extend(exc.errors)
    except ValidationError as exc:
        errors.append(exc)
    return None
