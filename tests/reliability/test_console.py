"""Hostile input in the console: typed and pasted into the entry form, shown in the
queue, the report detail and the status board (random keys and failed saves:
test_console_faults.py).

The screen is read back from what Textual would send to the terminal (the rendered
strips): the text must be there literally, no control character may be in it, and no
caller text may have become a clickable action. Clicking on ``[@click=app.quit]`` must
not quit.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.db import Database
from siaga_tui.core.models import REPORT
from siaga_tui.core.text import clean_text
from siaga_tui.screens.detail import DetailScreen
from siaga_tui.screens.entry import EntryScreen
from siaga_tui.screens.entry_draft import EntryDraft
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import FROZEN_NOW, MutableClock
from tests.reliability.conftest import CASES, Case, assert_terminal_safe
from tests.reliability.test_hostile_input import REPORT_CASES, report_values

SIZE = (120, 40)
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))


async def settle(pilot: Pilot[Any]) -> None:
    """Let every worker finish and the screen catch up."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def rendered(app: SiagaApp) -> tuple[list[str], set[str]]:
    """The screen's lines as the terminal gets them, and every click action on it."""
    lines, actions = [], set()
    for strip in app.screen._compositor.render_strips():
        lines.append(strip.text)
        for segment in strip:
            meta = segment.style.meta if segment.style is not None else None
            if meta and "@click" in meta:
                actions.add(repr(meta["@click"]))
    return lines, actions


def assert_screen_safe(app: SiagaApp) -> list[str]:
    assert app.is_running
    lines, actions = rendered(app)
    assert_terminal_safe("\n".join(lines))
    assert not [a for a in actions if "quit" in a], f"caller text became an action: {actions}"
    return lines


def visible(text: str) -> str:
    """Text as it appears on screen: zero-width characters take no cell."""
    return text.translate(ZERO_WIDTH)


def on_screen(lines: list[str], text: str) -> bool:
    joined = "\n".join(visible(line) for line in lines)
    return visible(text) in joined


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(FROZEN_NOW)


def console(db: Database, clock: MutableClock) -> SiagaApp:
    return make_app(db, operator="rel", lang="id", clock=clock)


# --- Out: queue, detail, board ----------------------------------------------------------

SHOWN_FIELDS = ("description", "address", "caller_name", "note")


@pytest.fixture
def filed(db: Database, clock: MutableClock) -> list[tuple[Case, int]]:
    desk = ReportService(db, operator="rel", clock=clock)
    filed = []
    for case in REPORT_CASES:
        if not case.accepted:
            continue
        saved = desk.create_report(NewReport(**report_values(case)))
        if case.field == "note":
            desk.add_note(saved.id, case.text)
            desk.forward(saved.id, "damkar", agency_ref=case.text[:100])
        filed.append((case, saved.id))
    return filed


async def test_every_accepted_case_shows_literally_in_queue_detail_and_board(
    db: Database, clock: MutableClock, filed: list[tuple[Case, int]], figures: dict[str, Any]
) -> None:
    app = console(db, clock)
    checked = 0
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert_screen_safe(app)
        detail = DetailScreen(filed[0][1])
        await app.push_screen(detail)
        for case, report_id in filed:
            detail.report_id = report_id  # one screen, shown report after report (faster)
            detail._load()
            await settle(pilot)
            lines = assert_screen_safe(app)
            first_line = case.expected.split("\n")[0].strip()
            if case.field in SHOWN_FIELDS and first_line and len(first_line) <= 60:
                assert on_screen(lines, first_line), (case.id, first_line, lines)
                checked += 1
        app.pop_screen()
        await pilot.press("f4")
        await settle(pilot)
        assert_screen_safe(app)
    figures.update(reports=len(filed), literal_checks=checked)


