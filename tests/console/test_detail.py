"""The report detail: every action on its key, the service's refusals, conflicts, live refresh."""

from __future__ import annotations

import time
from datetime import timedelta

from textual.widgets import OptionList

from siaga_tui.app import SiagaApp
from siaga_tui.core.db import Database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.screens.detail import DetailScreen
from siaga_tui.screens.form_dialog import FormDialog
from siaga_tui.screens.help import HelpScreen
from siaga_tui.screens.queue import QueueScreen
from siaga_tui.services.reports import NewReport, ReportService, status_moves
from tests.conftest import FROZEN_NOW
from tests.console.conftest import notices, settle

SIZE = (120, 40)


async def open_first(pilot: object) -> DetailScreen:
    """Open the first report of the queue (the fire in Paal Dua, waiting)."""
    await settle(pilot)
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot)
    screen = pilot.app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, DetailScreen) and screen.detail is not None
    return screen


def other_desk(db: Database) -> ReportService:
    return ReportService(db, operator="Meja Dua", clock=fixed_clock(FROZEN_NOW))


def fresh(db: Database, screen: DetailScreen):  # type: ignore[no-untyped-def]
    return other_desk(db).get_report(screen.report_id)


async def act(pilot: object, key: str, *keys: str) -> None:
    await pilot.press(key)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    assert isinstance(pilot.app.screen, FormDialog)  # type: ignore[attr-defined]
    await pilot.press(*keys)  # type: ignore[attr-defined]
    await settle(pilot)


