"""The catalogue files and their loader: categories, agencies, Manado's kelurahan."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest

from siaga_tui.core.catalogue import (
    Catalogue,
    CatalogueError,
    load_catalogue,
    load_catalogue_from,
    normalise_name,
)
from siaga_tui.core.errors import NotFound, ValidationError

EMERGENCY_CODES = [
    "bencana-alam", "ketertiban", "kebakaran", "kecelakaan", "kesehatan",
    "kriminalitas", "kerusuhan", "darurat-lain", "pengaduan-lain",
]  # fmt: skip
NON_EMERGENCY_CODES = [
    "bangunan-liar", "penerangan-jalan", "tiang-telekomunikasi", "pohon-tumbang",
    "kelistrikan", "air-bersih", "sampah",
]  # fmt: skip
KELURAHAN_PER_KECAMATAN = {
    "Bunaken": 5, "Tuminting": 10, "Singkil": 9, "Wenang": 12, "Tikala": 5, "Sario": 7,
    "Wanea": 9, "Mapanget": 10, "Malalayang": 9, "Bunaken Kepulauan": 4, "Paal Dua": 7,
}  # fmt: skip


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


# --- Categories and agencies -----------------------------------------------------------


def test_sixteen_categories_emergencies_first_in_the_sources_order(catalogue: Catalogue) -> None:
    assert [c.code for c in catalogue.categories] == EMERGENCY_CODES + NON_EMERGENCY_CODES
    assert [c.is_emergency for c in catalogue.categories] == [True] * 9 + [False] * 7
    assert catalogue.category("ketertiban").label("id") == "Ketenteraman dan Ketertiban"
    assert catalogue.category("pohon-tumbang").label("id") == "Pohon Miring/Tumbang"


def test_hotkeys_are_1_to_9_then_a_to_g(catalogue: Catalogue) -> None:
    assert [c.hotkey for c in catalogue.categories] == list("123456789abcdefg")
    assert catalogue.category_by_hotkey("3").code == "kebakaran"
    assert catalogue.category_by_hotkey("G").code == "sampah"
    assert catalogue.category_by_hotkey("z") is None
    assert catalogue.category_by_hotkey("") is None


def test_codes_are_unique(catalogue: Catalogue) -> None:
    codes = [c.code for c in catalogue.categories]
    assert len(set(codes)) == len(codes)
    agency_codes = [a.code for a in catalogue.agencies]
    assert len(set(agency_codes)) == len(agency_codes)


def test_every_category_has_an_existing_primary_agency(catalogue: Catalogue) -> None:
    for category in catalogue.categories:
        assert category.primary_agencies, category.code
        for code in (*category.primary_agencies, *category.supporting_agencies):
            assert catalogue.agency(code).code == code


def test_who_handles_what_follows_the_domain_table(catalogue: Catalogue) -> None:
    assert catalogue.category("kebakaran").primary_agencies == ("damkar",)
    assert catalogue.category("bencana-alam").primary_agencies == ("bpbd",)
    assert catalogue.category("kelistrikan").primary_agencies == ("pln",)
    assert catalogue.category("air-bersih").primary_agencies == ("pdam",)
    assert "polresta" in catalogue.category("kriminalitas").primary_agencies


def test_agencies_for_lists_primary_then_supporting_then_the_rest(catalogue: Catalogue) -> None:
    agencies = [a.code for a in catalogue.agencies_for("kebakaran")]
    assert agencies[:2] == ["damkar", "pln"]
    assert sorted(agencies) == sorted(a.code for a in catalogue.agencies)


def test_only_the_sourced_phone_number_is_given(catalogue: Catalogue) -> None:
    phones = {a.code: a.phone for a in catalogue.agencies if a.phone}
    assert phones == {"damkar": "(0431) 864444"}
    assert all(len(a.short_name) <= 12 for a in catalogue.agencies)


def test_targets_are_minutes_for_emergencies_and_hours_otherwise(catalogue: Catalogue) -> None:
    for category in catalogue.categories:
        assert category.forward_target <= category.finish_target, category.code
        if category.is_emergency:
            # The national response target is 15 minutes.
            assert category.forward_target <= timedelta(minutes=15), category.code
            assert category.finish_target <= timedelta(hours=4), category.code
        else:
            assert category.forward_target >= timedelta(hours=1), category.code
    assert catalogue.category("kebakaran").priority == 1


def test_three_to_six_questions_in_both_languages(catalogue: Catalogue) -> None:
    for category in catalogue.categories:
        assert 3 <= len(category.questions("id")) <= 6, category.code
        assert len(category.questions("en")) == len(category.questions("id")), category.code
    assert catalogue.category("kebakaran").questions("en")[0] == "Is anyone trapped inside?"


def test_unknown_codes_are_not_found(catalogue: Catalogue) -> None:
    with pytest.raises(NotFound):
        catalogue.category("banjir")
    with pytest.raises(NotFound):
        catalogue.agency("pemadam")


# --- Places --------------------------------------------------------------------------


def test_87_kelurahan_in_11_kecamatan(catalogue: Catalogue) -> None:
    assert len(catalogue.kecamatan) == 11
    assert len(catalogue.kelurahan) == 87
    counts = {k.name: len(catalogue.kelurahan_in(k)) for k in catalogue.kecamatan}
    assert counts == KELURAHAN_PER_KECAMATAN
    assert [k.code for k in catalogue.kecamatan] == [f"71.71.{n:02d}" for n in range(1, 12)]


def test_kelurahan_codes_are_unique_and_under_their_kecamatan(catalogue: Catalogue) -> None:
    codes = [k.code for k in catalogue.kelurahan]
    assert len(set(codes)) == 87
    for kelurahan in catalogue.kelurahan:
        assert re.fullmatch(r"71\.71\.\d{2}\.\d{4}", kelurahan.code)
        assert kelurahan.code.startswith(kelurahan.kecamatan.code + ".")
    # The gaps are real and kept.
    assert catalogue.kelurahan_by_code("71.71.05.1008").name == "Tikala Baru"
    assert catalogue.kelurahan_by_code("71.71.02.1002").name == "Tuminting"


def test_a_kelurahan_is_shown_with_its_kecamatan(catalogue: Catalogue) -> None:
    assert catalogue.kelurahan_by_code("71.71.10.1001").display == "Bunaken (Bunaken Kepulauan)"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("paal 4", "71.71.05.1010"),
        ("Paal IV", "71.71.05.1010"),
        ("PAAL-4", "71.71.05.1010"),
        ("tumumpa 1", "71.71.02.1003"),
        ("Tumumpa I", "71.71.02.1003"),
        ("Tumumpa Dua", "71.71.02.1008"),
        ("Kampung Islam", "71.71.02.1007"),
        ("Alungbanua", "71.71.10.1004"),
        ("Ranomut", "71.71.11.1001"),
        ("Paniki 2", "71.71.08.1011"),
        ("Paal 2", "71.71.11.1003"),
        ("Malalayang I Timur", "71.71.09.1005"),
        ("71.71.10.1001", "71.71.10.1001"),
        ("Bunaken, Bunaken Kepulauan", "71.71.10.1001"),
        ("Bunaken (Bunaken Kepulauan)", "71.71.10.1001"),
        ("Kel. Tuminting", "71.71.02.1002"),
        ("Tuminting", "71.71.02.1002"),
        ("Sario", "71.71.06.1004"),
        ("Wanea", "71.71.07.1001"),
        ("Paal Dua", "71.71.11.1003"),
        ("Tumumpa Satu, Kecamatan Tuminting", "71.71.02.1003"),
    ],
)
def test_resolve_kelurahan(catalogue: Catalogue, text: str, code: str) -> None:
    assert catalogue.resolve_kelurahan(text).code == code


def test_normalisation_treats_number_words_alike() -> None:
    assert normalise_name("Paal IV") == normalise_name("paal-4") == normalise_name("Paal Empat")
    assert normalise_name("  Tumumpa   Satu ") == "tumumpa 1"


def test_bunaken_alone_is_ambiguous(catalogue: Catalogue) -> None:
    with pytest.raises(ValidationError) as caught:
        catalogue.resolve_kelurahan("Bunaken")
    error = caught.value
    assert error.field == "kelurahan"
    assert error.key == "kelurahan_ambiguous"
    assert "Bunaken (Bunaken Kepulauan)" in error.params["candidates"]
    assert "71.71.10.1001" in error.params["codes"]


@pytest.mark.parametrize("text", ["Tumumpa", "Paal", "Kairagi"])
def test_a_shared_first_word_is_ambiguous(catalogue: Catalogue, text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        catalogue.resolve_kelurahan(text)
    assert caught.value.key == "kelurahan_ambiguous"


def test_a_misspelling_gives_suggestions(catalogue: Catalogue) -> None:
    with pytest.raises(ValidationError) as caught:
        catalogue.resolve_kelurahan("Tumintin")
    error = caught.value
    assert (error.field, error.key) == ("kelurahan", "kelurahan_unknown")
    assert "Tuminting (Tuminting)" in error.params["suggestions"]
    assert "Tumintin" in error.message("en") and "Tuminting" in error.message("id")


@pytest.mark.parametrize("text", ["Atlantis", "qqqq zzzz", "71.71.99.9999"])
def test_a_kelurahan_nothing_resembles_says_that_nothing_matches(
    catalogue: Catalogue, text: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        catalogue.resolve_kelurahan(text)
    error = caught.value
    assert (error.field, error.key, error.params["codes"]) == (
        "kelurahan",
        "kelurahan_no_match",
        (),
    )
    assert (
        error.message("en")
        == f"No kelurahan matches “{text}”. Check the spelling, or add the kecamatan."
    )
    assert error.message("id").startswith(f"Tidak ada kelurahan yang cocok dengan “{text}”.")
    assert "-" not in error.message("id").replace(text, "")  # no empty "Mungkin: -"


def test_the_wrong_kecamatan_is_unknown_and_suggests_the_right_one(catalogue: Catalogue) -> None:
    with pytest.raises(ValidationError) as caught:
        catalogue.resolve_kelurahan("Bunaken, Bunaken")
    assert caught.value.key == "kelurahan_unknown"
    assert caught.value.params["suggestions"].startswith("Bunaken (Bunaken Kepulauan)")


@pytest.mark.parametrize("text", ["", "   ", "--"])
def test_empty_text_is_required(catalogue: Catalogue, text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        catalogue.resolve_kelurahan(text)
    assert caught.value.key == "kelurahan_required"


def test_completion(catalogue: Catalogue) -> None:
    def names(text: str) -> list[str]:
        return [k.name for k in catalogue.complete_kelurahan(text)]

    assert names("paal")[:2] == ["Paal IV", "Paal Dua"]
    assert names("tum")[:3] == ["Tuminting", "Tumumpa Satu", "Tumumpa Dua"]
    assert names("Paal I")[0] == "Paal IV"  # half-typed roman numeral
    assert names("ranomut") == ["Ranomuut"]
    assert names("71.71.10") == ["Bunaken", "Manado Tua Satu", "Manado Tua Dua", "Alung Banua"]
    assert names("") == []
    assert len(catalogue.complete_kelurahan("a", limit=3)) == 3


# --- Broken files ----------------------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged catalogue files."""
    source = resources.files("siaga_tui").joinpath("data")
    for name in ("categories.toml", "agencies.toml", "wilayah.toml"):
        (tmp_path / name).write_text(source.joinpath(name).read_text(encoding="utf-8"))
    return tmp_path


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_copy_loads_like_the_package(data_copy: Path) -> None:
    assert len(load_catalogue_from(data_copy).kelurahan) == 87


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        (
            "categories.toml",
            'hotkey = "3"',
            'hotkey = "10"',
            "categories.toml: category 'kebakaran': field 'hotkey' must be one character, got '10'",
        ),
        (
            "categories.toml",
            'hotkey = "4"',
            'hotkey = "3"',
            "category 'kecelakaan': field 'hotkey' '3' is already used by category 'kebakaran'",
        ),
        (
            "categories.toml",
            'primary_agencies = ["damkar"]\nsupporting_agencies = ["pln"]',
            'primary_agencies = ["pemadam"]\nsupporting_agencies = ["pln"]',
            "category 'kebakaran': field 'primary_agencies' names agency 'pemadam'",
        ),
        (
            "categories.toml",
            'forward_target = "3m"',
            'forward_target = "3 menit"',
            "category 'kebakaran': field 'forward_target' must be a duration",
        ),
        (
            "categories.toml",
            'kind = "darurat"',
            'kind = "urgent"',
            "category 'bencana-alam': field 'kind' must be",
        ),
        (
            "categories.toml",
            'label_en = "Fire"',
            'label_en = "Fire"\nlabel_fr = "Feu"',
            "category 'kebakaran': field 'label_fr' is not known",
        ),
        (
            "categories.toml",
            'questions_en = [\n    "Is anyone trapped inside?",',
            "questions_en = [",
            "category 'kebakaran': field 'questions_en' must have as many",
        ),
        (
            "agencies.toml",
            'short_name = "Damkar"',
            'short_name = "Pemadam Kebakaran"',
            "agencies.toml: agency 'damkar': field 'short_name' must be at most 12",
        ),
        (
            "wilayah.toml",
            'code = "71.71.05.1010"',
            'code = "71.71.06.1010"',
            "wilayah.toml: kelurahan 'Paal IV' of kecamatan 'Tikala': field 'code' must be",
        ),
        (
            "wilayah.toml",
            '{ code = "71.71.02.1004", name = "Maasing" }',
            '{ code = "71.71.02.1004", name = "Maasing", aliases = ["Kampung Islam"] }',
            "kelurahan 'Islam' of kecamatan 'Tuminting': field 'aliases' alias 'Kampung Islam'"
            " is already used by kelurahan 'Maasing'",
        ),
        (
            "wilayah.toml",
            'code = "71.71.02.1003"',
            'code = "71.71.02.1002"',
            "kelurahan 'Tumumpa Satu' of kecamatan 'Tuminting': field 'code' '71.71.02.1002'"
            " is already used by kelurahan 'Tuminting'",
        ),
    ],
)
def test_a_broken_file_names_file_entry_and_field(
    data_copy: Path, name: str, old: str, new: str, expected: str
) -> None:
    _edit(data_copy, name, old, new)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue_from(data_copy, label="data")
    assert expected in str(caught.value)
    assert str(caught.value).startswith(f"data/{name}: ")


def test_a_missing_or_unreadable_file_is_named(data_copy: Path) -> None:
    (data_copy / "agencies.toml").write_text("[[agency]\ncode = ", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"^data/agencies.toml: not valid TOML"):
        load_catalogue_from(data_copy, label="data")
    shutil.rmtree(data_copy)
    with pytest.raises(CatalogueError, match=r"agencies\.toml: file is missing"):
        load_catalogue_from(data_copy)


def test_the_catalogue_imports_no_textual() -> None:
    # A fresh interpreter: other tests in this process may have imported Textual.
    code = (
        "import sys, siaga_tui.core.catalogue as c; c.load_catalogue();"
        " print('textual' in sys.modules)"
    )
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.strip() == "False"
