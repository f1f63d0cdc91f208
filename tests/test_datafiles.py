"""Reading the maintained TOML files: every file parsed, in order, bad ones named."""

from __future__ import annotations

from pathlib import Path

import pytest

from siaga_tui.core.datafiles import TomlFileError, read_toml_files


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_files_are_read_in_order_with_their_types(tmp_path: Path) -> None:
    files = [
        write(tmp_path / "a.toml", '[k]\nid = "satu"\n'),
        write(tmp_path / "b.toml", "n = 2\nday = 2019-12-31\n"),
    ]
    first, second = read_toml_files(files)
    assert first == {"k": {"id": "satu"}}
    assert second["n"] == 2 and str(second["day"]) == "2019-12-31"


def test_a_changed_file_is_read_as_it_is_now(tmp_path: Path) -> None:
    source = write(tmp_path / "a.toml", 'v = "lama"\n')
    assert read_toml_files([source]) == [{"v": "lama"}]
    write(source, 'v = "baru"\n')
    assert read_toml_files([source]) == [{"v": "baru"}]


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    source = write(tmp_path / "a.toml", "n = = 1\n")
    with pytest.raises(TomlFileError, match=r"^data/a\.toml: not valid TOML"):
        read_toml_files([source], ["data/a.toml"])


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    source = tmp_path / "a.toml"
    source.write_bytes(b'v = "\xff"\n')
    with pytest.raises(TomlFileError, match=r"^a\.toml: not valid TOML"):
        read_toml_files([source], ["a.toml"])
