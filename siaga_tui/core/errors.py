"""Errors the core raises for people to read.

Every error carries a message key and parameters rather than a finished sentence, so
the console and the CLI can say it in the operator's language (see ``i18n``). ``str()``
of an error gives the message in the process's default language, which is what the
CLI prints.
"""

from __future__ import annotations

from typing import Any


class SiagaError(Exception):
    """Base of every error meant for an operator or supervisor to read."""

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(key)

    def message(self, lang: str | None = None) -> str:
        """The sentence for people, in ``lang`` (default: the process language)."""
        from siaga_tui.core.i18n import translate

        return translate(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.message()


class ValidationError(SiagaError):
    """Bad input in one named field; the form marks that field with the message."""

    def __init__(self, field: str, key: str, /, **params: Any) -> None:
        self.field = field
        super().__init__(key, field=field, **params)

    def label(self, lang: str | None = None) -> str:
        """The field's name in ``lang`` (its code when it has none, e.g. an option)."""
        from siaga_tui.core.i18n import has_message, translate

        label_key = f"field_{self.field}"
        return translate(label_key, lang) if has_message(label_key) else self.field

    def message(self, lang: str | None = None) -> str:
        """The reason, with ``{field}`` in the message said in ``lang`` too."""
        from siaga_tui.core.i18n import translate

        return translate(self.key, lang, **{**self.params, "field": self.label(lang)})

    def describe(self, lang: str | None = None) -> str:
        """``Field label: reason``, for places where the field is not beside the text."""
        return f"{self.label(lang)}: {self.message(lang)}"

    def __str__(self) -> str:
        return self.describe()


class NotFound(SiagaError):
    """A report, call, agency or operator that does not exist."""


class TransitionRefused(SiagaError):
    """A lifecycle change the rules do not allow; the message says why."""


class ConflictError(SiagaError):
    """Someone else changed the report since it was read (optimistic concurrency)."""


class PermissionDenied(SiagaError):
    """The signed-in operator's role does not allow the action."""


class StorageError(SiagaError):
    """The database cannot be used: locked, gone, read-only, corrupt, too new."""


class InvalidInput(SiagaError):
    """Several fields of one form are wrong at once; each error names its field.

    The console marks every field listed and moves focus to the first; the CLI prints
    one line per field.
    """

    def __init__(self, errors: list[ValidationError]) -> None:
        self.errors = errors
        super().__init__("invalid_input", count=len(errors))

    @property
    def fields(self) -> list[str]:
        return [error.field for error in self.errors]

    def message(self, lang: str | None = None) -> str:
        return "; ".join(error.describe(lang) for error in self.errors)
