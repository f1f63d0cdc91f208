"""Why the entry form was not saved, in the words the form shows.

A service refuses with one error or a list of them (``InvalidInput``). The ones about a
field of the form go under that field and focus moves to the first of them; the rest
(a storage error, a conflict, a field the form does not have) become notices. Kept
apart from the screen as plain values, so the screen only shows them.
"""

from __future__ import annotations

from dataclasses import dataclass

from siaga_tui.core.errors import InvalidInput, SiagaError, ValidationError
from siaga_tui.core.i18n import translate
from siaga_tui.widgets.entry_fields import FORM_FIELDS


@dataclass(frozen=True)
class Refusal:
    """What to show for one refusal."""

    #: The reason under each bad field, by field name, in the form's order.
    fields: dict[str, str]
    #: "Fix the marked fields", when there are any.
    fix_fields: str | None
    #: Why nothing was saved, for each error that is about no field of the form.
    not_saved: tuple[str, ...]

    @property
    def first_field(self) -> str | None:
        """The field focus goes to: the first bad one in the form's order."""
        return next(iter(self.fields), None)


def explain_refusal(error: SiagaError, lang: str) -> Refusal:
    """Sort ``error`` into reasons under fields and notices, in language ``lang``."""
    errors = error.errors if isinstance(error, InvalidInput) else [error]
    on_fields = [e for e in errors if isinstance(e, ValidationError) and e.field in FORM_FIELDS]
    reasons = {
        item.field: (
            translate("entry_category_none", lang)
            if item.field == "category"
            else item.message(lang)
        )
        for item in sorted(on_fields, key=lambda e: FORM_FIELDS.index(e.field))
    }
    not_saved = tuple(
        translate(
            "entry_not_saved",
            lang,
            reason=other.describe(lang)
            if isinstance(other, ValidationError)
            else other.message(lang),
        )
        for other in errors
        if other not in on_fields
    )
    return Refusal(
        fields=reasons,
        fix_fields=translate("entry_fix_fields", lang) if on_fields else None,
        not_saved=not_saved,
    )
