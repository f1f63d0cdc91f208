"""How the quick entry screen looks: empty, with a category and the caller's history,
and with every field refused; in both languages, at 80×24 and 120×40.

Frozen clock, data filed in ``tmp_path`` at fixed times, the database shown by a fixed
name, blinking cursors off: the pictures are the same on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.db import Database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.calls import CallService
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import FROZEN_NOW
from tests.console.test_entry import settle

SIZES = [(80, 24), (120, 40)]
LANGS = ["id", "en"]
PHONE = "081234567890"


def snapshot_app(db: Database, monkeypatch: pytest.MonkeyPatch, lang: str) -> SiagaApp:
    """The console on ``db`` at FROZEN_NOW, the database shown by a fixed name."""
    monkeypatch.setattr(db, "describe", lambda: "siaga112.db")
    return make_app(db, operator="Operator Satu", lang=lang, clock=fixed_clock(FROZEN_NOW))


def seed_caller(db: Database) -> None:
    """A number with three prank calls and one report, all before FROZEN_NOW."""
    for minutes in (300, 200, 100):
        CallService(
            db, operator="budi", clock=fixed_clock(FROZEN_NOW - timedelta(minutes=minutes))
        ).log_call("iseng", phone=PHONE)
    ReportService(
        db, operator="budi", clock=fixed_clock(FROZEN_NOW - timedelta(days=2))
    ).create_report(
        NewReport(
            category="kebakaran", kelurahan="Sario", description="Asap [bold]tebal[/]", phone=PHONE
        )
    )


def entry_with(*steps: Callable[..., object]) -> Callable[..., object]:
    """A ``run_before`` that opens the entry form, then runs ``steps`` on its screen."""

    async def prepare(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("f2")
        await settle(pilot)
        for step in steps:
            await step(pilot)  # type: ignore[misc]
            await settle(pilot)

    return prepare


async def pick_and_type_phone(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("3")
    pilot.app.screen.query_one("#phone").value = PHONE


async def save_bad_form(pilot) -> None:  # type: ignore[no-untyped-def]
    screen = pilot.app.screen
    await pilot.press("tab")
    screen.query_one("#phone").value = "0812abc"
    screen.query_one("#kelurahan").value = "Atlantis"
    await pilot.press("ctrl+s")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", LANGS)
def test_entry_empty(
    snap_compare, db: Database, monkeypatch: pytest.MonkeyPatch, lang: str, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    app = snapshot_app(db, monkeypatch, lang)
    assert snap_compare(app, terminal_size=size, run_before=entry_with())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", LANGS)
def test_entry_category_and_history(
    snap_compare, db: Database, monkeypatch: pytest.MonkeyPatch, lang: str, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    seed_caller(db)
    app = snapshot_app(db, monkeypatch, lang)
    assert snap_compare(app, terminal_size=size, run_before=entry_with(pick_and_type_phone))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", LANGS)
def test_entry_with_errors(
    snap_compare, db: Database, monkeypatch: pytest.MonkeyPatch, lang: str, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    app = snapshot_app(db, monkeypatch, lang)
    assert snap_compare(app, terminal_size=size, run_before=entry_with(save_bad_form))


# --- Issue 13: typing under a live call ------------------------------------------------


def seed_open_fire(db: Database) -> None:
    """An open fire in Tikala Baru ten minutes before FROZEN_NOW: a repeat call's report."""
    ReportService(
        db, operator="budi", clock=fixed_clock(FROZEN_NOW - timedelta(minutes=10))
    ).create_report(
        NewReport(
            category="kebakaran", kelurahan="Tikala Baru", description="Asap tebal dari gudang"
        )
    )


async def type_number_first(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*"0857", "minus", *"1234", "minus", *"0000")


async def choose_second_kelurahan(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("3", "tab", *"tikala", "down")


async def type_repeat_call(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("3", *"0813 1111 2222", "tab", *"tikala b", "tab")


async def burst_then_save(pilot) -> None:  # type: ignore[no-untyped-def]
    """The frozen screen of issue 13: a long description's keys queued, then Ctrl+S."""
    from textual import events

    await type_repeat_call(pilot)
    await pilot.press(*"Gang 3", "tab")
    for character in ("Api besar, dua orang di dalam. " * 160)[:5000]:
        name = "space" if character == " " else "comma" if character == "," else character
        name = "full_stop" if character == "." else name
        pilot.app.post_message(events.Key(name, character))
    pilot.app.post_message(events.Key("ctrl+s", None))
    await settle(pilot)
    # The form under the offer repaints its footer once the focus has settled.
    for _ in range(3):
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()


async def quit_mid_call(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("3", *"0812")
    await pilot.press("ctrl+q")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_entry_number_typed_first(
    snap_compare, db: Database, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    app = snapshot_app(db, monkeypatch, "id")
    assert snap_compare(app, terminal_size=size, run_before=entry_with(type_number_first))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_entry_kelurahan_choices(
    snap_compare, db: Database, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    app = snapshot_app(db, monkeypatch, "id")
    assert snap_compare(app, terminal_size=size, run_before=entry_with(choose_second_kelurahan))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", LANGS)
def test_entry_possible_duplicates_beside_the_form(
    snap_compare, db: Database, monkeypatch: pytest.MonkeyPatch, lang: str, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    seed_open_fire(db)
    app = snapshot_app(db, monkeypatch, lang)
    assert snap_compare(app, terminal_size=size, run_before=entry_with(type_repeat_call))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_entry_offer_drawn_after_a_burst(
    snap_compare, db: Database, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    seed_open_fire(db)
    app = snapshot_app(db, monkeypatch, "id")
    assert snap_compare(app, terminal_size=size, run_before=entry_with(burst_then_save))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_entry_quit_asks_first(
    snap_compare, db: Database, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    app = snapshot_app(db, monkeypatch, "id")
    assert snap_compare(app, terminal_size=size, run_before=entry_with(quit_mid_call))
