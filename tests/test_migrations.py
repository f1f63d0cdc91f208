"""The schema: migrations equal the models, upgrades keep rows, unknown files are refused."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from siaga_tui.core import migrate
from siaga_tui.core.db import SCHEMA_HEAD, open_database
from siaga_tui.core.errors import StorageError
from siaga_tui.core.migrate import current_revision


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_schema_head_constant_matches_the_scripts() -> None:
    assert migrate.head_revision() == SCHEMA_HEAD


def test_fresh_database_equals_the_models(db_path: Path) -> None:
    db = open_database(db_path)
    assert current_revision(db) == SCHEMA_HEAD
    assert migrate.schema_differences(db) == []


def test_upgrade_from_every_revision_keeps_rows(tmp_path: Path) -> None:
    revisions = list(reversed(migrate.known_revisions()))
    for start in revisions:
        path = tmp_path / f"at-{start}.db"
        db = open_database(path, migrate=False)
        migrate.upgrade(db, start)
        with db.write() as conn:
            conn.exec_driver_sql(
                "INSERT INTO report_number_sequence (year, last_value) VALUES (2019, 41)"
            )
        migrate.upgrade(db)
        assert current_revision(db) == SCHEMA_HEAD
        with db.read() as conn:
            assert (
                conn.exec_driver_sql("SELECT last_value FROM report_number_sequence").scalar() == 41
            )
        db.dispose()


def test_database_from_a_newer_version_is_refused_untouched(db_path: Path) -> None:
    open_database(db_path).dispose()
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999_future'")
    before = file_digest(db_path)
    with pytest.raises(StorageError) as caught:
        open_database(db_path)
    assert caught.value.key == "db_too_new"
    assert "9999_future" in str(caught.value)
    assert file_digest(db_path) == before


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("daftar piket minggu ini\n" * 100)
    before = file_digest(path)
    with pytest.raises(StorageError) as caught:
        open_database(path)
    assert caught.value.key == "db_not_a_database"
    assert file_digest(path) == before


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE inventory (item TEXT)")
    with pytest.raises(StorageError) as caught:
        open_database(path)
    assert caught.value.key == "db_not_siaga"


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        open_database(tmp_path / "no" / "such" / "folder" / "x.db")
    assert caught.value.key == "db_folder_missing"


def test_default_database_is_created_in_the_user_data_folder() -> None:
    db = open_database(None)
    assert db.path is not None and db.path.exists()
    assert "siaga112" in str(db.path)


def test_sqlite_is_set_up_for_durability(db_path: Path) -> None:
    db = open_database(db_path)
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
