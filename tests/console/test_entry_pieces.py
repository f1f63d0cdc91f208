"""The entry form's plain pieces: where Tab goes (by field name) and how a refusal is
sorted into reasons under fields and notices."""

from __future__ import annotations

import pytest

from siaga_tui.core.errors import InvalidInput, StorageError, ValidationError
from siaga_tui.screens.entry_refusal import explain_refusal
from siaga_tui.widgets.entry_fields import FORM_FIELDS, next_field, previous_field


@pytest.mark.parametrize(
    ("current", "picked", "empty", "expected"),
    [
        ("category", True, ["kelurahan", "description"], "kelurahan"),  # first still empty
        ("category", True, [], "phone"),
        ("phone", False, [], "category"),  # no category yet: back to the picker
        ("phone", True, [], "kelurahan"),
        ("description", True, [], "caller_name"),
        ("caller_name", True, [], "category"),  # round to the first
    ],
)
def test_tab_order(current: str, picked: bool, empty: list[str], expected: str) -> None:
    assert next_field(current, picked=picked, empty=empty) == expected


def test_shift_tab_goes_back_round_the_form() -> None:
    assert [previous_field(name) for name in FORM_FIELDS] == [
        "caller_name",
        "category",
        "phone",
        "kelurahan",
        "address",
        "description",
    ]


def test_a_refusal_marks_the_fields_in_the_forms_order_and_says_the_rest() -> None:
    error = InvalidInput(
        [
            ValidationError("description", "text_required"),
            ValidationError("category", "category_unknown", value="x"),
            ValidationError("phone", "phone_invalid", value="12ab"),
            ValidationError("answered_at", "text_required"),  # no such field on the form
        ]
    )
    refusal = explain_refusal(error, "en")
    assert list(refusal.fields) == ["category", "phone", "description"]
    assert refusal.first_field == "category"
    assert refusal.fields["category"] == "Not picked yet (press 1–9 or a–g)"
    assert refusal.fix_fields == "Check the marked fields."
    assert len(refusal.not_saved) == 1 and refusal.not_saved[0].startswith("Not saved")


def test_a_refusal_about_no_field_is_only_a_notice() -> None:
    refusal = explain_refusal(StorageError("db_locked"), "id")
    assert refusal.fields == {} and refusal.first_field is None and refusal.fix_fields is None
    assert len(refusal.not_saved) == 1