async def test_clicking_on_a_click_action_written_by_a_caller_does_nothing(
    db: Database, clock: MutableClock
) -> None:
    desk = ReportService(db, operator="rel", clock=clock)
    saved = desk.create_report(
        NewReport(
            category="kebakaran",
            kelurahan="Bahu",
            description="[@click=app.quit]KLIK[/]",
            address="[@click=app.quit]ALAMAT[/]",
        )
    )
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await app.push_screen(DetailScreen(saved.id))
        await settle(pilot)
        lines = assert_screen_safe(app)
        spots = [(line.index("KLIK"), y) for y, line in enumerate(lines) if "KLIK" in line]
        spots += [(line.index("ALAMAT"), y) for y, line in enumerate(lines) if "ALAMAT" in line]
        assert spots
        for x, y in spots:
            await pilot.click(offset=(x + 1, y))
            await settle(pilot)
            assert app.is_running
        assert isinstance(app.screen, DetailScreen)


# --- In: the entry form -------------------------------------------------------------------

ENTRY_FIELDS = ("phone", "kelurahan", "address", "description")
ENTRY_CASES = [c for c in CASES if c.field in ENTRY_FIELDS]
BASE_FORM = {"phone": "", "kelurahan": "Bahu", "address": "Jl. Babe Palar",
             "description": "Rumah terbakar"}  # fmt: skip


async def open_entry(pilot: Pilot[Any]) -> EntryScreen:
    await pilot.press("f2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, EntryScreen)
    return screen


def field_value(widget: Input | TextArea) -> str:
    return widget.text if isinstance(widget, TextArea) else widget.value


def reports(db: Database) -> list[dict[str, Any]]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute(sa.select(REPORT).order_by(REPORT.c.id)).mappings()]


async def test_every_case_pasted_into_the_entry_form(
    db: Database, clock: MutableClock, figures: dict[str, Any]
) -> None:
    app = console(db, clock)
    saved = refused = capped = 0
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = await open_entry(pilot)
        for case in ENTRY_CASES:
            clock.advance(hours=25)  # past the windows in which a report is offered as a duplicate
            # The category as if picked (keys are the entry tests' subject; pressing costs time).
            screen.load_draft(EntryDraft(opened_at=clock(), category="kebakaran"))
            widgets = {name: screen.query_one(f"#{name}") for name in ENTRY_FIELDS}
            for name, widget in widgets.items():
                widget.post_message(
                    events.Paste(case.text if name == case.field else BASE_FORM[name])
                )
            await pilot.pause()
            typed = {name: field_value(widget) for name, widget in widgets.items()}
            if len(typed[case.field]) < len(
                case.text.split("\n")[0] if case.field != "description" else case.text
            ):
                capped += 1
            before = len(reports(db))
            screen.action_save()  # what Ctrl+S does
            await settle(pilot)
            assert isinstance(app.screen, EntryScreen), app.screen
            assert_screen_safe(app)
            after = reports(db)
            if len(after) > before:
                saved += 1
                stored = after[-1]
                column = {"phone": "caller_phone", "kelurahan": "kelurahan_code"}.get(
                    case.field, case.field
                )
                if case.field in ("address", "description"):
                    multiline = case.field == "description"
                    assert stored[column] == clean_text(typed[case.field], multiline=multiline), (
                        case.id
                    )
                else:
                    assert (stored[column] or "") == case.expected, case.id
                assert all(
                    field_value(w) != typed[n] or not typed[n]
                    for n, w in widgets.items()
                    if n == "description"
                )
            else:
                refused += 1
                # Nothing typed is lost: the form is exactly as it was.
                assert {name: field_value(w) for name, w in widgets.items()} == typed, case.id
                assert not case.accepted or typed[case.field] != case.text, case.id
    figures.update(cases=len(ENTRY_CASES), saved=saved, refused=refused, capped=capped)


TYPED = "[@click=app.quit]Api[/] [b]besar $x {0}"


async def test_markup_typed_key_by_key_is_saved_and_shown_as_typed(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = await open_entry(pilot)
        await pilot.press("3")  # Kebakaran
        await pilot.press(*"0812 3456 7890")
        screen.query_one("#kelurahan").focus()
        await pilot.press(*"Bahu")
        screen.query_one("#description").focus()
        await pilot.press(*TYPED)
        await settle(pilot)
        assert screen.draft.description == TYPED
        assert_screen_safe(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.is_running
        (report,) = reports(db)
        assert report["description"] == TYPED
        await app.push_screen(DetailScreen(report["id"]))
        await settle(pilot)
        assert on_screen(assert_screen_safe(app), TYPED)
