"""The handover screen: nothing recorded by one key, notes or an explicit "no notes", a
second handover for the shift said so, long waits in days and hours, dates with their
year, the audit head as the log's head (issue 13)."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Checkbox, DataTable, Label, TextArea

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.db import Database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.screens.handover import HandoverScreen
from siaga_tui.screens.handover_confirm import HandoverConfirm
from siaga_tui.services import audit
from siaga_tui.services.handover import HandoverService
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import FROZEN_NOW
from tests.console.conftest import notices, settle

SIZE = (120, 50)


def console(db: Database, operator: str = "ani") -> SiagaApp:
    return make_app(db, operator=operator, lang="en", clock=fixed_clock(FROZEN_NOW))


async def open_handover(pilot) -> HandoverScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    pilot.app.action_handover()
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HandoverScreen)
    return screen


def recorded(db: Database) -> list[int]:
    return [view.id for view in HandoverService(db, operator="x").latest()]


async def test_f5_records_nothing_and_recording_asks_first(seeded_db: Database) -> None:
    app = console(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_handover(pilot)
        screen.query_one(TextArea).text = "Damkar belum konfirmasi"
        await pilot.press("f5")  # the entry form's "prank" key, pressed by reflex
        await settle(pilot)
        assert recorded(seeded_db) == [] and pilot.app.screen is screen
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, HandoverConfirm)
        assert "Damkar belum konfirmasi" in str(
            pilot.app.screen.query_one("#confirm-notes").render()
        )
        await pilot.press("escape")  # back to the notes, nothing written
        await settle(pilot)
        assert pilot.app.screen is screen and recorded(seeded_db) == []
        assert screen.query_one(TextArea).text == "Damkar belum konfirmasi"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert recorded(seeded_db) == [1]


async def test_no_notes_must_be_said_explicitly(seeded_db: Database) -> None:
    app = console(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_handover(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, HandoverConfirm)
        await pilot.press("ctrl+s")  # no notes, "no notes" not ticked: refused, dialog stays
        await settle(pilot)
        assert pilot.app.screen is dialog and recorded(seeded_db) == []
        assert "No notes" in str(dialog.query_one("#confirm-error", Label).render())
        assert dialog.query_one(Checkbox).has_focus
        await pilot.press("enter")  # ticks "no notes"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert recorded(seeded_db) == [1]
        assert HandoverService(seeded_db, operator="x").get(1).notes == ""


async def test_a_second_handover_for_the_shift_says_so_and_the_head_is_the_logs_head(
    seeded_db: Database,
) -> None:
    first = HandoverService(seeded_db, operator="ani", clock=fixed_clock(FROZEN_NOW)).create(
        "pertama"
    )
    app = console(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_handover(pilot)
        already = str(screen.query_one("#handover-earlier", Label).render())
        assert f"handed over 1× already (last #{first.id}" in already
        head = audit.audit_head(seeded_db)
        assert head.id > 5  # five reports filed, then the handover: the head is far past #1
        assert f"#{head.id} {head.hash}" in str(screen.query_one("#handover-head", Label).render())
        screen.query_one(TextArea).text = "kedua"
        await pilot.press("ctrl+s")
        await settle(pilot)
        again = [str(label.render()) for label in pilot.app.screen.query(".dialog-warning")]
        assert again and f"already has handover #{first.id}" in again[0]
        await pilot.press("ctrl+s")
        await settle(pilot)
        head = audit.audit_head(seeded_db)
        assert recorded(seeded_db) == [2, 1]
        assert any(
            f"Handover #2 recorded. Audit log head: #{head.id} {head.hash}" in n
            for n in notices(app)
        )


async def test_long_waits_read_in_days_and_hours_and_old_dates_carry_their_year(
    db: Database,
) -> None:
    old = ReportService(
        db, operator="x", clock=fixed_clock(FROZEN_NOW - timedelta(days=2600, hours=5))
    )
    old.create_report(NewReport(category="kebakaran", kelurahan="Sario", description="lama sekali"))
    recent = ReportService(db, operator="x", clock=fixed_clock(FROZEN_NOW - timedelta(minutes=50)))
    recent.create_report(NewReport(category="kebakaran", kelurahan="Sario", description="baru"))
    app = console(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_handover(pilot)
        table = screen.query_one(DataTable)
        rows = [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]
        assert rows[0][1] == "16/10/2019 05:00"  # another year: the year is shown
        assert rows[0][-1] == "not done, 2600 d 4 h late"  # not "155998 min"
        assert rows[1][1] == "09:10"  # today: the time is enough
        assert rows[1][-1] == "not forwarded, 47 min late"
        text = str(screen.query_one("#handover-lines").render())
        assert "2600 d 4 h" in text and "min late" in text


async def test_the_table_fits_120_columns_with_dates_of_other_years(db: Database) -> None:
    """No column runs past the screen's edge: the table needs no sideways scrolling."""
    for days, category, agencies in (
        (400, "ketertiban", ("satpol-pp", "polresta", "kelurahan")),
        (2600, "kebakaran", ("damkar", "pln")),
    ):
        desk = ReportService(db, operator="x", clock=fixed_clock(FROZEN_NOW - timedelta(days=days)))
        saved = desk.create_report(
            NewReport(category=category, kelurahan="Sario", description="lama")
        )
        for agency in agencies:
            desk.forward(saved.id, agency)
    app = make_app(db, operator="ani", lang="id", clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_handover(pilot)
        table = screen.query_one(DataTable)
        assert table.row_count == 2 and table.max_scroll_x == 0  # nothing hidden sideways
        assert table.region.right <= 120
        dates = {str(table.get_row_at(index)[1]) for index in range(2)}
        assert dates == {"16/10/2019 10:00", "24/10/2025 10:00"}
