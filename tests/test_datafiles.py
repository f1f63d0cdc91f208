"""The parsed-TOML cache: a current cache is used, anything else is parsed again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from siaga_tui.core import datafiles
from siaga_tui.core.datafiles import TomlFileError, read_toml_files


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def cache_files(home: Path) -> list[Path]:
    return sorted((home / "siaga112").glob("parsed-*.marshal"))


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def test_second_read_comes_from_the_cache(
    tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [
        write(tmp_path / "a.toml", '[k]\nid = "satu"\n'),
        write(tmp_path / "b.toml", "n = 2\n"),
    ]
    first = read_toml_files(files)
    assert first == [{"k": {"id": "satu"}}, {"n": 2}]
    assert len(cache_files(cache_home)) == 1

    def no_parsing(path: object, where: str) -> object:
        raise AssertionError(f"{where} parsed although the cache is current")

    monkeypatch.setattr(datafiles, "_parse", no_parsing)
    assert read_toml_files(files) == first


def test_a_changed_file_is_parsed_again(tmp_path: Path, cache_home: Path) -> None:
    source = write(tmp_path / "a.toml", 'v = "lama"\n')
    assert read_toml_files([source]) == [{"v": "lama"}]
    write(source, 'v = "baru, lebih panjang"\n')
    assert read_toml_files([source]) == [{"v": "baru, lebih panjang"}]
    # Same size, other content: the modification time tells them apart.
    stat = source.stat()
    write(source, 'v = "baru, lebih pendek"\n')
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert read_toml_files([source]) == [{"v": "baru, lebih pendek"}]


def test_a_corrupt_cache_is_ignored_and_replaced(tmp_path: Path, cache_home: Path) -> None:
    source = write(tmp_path / "a.toml", "n = 1\n")
    read_toml_files([source])
    (cache,) = cache_files(cache_home)
    cache.write_bytes(b"\x00not marshal at all")
    assert read_toml_files([source]) == [{"n": 1}]
    assert read_toml_files([source]) == [{"n": 1}]


def test_no_writable_cache_folder_still_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = write(tmp_path / "not-a-folder", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    source = write(tmp_path / "a.toml", "n = 1\n")
    assert read_toml_files([source]) == [{"n": 1}]
    assert read_toml_files([source]) == [{"n": 1}]


def test_values_marshal_cannot_hold_are_parsed_every_time(tmp_path: Path, cache_home: Path) -> None:
    source = write(tmp_path / "a.toml", "day = 2019-12-31\n")
    assert str(read_toml_files([source])[0]["day"]) == "2019-12-31"
    assert cache_files(cache_home) == []


def test_bad_toml_names_the_file_and_is_not_cached(tmp_path: Path, cache_home: Path) -> None:
    source = write(tmp_path / "a.toml", "n = = 1\n")
    with pytest.raises(TomlFileError, match=r"^data/a\.toml: not valid TOML"):
        read_toml_files([source], ["data/a.toml"])
    assert cache_files(cache_home) == []
