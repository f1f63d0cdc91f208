"""Shared fixtures: a fresh database per test, a controllable clock, hermetic settings.

Every test runs with the time zone, language and user folders pinned, so nothing from
the developer's machine (their data folder, SIAGA112_* variables) leaks in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from siaga_tui.core.db import Database, open_database
from siaga_tui.core.i18n import set_language

#: The moment frozen tests live in: 28 Nov 2026, 10:00 WITA.
FROZEN_NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


class MutableClock:
    """A clock tests can move forward (or backward, to test clock steps)."""

    def __init__(self, start: datetime = FROZEN_NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture(autouse=True)
def hermetic_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("SIAGA112_") and name not in ("SIAGA112_TEST_PG_URL",):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("LANG", "C.UTF-8")
    set_language("id")
    yield
    set_language(None)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "siaga112.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_database(db_path)
    yield database
    database.dispose()
