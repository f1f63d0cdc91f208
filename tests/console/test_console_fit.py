"""Keys and text that fit (issue 13, point 10 and the operator's wishes): every key on
screen at 80×24, notices that hide no row, names that use the width, the palette in the
console's language, Help explaining the marks, the category filter's one-key codes,
the waits for an agency's acknowledgement, a phone search that finds closed reports."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.db import Database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.screens.category_filter import CategoryFilterDialog
from siaga_tui.screens.detail import DetailScreen
from siaga_tui.screens.help import HelpScreen
from siaga_tui.screens.queue import QueueScreen
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.widgets.key_footer import KeyFooter
from siaga_tui.widgets.notice_line import NoticeLine
from tests.conftest import FROZEN_NOW
from tests.console.conftest import OPERATOR, column, settle


def footer_keys(app: SiagaApp) -> list[tuple[str, int, int, int]]:
    """(key, row, first column, last column) of every key in the footer."""
    footer = app.screen.query_one(KeyFooter)
    return [
        (key.key, key.region.y, key.region.x, key.region.right)  # type: ignore[attr-defined]
        for key in footer.query("FooterKey")
    ]


async def test_every_key_of_the_queue_and_the_report_is_on_screen_at_80x24(
    console_app: SiagaApp,
) -> None:
    async with console_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for screen_keys in (QueueScreen.KEYS, DetailScreen.KEYS):
            shown = footer_keys(console_app)
            names = [name for name, *_ in shown]
            # Enter (open) belongs to the table there; it is in Help with the others.
            assert [k.key for k in screen_keys if k.show and k.key != "enter"] == names[4:], names
            assert names[:4] == ["f1", "f2", "f3", "f4"]
            assert all(
                x >= 0 and right <= 80 and y < 24 for _, y, x, right in shown
            )  # none cut or off screen
            assert "ctrl+p" not in names  # the stray "^p palette" is gone; Help names Ctrl+P
            await pilot.press("enter")
            await settle(pilot)


async def test_notices_take_a_line_under_the_header_and_hide_no_row(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        table = console_app.screen.query_one("#queue-table", DataTable)
        console_app.notify("Laporan 112-2026-000009 disimpan [/b]", markup=False)
        await settle(pilot)
        line = console_app.screen.query_one(NoticeLine)
        assert line.display and line.shown == ["Laporan 112-2026-000009 disimpan [/b]"]
        assert line.region.bottom <= table.region.y  # above the table, not over it
        rack = console_app.screen.query_one("ToastRack")
        assert rack.region.height == 0  # Textual's toast corner is empty
        assert table.row_count == 5 and table.region.bottom <= 22  # the last rows still in view


async def test_category_and_place_names_use_the_width(seeded_db: Database) -> None:
    ReportService(seeded_db, operator="x", clock=fixed_clock(FROZEN_NOW)).create_report(
        NewReport(
            category="tiang-telekomunikasi",
            kelurahan="Malalayang Satu Timur",
            description="tiang miring",
        )
    )
    app = make_app(seeded_db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#queue-table", DataTable)
        categories = [text.strip() for text in column(app, "category")]
        assert "Tiang Telekomunikasi" in categories
        widths = {
            key.value: col.get_render_width(table) - 2 * table.cell_padding
            for key, col in table.columns.items()
        }
        longest_place = max(len(p) for p in column(app, "place"))
        assert widths["place"] >= longest_place > 24
        assert widths["category"] >= max(len(c) for c in column(app, "category"))


async def test_textuals_palette_entries_speak_indonesian(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [command.title for command in console_app.get_system_commands(console_app.screen)]
        assert {"Tema warna", "Keluar", "Tombol", "Tangkapan layar"} <= set(titles)
        assert not {"Theme", "Quit", "Keys", "Screenshot", "Maximize"} & set(titles)


async def test_help_explains_the_marks_the_backlog_and_the_forms_keys(
    console_app: SiagaApp,
) -> None:
    async with console_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        help_screen = console_app.screen
        assert isinstance(help_screen, HelpScreen)
        explained = dict(help_screen.marks)
        assert {"●", "!", "!!", "Tunggakan (b)"} <= set(explained)
        assert "dua kali target" in explained["!!"] and "7 hari" in explained["Tunggakan (b)"]
        keys = help_screen.query_one("#help-keys", DataTable)
        wheres = [str(keys.get_row_at(i)[0]) for i in range(keys.row_count)]
        assert "Formulir (F2)" in wheres  # the entry form's keys, from the queue


async def test_the_category_filter_takes_the_entry_forms_one_key_codes(
    console_app: SiagaApp,
) -> None:
    async with console_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = console_app.screen
        assert isinstance(screen, QueueScreen)
        fire = console_app.catalogue.category_by_hotkey("3")
        assert fire is not None and fire.code == "kebakaran"
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(console_app.screen, CategoryFilterDialog)
        await pilot.press("3")
        await settle(pilot)
        assert screen.filters.category == "kebakaran" and [r.category for r in screen.rows] == [
            "kebakaran"
        ]
        await pilot.press("k", "b")  # b: penerangan jalan, as in the form
        await settle(pilot)
        assert [r.category for r in screen.rows] == ["penerangan-jalan"]


async def test_waiting_for_an_agency_is_marked_against_the_target_and_listed_on_the_board(
    seeded_db: Database, console_app: SiagaApp
) -> None:
    desk = ReportService(
        seeded_db, operator="x", clock=fixed_clock(FROZEN_NOW - timedelta(minutes=12))
    )
    fire = desk.get_report("112-2026-000001")
    desk.forward(fire.id, "damkar")
    async with console_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = console_app.screen
        assert isinstance(screen, QueueScreen)
        status = column(console_app, "status")[[r.number for r in screen.rows].index(fire.number)]
        assert status == "↗ 12m/3m"  # 12 minutes since forwarding, the fire's target 3 minutes
        await pilot.press("f4")
        await settle(pilot)
        board = str(console_app.screen.query_one("#board-awaiting").render())
        assert "12m/3m" in board and fire.number in board and "Damkar" in board


async def test_a_search_by_phone_finds_closed_reports_too(
    seeded_db: Database, console_app: SiagaApp
) -> None:
    desk = ReportService(seeded_db, operator="x", clock=fixed_clock(FROZEN_NOW))
    light = desk.get_report("112-2026-000004")  # caller 0852-9876-5432
    desk.change_status(light.id, "selesai", note="lampu sudah menyala")
    async with console_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = console_app.screen
        assert isinstance(screen, QueueScreen)
        assert light.number not in [r.number for r in screen.rows]
        await pilot.press("slash", *"0852", "enter")
        await settle(pilot)
        assert [(r.number, r.status) for r in screen.rows] == [(light.number, "selesai")]


def test_the_boards_acknowledgement_list_puts_todays_reports_before_the_backlog(
    seeded_db: Database,
) -> None:
    from siaga_tui.services.queue import QueueService, backlog_cutoff

    old = ReportService(seeded_db, operator="x", clock=fixed_clock(FROZEN_NOW - timedelta(days=40)))
    stale = old.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description="lama"))
    old.forward(stale.id, "damkar")
    desk = ReportService(
        seeded_db, operator="x", clock=fixed_clock(FROZEN_NOW - timedelta(minutes=12))
    )
    fresh = desk.get_report("112-2026-000001")
    desk.forward(fresh.id, "damkar")
    queue = QueueService(seeded_db)
    total, longest = queue.awaiting_acknowledgement()
    assert total == 2 and [r.id for r in longest] == [stale.id, fresh.id]
    _, today_first = queue.awaiting_acknowledgement(cutoff=backlog_cutoff(FROZEN_NOW, 7))
    assert [r.id for r in today_first] == [fresh.id, stale.id]
