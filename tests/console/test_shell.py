"""The console's shell: the factory, the header, global keys, palette, theme, language."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.worker import WorkerFailed

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.errors import StorageError
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.screens.help import HelpScreen
from siaga_tui.screens.queue import QueueScreen
from siaga_tui.theme import CONTROL_ROOM
from siaga_tui.widgets.status_header import (
    MIN_TICK,
    MINUTE_SLACK,
    StatusHeader,
    seconds_to_next_minute,
)
from tests.conftest import FROZEN_NOW
from tests.console.conftest import notices


def header_text(app: SiagaApp) -> str:
    header = app.screen.query_one(StatusHeader)
    return " ".join(str(static.render()) for static in header.query("#header-line > Static"))


async def test_opens_on_the_queue_with_operator_database_and_time(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(pilot.app.screen, QueueScreen)
        text = header_text(pilot.app)
        assert "Operator Satu" in text
        assert console_app.db.describe() in text
        assert "10:00 WITA" in text  # FROZEN_NOW is 02:00 UTC


async def test_header_clock_follows_the_injected_clock(seeded_db) -> None:  # type: ignore[no-untyped-def]
    now = [FROZEN_NOW]
    app = make_app(seeded_db, operator="x", clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        from datetime import timedelta

        header = pilot.app.screen.query_one(StatusHeader)
        assert header._minute_timer is not None
        assert (
            header._minute_timer._interval == 60 + MINUTE_SLACK
        )  # on the minute, not every second
        now[0] = FROZEN_NOW + timedelta(seconds=61)
        header._tick()
        assert "10:01 WITA" in header_text(pilot.app)
        assert header._minute_timer._interval == pytest.approx(59 + MINUTE_SLACK)
        running = [t for t in header._timers if t.name == "header-clock" and t._task is not None]
        assert len(running) == 1  # one timer, re-armed
        now[0] = FROZEN_NOW + timedelta(seconds=59, microseconds=999_990)
        header._tick()  # a clock stuck just before the minute: no tight loop
        assert header._minute_timer._interval == MIN_TICK


def test_seconds_to_the_next_minute() -> None:
    from datetime import timedelta

    assert seconds_to_next_minute(FROZEN_NOW) == 60
    assert seconds_to_next_minute(FROZEN_NOW + timedelta(seconds=59, microseconds=500_000)) == 0.5


async def test_f1_lists_screen_and_global_keys_and_escape_closes(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(pilot.app.screen, HelpScreen)
        table = pilot.app.screen.query_one("#help-keys")
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        keys = {row[1]: row[2] for row in rows}
        assert keys["/"] == "Cari"
        assert keys["F2"] == "Laporan baru"
        assert keys["Ctrl+P"] == "Palet perintah"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, QueueScreen)


async def test_f3_returns_to_the_queue_from_any_depth(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert len(pilot.app.screen_stack) == 4
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(pilot.app.screen, QueueScreen)
        assert len(pilot.app.screen_stack) == 2


async def test_english_everywhere_with_lang_en(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert "Queue" in header_text(pilot.app)
        descriptions = {
            b.binding.key: b.binding.description for b in pilot.app.active_bindings.values()
        }
        assert descriptions["f2"] == "New report"
        assert descriptions["slash"] == "Search"
        table = pilot.app.screen.query_one("#queue-table")
        assert str(table.columns["number"].label) == "Number"
        assert "Waiting" in [str(table.get_cell_at((r, 4))) for r in range(table.row_count)]


async def test_language_from_the_environment(seeded_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SIAGA112_LANG", "en")
    from siaga_tui.core.i18n import set_language

    set_language(None)
    app = make_app(seeded_db, operator="x", clock=fixed_clock(FROZEN_NOW))
    assert app.lang == "en"


async def test_control_room_theme_is_offered_and_selectable(seeded_db) -> None:  # type: ignore[no-untyped-def]
    app = make_app(seeded_db, operator="x", clock=fixed_clock(FROZEN_NOW), theme=CONTROL_ROOM.name)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert CONTROL_ROOM.name in pilot.app.available_themes
        assert pilot.app.current_theme.name == CONTROL_ROOM.name


async def test_palette_offers_the_console_actions(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"bantuan")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, HelpScreen)


async def test_a_failed_worker_becomes_one_calm_notice(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        pilot.app.show_error(StorageError("db_locked"))
        pilot.app.show_error(RuntimeError("[bold]boom[/"))
        await pilot.pause()
        messages = [n.message for n in pilot.app._notifications]
        assert len(messages) == 2
        assert "boom" not in messages[1]
        assert all(n.markup is False for n in pilot.app._notifications)


async def test_palette_offers_the_current_screens_keys(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"non darurat")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, QueueScreen)
        assert screen.filters.kind == "non_darurat"


async def test_switching_the_language_from_the_palette(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("enter")  # a report open: the switch goes back to a fresh queue
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"bahasa")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert pilot.app.lang == "en"
        assert isinstance(pilot.app.screen, QueueScreen) and len(pilot.app.screen_stack) == 2
        assert "Queue" in header_text(pilot.app)
        descriptions = {
            b.binding.key: b.binding.description for b in pilot.app.active_bindings.values()
        }
        assert descriptions["f1"] == "Help" and descriptions["e"] == "Emergency"
        await pilot.press("f2")
        await pilot.pause()
        pilot.app.action_switch_language()  # while a call is being taken: refused
        await pilot.pause()
        assert pilot.app.lang == "en"
        assert "Finish or close the call" in notices(pilot.app)[-1]


async def test_a_screen_not_in_this_version_is_a_notice_not_a_crash(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        pilot.app._open("siaga_tui.screens.not_there", "NotThereScreen", "console_board_missing")
        await pilot.pause()
        assert isinstance(pilot.app.screen, QueueScreen)
        assert notices(pilot.app)[-1] == "Papan status belum tersedia di versi ini."


async def test_f4_and_f2_bring_an_open_screen_forward_instead_of_stacking(
    console_app: SiagaApp,
) -> None:
    from siaga_tui.screens.board import BoardScreen
    from siaga_tui.screens.entry import EntryScreen

    async with console_app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(pilot.app.screen, BoardScreen)
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(pilot.app.screen, EntryScreen)
        await pilot.press("f4")  # the board is beneath the form: back to it, no second board
        await pilot.pause()
        assert isinstance(pilot.app.screen, BoardScreen)
        assert sum(isinstance(s, BoardScreen) for s in pilot.app.screen_stack) == 1


async def test_f3_never_closes_a_call_being_typed(console_app: SiagaApp) -> None:
    from siaga_tui.screens.entry import EntryScreen

    async with console_app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.press("f2")
        await pilot.pause()
        entry = pilot.app.screen
        assert isinstance(entry, EntryScreen)
        entry.query_one("#phone").value = "0812"  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        assert pilot.app.screen is entry and entry.draft.phone == "0812"
        assert notices(pilot.app)[-1].startswith("Panggilan sedang dicatat")
        entry.query_one("#phone").value = ""  # type: ignore[attr-defined]
        await pilot.pause()
        assert entry.draft.is_empty  # an empty form is closed like any other screen
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(pilot.app.screen, QueueScreen)


async def test_the_draft_timer_with_no_form_open_clears_a_left_draft_once(
    console_app: SiagaApp, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from siaga_tui.drafts import DraftStore

    cleared: list[str] = []
    monkeypatch.setattr(DraftStore, "clear", lambda store: cleared.append(str(store.path)))
    async with console_app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(3):
            console_app.keep_draft()  # what the timer does every DRAFT_SAVE_SECONDS
        assert (
            len(cleared) == 1
        )  # a draft a closed terminal left is forgotten, then the disk is left alone


async def test_an_unexpected_failure_is_one_calm_line_and_its_traceback_goes_to_errors_log(
    console_app: SiagaApp,
) -> None:
    """A bug in a background job: the operator reads one line, the supervisor finds the
    traceback in errors.log (it was only in Textual's log, which nobody runs)."""
    import platformdirs

    log = Path(platformdirs.user_log_dir("siaga112", appauthor=False)) / "errors.log"
    async with console_app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()

        def job() -> None:
            raise LookupError("a bug in a worker")

        console_app.run_worker(job, thread=True, exit_on_error=False)
        with pytest.raises(WorkerFailed):
            await console_app.workers.wait_for_complete()
        await pilot.pause()
        assert "Terjadi kesalahan tak terduga" in " ".join(notices(console_app))
    assert "LookupError: a bug in a worker" in log.read_text()
