"""How the queue, a report and the help look, in both languages, at 80×24 and 120×40.

Fixed data in tmp_path, a frozen clock, and the database shown under a fixed name, so
every run draws the same screen.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from siaga_tui.app import SiagaApp
from siaga_tui.core.db import Database
from tests.console.conftest import settle

SIZES = [(80, 24), (120, 40)]
LANGS = ["id", "en"]


@pytest.fixture(autouse=True)
def fixed_database_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Database, "describe", lambda self: "/srv/siaga112/siaga112.db")


def after(*keys: str) -> Callable[[Pilot[None]], object]:
    async def prepare(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return prepare


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", LANGS)
def test_queue(snap_compare, app_factory, lang: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app: SiagaApp = app_factory(lang=lang)
    assert snap_compare(app, terminal_size=size, run_before=after())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", LANGS)
def test_detail(snap_compare, app_factory, lang: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app: SiagaApp = app_factory(lang=lang)
    assert snap_compare(app, terminal_size=size, run_before=after("down", "enter"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", LANGS)
def test_help(snap_compare, app_factory, lang: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app: SiagaApp = app_factory(lang=lang)
    assert snap_compare(app, terminal_size=size, run_before=after("f1"))


@pytest.mark.parametrize("lang", LANGS)
def test_forward_dialog(snap_compare, app_factory, lang: str) -> None:  # type: ignore[no-untyped-def]
    app: SiagaApp = app_factory(lang=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=after("enter", "t"))
