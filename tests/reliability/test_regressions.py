"""Bugs the reliability suite found in shared code, each pinned by a direct test."""

from __future__ import annotations

from siaga_tui.core.catalogue import load_catalogue
from siaga_tui.core.errors import ValidationError


def test_a_pasted_page_is_no_kelurahan_and_is_refused_at_once() -> None:
    catalogue = load_catalogue()
    paste = "Tikala " * 1_500_000
    try:
        catalogue.resolve_kelurahan(paste)
    except ValidationError as error:
        assert error.field == "kelurahan" and error.key == "kelurahan_unknown"
    else:  # pragma: no cover - the assertion explains
        raise AssertionError("a 10 MB paste resolved to a kelurahan")
    assert catalogue.complete_kelurahan(paste) == []
    # Ordinary long forms still resolve.
    assert catalogue.resolve_kelurahan("Kelurahan Bunaken, Kecamatan Bunaken Kepulauan").code == "71.71.10.1001"