async def test_shows_fields_referrals_calls_and_history(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        screen = await open_first(pilot)
        fields = str(screen.query_one("#detail-fields").render())
        for expected in (
            "112-2026-000001",
            "Menunggu",
            "Kebakaran (Darurat)",
            "Paal Dua (Paal Dua)",
            "Jl. Sam Ratulangi",
            "0812-3456-7890",
            "Rumah terbakar dekat pasar",
            "1h35m",
        ):
            assert expected in fields
        assert "(belum ada)" in str(screen.query_one("#detail-referrals").render())
        assert "Laporan · 0812-3456-7890" in str(screen.query_one("#detail-calls").render())
        assert "Dibuat" in str(screen.query_one("#detail-history").render())


async def test_forward_then_acknowledge(console_app: SiagaApp, seeded_db: Database) -> None:
    async with console_app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first(pilot)
        # the fire's own agencies come first: Enter takes Damkar, Enter the phone, a ticket, Enter saves
        await act(pilot, "t", "enter", "down", "enter", *"DK-7", "enter")
        detail = fresh(seeded_db, screen)
        assert detail.status == "ditangani"
        assert [(r.agency, r.channel, r.agency_ref) for r in detail.referrals] == [
            ("damkar", "radio", "DK-7")
        ]
        assert "Diteruskan ke Damkar." in notices(pilot.app)
        assert "Ditangani" in str(screen.query_one("#detail-bar").render())
        assert "Diteruskan" in str(screen.query_one("#detail-history").render())
        await act(pilot, "k", "enter", *"Pak Budi", "enter")
        detail = fresh(seeded_db, screen)
        assert detail.referrals[0].acknowledged_by == "Pak Budi"
        assert "dikonfirmasi" in str(screen.query_one("#detail-referrals").render())
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(pilot.app.screen, DetailScreen)
        assert notices(pilot.app)[-1] == "Tidak ada penerusan yang menunggu konfirmasi."


def dialog_error(app: SiagaApp) -> str:
    dialog = app.screen
    assert isinstance(dialog, FormDialog)
    label = dialog.query_one("#dialog-error")
    return str(label.render()) if label.display else ""


async def test_the_status_dialog_offers_only_the_moves_the_state_allows(
    console_app: SiagaApp, seeded_db: Database
) -> None:
    async with console_app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first(pilot)
        await act(pilot, "s")
        offered = pilot.app.screen.query_one("#choice-0", OptionList)
        # Never forwarded: "ditangani" is not offered, only closing.
        assert [offered.get_option_at_index(i).id for i in range(offered.option_count)] == [
            "selesai"
        ]
        assert "diteruskan" in str(pilot.app.screen.query_one("#dialog-notice").render())
        await pilot.press("escape")
        await settle(pilot)
        other_desk(seeded_db).forward(screen.report_id, "damkar")
        await settle(pilot)
        screen._load()
        await settle(pilot)
        assert (
            screen.detail is not None and screen.detail.status == "ditangani"
        )  # forwarding did it
        await act(pilot, "s")
        offered = pilot.app.screen.query_one("#choice-0", OptionList)
        assert [offered.get_option_at_index(i).id for i in range(offered.option_count)] == [
            "selesai"
        ]
        await pilot.press("escape")
        await settle(pilot)
        await act(pilot, "s", "enter", *"padam", "ctrl+s")
        assert fresh(seeded_db, screen).status == "selesai"
        await pilot.press("s")  # closed: no dialog, the way back is named
        await settle(pilot)
        assert isinstance(pilot.app.screen, DetailScreen)
        assert notices(pilot.app)[-1] == "Laporan sudah selesai: buka kembali dengan o."


def test_status_moves_follow_the_rules() -> None:
    assert status_moves("menunggu", forwarded=False) == ["selesai"]
    assert status_moves("menunggu", forwarded=True) == ["ditangani", "selesai"]
    assert status_moves("ditangani", forwarded=True) == ["selesai"]
    assert status_moves("selesai", forwarded=True) == []


async def test_a_refusal_keeps_the_dialog_open_with_the_text_and_the_reason(
    console_app: SiagaApp, seeded_db: Database
) -> None:
    async with console_app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first(pilot)
        await act(pilot, "s", "enter", "ctrl+s")  # selesai without a closing note
        assert fresh(seeded_db, screen).status == "menunggu"
        dialog = pilot.app.screen
        assert isinstance(dialog, FormDialog)  # still open
        assert "hanya dapat diselesaikan dengan catatan penutup" in dialog_error(pilot.app)
        assert dialog.query_one("#text").has_focus  # the field to correct
        await pilot.press(*"Api padam", "ctrl+s")
        await settle(pilot)
        detail = fresh(seeded_db, screen)
        assert detail.status == "selesai" and detail.events[-1].details["note"] == "Api padam"
        assert isinstance(pilot.app.screen, DetailScreen)
        assert notices(pilot.app)[-1] == "Status menjadi Selesai."


async def test_note_and_escape_cancels_a_dialog(console_app: SiagaApp, seeded_db: Database) -> None:
    async with console_app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first(pilot)
        version = screen.detail.version  # type: ignore[union-attr]
        await act(pilot, "c", *"Pelapor", "escape")
        assert isinstance(pilot.app.screen, DetailScreen)
        assert fresh(seeded_db, screen).version == version
        await act(pilot, "c", "ctrl+s")  # an empty note is refused by the service: the dialog stays
        assert fresh(seeded_db, screen).version == version
        assert isinstance(pilot.app.screen, FormDialog) and dialog_error(pilot.app)
        await pilot.press(*"Pelapor menelepon lagi", "ctrl+s")
        await settle(pilot)
        detail = fresh(seeded_db, screen)
        assert detail.events[-1].kind == "note_added"
        assert detail.events[-1].details["note"] == "Pelapor menelepon lagi"
        assert "Pelapor menelepon lagi" in str(screen.query_one("#detail-history").render())


async def test_duplicate_original_picked_from_a_list_and_reopen(
    console_app: SiagaApp, seeded_db: Database
) -> None:
    # A second fire in Paal Dua, filed at another desk: the one to link to.
    desk = ReportService(
        seeded_db, operator="meja dua", clock=fixed_clock(FROZEN_NOW - timedelta(minutes=10))
    )
    original = desk.create_report(
        NewReport(category="kebakaran", kelurahan="Paal Dua", description="api yang sama")
    )
    async with console_app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first(pilot)
        assert screen.detail is not None and screen.detail.summary.category == "kebakaran"
        await act(
            pilot, "o", *"salah", "ctrl+s"
        )  # reopen an open report: refused, the dialog stays
        assert "belum selesai, jadi tidak perlu dibuka kembali" in dialog_error(pilot.app)
        await pilot.press("escape")
        await settle(pilot)
        await act(pilot, "d")
        listed = pilot.app.screen.query_one("#choice-0", OptionList)
        assert listed.option_count == 1 and listed.get_option_at_index(0).id == str(original.id)
        assert original.number in str(listed.get_option_at_index(0).prompt)
        await pilot.press("enter", "enter")  # pick it, then save from the (empty) number field
        await settle(pilot)
        detail = fresh(seeded_db, screen)
        assert detail.status == "selesai" and detail.duplicate_of_number == original.number
        assert notices(pilot.app)[-1] == f"Ditandai duplikat dari {original.number} dan ditutup."
        assert "Duplikat dari" in str(screen.query_one("#detail-fields").render())
        await act(pilot, "o", *"Ternyata kejadian lain", "ctrl+s")
        detail = fresh(seeded_db, screen)
        assert detail.status == "menunggu" and detail.duplicate_of_number is None
        assert notices(pilot.app)[-1] == "Dibuka kembali: Menunggu."


async def test_duplicate_by_number_when_nothing_is_listed(
    console_app: SiagaApp, seeded_db: Database
) -> None:
    async with console_app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first(pilot)
        await act(pilot, "d", *"112-2026-000001", "enter")  # itself
        assert "dirinya sendiri" in dialog_error(pilot.app)
        field = pilot.app.screen.query_one("#text")
        assert field.value == "112-2026-000001"  # type: ignore[attr-defined]
        field.value = ""  # type: ignore[attr-defined]
        await pilot.press(*"112-2026-000002", "enter")
        await settle(pilot)
        assert fresh(seeded_db, screen).duplicate_of_number == "112-2026-000002"


async def test_no_possible_duplicates_is_said_in_place_of_an_empty_list(
    app_factory,  # type: ignore[no-untyped-def]
    seeded_db: Database,
) -> None:
    """No recent report of the same category and kelurahan: a sentence, not an empty box,
    and the number can still be typed."""
    async with app_factory(lang="en").run_test(size=SIZE) as pilot:
        screen = await open_first(pilot)
        await act(pilot, "d")
        dialog = pilot.app.screen
        listed = dialog.query_one(OptionList)
        assert listed.option_count == 0 and not listed.display  # no empty box drawn
        empty = str(dialog.query_one(".dialog-empty").render())
        assert empty.startswith("No possible duplicates")
        labels = [str(label.render()) for label in dialog.query(".dialog-label") if label.display]
        assert labels == [
            "If the original is older or elsewhere, type its number (e.g. 112-2026-000123)"
        ]
        assert dialog.focused is dialog.query_one("#text")
        await pilot.press(*"112-2026-000002", "enter")
        await settle(pilot)
        assert fresh(seeded_db, screen).duplicate_of_number == "112-2026-000002"


async def test_a_conflicting_edit_is_refused_and_the_fresh_state_shown(
    console_app: SiagaApp, seeded_db: Database
) -> None:
    async with console_app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first(pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"catatan saya")
        other_desk(seeded_db).forward(screen.report_id, "polresta")  # meanwhile, at desk two
        await pilot.press("ctrl+s")
        await settle(pilot)
        detail = fresh(seeded_db, screen)
        assert [e.kind for e in detail.events] == ["created", "forwarded"]  # nothing overwritten
        assert "baru saja diubah di meja lain" in dialog_error(pilot.app)  # the note is still there
        assert screen.detail is not None and screen.detail.version == detail.version
        assert "Polresta" in str(screen.query_one("#detail-referrals").render())
        await pilot.press("ctrl+s")  # saved again, on the fresh report
        await settle(pilot)
        assert [e.kind for e in fresh(seeded_db, screen).events] == [
            "created",
            "forwarded",
            "note_added",
        ]


async def test_the_forward_dialog_shows_the_agencys_contact_and_usual_channel(
    console_app: SiagaApp,
) -> None:
    async with console_app.run_test(size=SIZE, notifications=True) as pilot:
        await open_first(pilot)
        await act(pilot, "t")
        dialog = pilot.app.screen
        agencies = dialog.query_one("#choice-0", OptionList)
        assert agencies.get_option_at_index(agencies.highlighted or 0).id == "damkar"
        details = str(dialog.query_one("#details-0").render())
        assert "(0431) 864444" in details and "Radio: tidak ada di katalog" in details
        channels = dialog.query_one("#choice-1", OptionList)
        assert channels.get_option_at_index(channels.highlighted or 0).id == "telepon"


async def test_a_change_elsewhere_refreshes_the_open_report(
    console_app: SiagaApp, seeded_db: Database
) -> None:
    async with console_app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first(pilot)
        other_desk(seeded_db).add_note(screen.report_id, "dari meja dua")
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and "dari meja dua" not in str(
            screen.query_one("#detail-history").render()
        ):
            await pilot.pause(0.05)
        assert "dari meja dua" in str(screen.query_one("#detail-history").render())
        await pilot.pause()
        assert any("diubah di meja lain" in n for n in notices(pilot.app)), notices(pilot.app)


async def test_keys_back_help_and_new_report_from_the_detail(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=SIZE, notifications=True) as pilot:
        await open_first(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(pilot.app.screen, HelpScreen)
        table = pilot.app.screen.query_one("#help-keys")
        described = {
            str(table.get_row_at(i)[1]): str(table.get_row_at(i)[2]) for i in range(table.row_count)
        }
        assert (
            described["t"] == "Teruskan"
            and described["o"] == "Buka kembali"
            and described["F3"] == "Antrian"
        )
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f2")
        await settle(pilot)
        from siaga_tui.screens.entry import EntryScreen

        assert isinstance(pilot.app.screen, EntryScreen)
        assert isinstance(pilot.app.screen_stack[-2], DetailScreen)  # the report stays open beneath
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(pilot.app.screen, QueueScreen)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, QueueScreen)


async def test_english_detail(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(lang="en")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first(pilot)
        fields = str(screen.query_one("#detail-fields").render())
        assert "Fire (Emergency)" in fields or "(Emergency)" in fields
        assert "Waiting" in fields and "Description" in fields
        await act(pilot, "s", "enter", "ctrl+s")
        assert "can only be closed with a closing note" in dialog_error(pilot.app)


async def test_the_operators_own_change_is_not_reported_as_from_elsewhere(
    console_app: SiagaApp, seeded_db: Database
) -> None:
    async with console_app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first(pilot)
        before = screen.detail
        await act(pilot, "c", *"catatan saya", "ctrl+s")
        told = len(notices(pilot.app))
        # the watcher may see the change before the screen's own reload lands
        screen.detail = before
        screen.changes_seen((0, fresh(seeded_db, screen)))
        await pilot.pause()
        assert len(notices(pilot.app)) == told
        other_desk(seeded_db).add_note(screen.report_id, "dari meja dua")
        screen.changes_seen((0, fresh(seeded_db, screen)))
        await pilot.pause()
        assert "diubah di meja lain" in notices(pilot.app)[-1]
