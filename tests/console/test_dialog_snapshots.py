"""How the handover, its confirmation, the category filter, the status and duplicate
dialogs, the backlog and the sign-in look (issues 11 and 13).

Fixed size, a frozen clock, the seeded reports, and the database under a fixed name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from textual.pilot import Pilot

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.db import Database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.operators import OperatorService
from siaga_tui.services.queue import QueueService
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.widgets.duplicate_offer import DuplicateOffer
from siaga_tui.widgets.leave_confirm import LeaveConfirm
from tests.conftest import FROZEN_NOW
from tests.console.conftest import OPERATOR, settle


@pytest.fixture(autouse=True)
def fixed_database_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Database, "describe", lambda self: "/srv/siaga112/siaga112.db")


def after(*steps: str | Callable[[Pilot[None]], object]) -> Callable[[Pilot[None]], object]:
    """Keys to press (or functions to call with the pilot), each followed by a settle."""

    async def prepare(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for step in steps:
            if isinstance(step, str):
                await pilot.press(step)
            else:
                step(pilot)
            await settle(pilot)

    return prepare


def handover(pilot: Pilot[None]) -> None:
    pilot.app.action_handover()  # type: ignore[attr-defined]


def app_on(db: Database, lang: str = "id") -> SiagaApp:
    return make_app(db, operator=OPERATOR, lang=lang, clock=fixed_clock(FROZEN_NOW))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_handover(snap_compare, seeded_db: Database, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app_on(seeded_db), terminal_size=size, run_before=after(handover))


def test_handover_dates_with_their_year_fit_120_columns(snap_compare, seeded_db: Database) -> None:  # type: ignore[no-untyped-def]
    """Reports of other years (the date with its year), forwarded to several agencies, in
    a long category: every column shows whole at 120x40, long text wrapped in its row."""
    for days, category, agencies in (
        (400, "ketertiban", ("satpol-pp", "polresta", "kelurahan")),
        (2600, "kebakaran", ("damkar", "pln")),
    ):
        desk = ReportService(
            seeded_db, operator="meja dua", clock=fixed_clock(FROZEN_NOW - timedelta(days=days))
        )
        saved = desk.create_report(
            NewReport(category=category, kelurahan="Sario", description="lama belum selesai")
        )
        for agency in agencies:
            desk.forward(saved.id, agency)
    assert snap_compare(app_on(seeded_db), terminal_size=(120, 40), run_before=after(handover))


def test_handover_confirm_without_notes(snap_compare, seeded_db: Database) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        app_on(seeded_db), terminal_size=(80, 24), run_before=after(handover, "ctrl+s", "ctrl+s")
    )


def test_status_dialog_refusal_stays_open(snap_compare, seeded_db: Database) -> None:  # type: ignore[no-untyped-def]
    """Closing without a note: the dialog stays, the reason under the field."""
    steps = after("enter", "s", "enter", "ctrl+s")
    assert snap_compare(app_on(seeded_db), terminal_size=(80, 24), run_before=steps)


def test_duplicate_original_from_a_list(snap_compare, seeded_db: Database) -> None:  # type: ignore[no-untyped-def]
    desk = ReportService(
        seeded_db, operator="meja dua", clock=fixed_clock(FROZEN_NOW - timedelta(minutes=10))
    )
    desk.create_report(
        NewReport(category="kebakaran", kelurahan="Paal Dua", description="api yang sama")
    )
    assert snap_compare(app_on(seeded_db), terminal_size=(100, 30), run_before=after("enter", "d"))


def test_forward_dialog_with_contact(snap_compare, seeded_db: Database) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        app_on(seeded_db, "en"), terminal_size=(100, 30), run_before=after("enter", "t")
    )


@pytest.mark.parametrize("lang", ["id", "en"])
def test_category_filter(snap_compare, seeded_db: Database, lang: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app_on(seeded_db, lang), terminal_size=(80, 24), run_before=after("k"))


def test_backlog(snap_compare, seeded_db: Database) -> None:  # type: ignore[no-untyped-def]
    old = ReportService(
        seeded_db, operator="meja dua", clock=fixed_clock(FROZEN_NOW - timedelta(days=400))
    )
    old.create_report(NewReport(category="sampah", kelurahan="Bahu", description="tumpukan lama"))
    assert snap_compare(app_on(seeded_db), terminal_size=(100, 24), run_before=after("b"))


def test_sign_in(snap_compare, seeded_db: Database) -> None:  # type: ignore[no-untyped-def]
    OperatorService(seeded_db, sleep=lambda _: None).add(
        "kepala", "Kepala Regu", "supervisor", "rahasia-panjang-1"
    )
    assert snap_compare(app_on(seeded_db), terminal_size=(80, 24), run_before=after())


def test_duplicate_offer(snap_compare, seeded_db: Database) -> None:  # type: ignore[no-untyped-def]
    """The entry form's "possible duplicate" dialog, on fixed rows."""
    rows = QueueService(seeded_db).open_reports().rows[:2]

    def offer(pilot: Pilot[None]) -> None:
        app = pilot.app
        app.push_screen(DuplicateOffer(rows, catalogue=app.catalogue, now=FROZEN_NOW, lang="id"))  # type: ignore[attr-defined]

    assert snap_compare(app_on(seeded_db), terminal_size=(80, 24), run_before=after(offer))


def test_leave_confirm(snap_compare, seeded_db: Database) -> None:  # type: ignore[no-untyped-def]
    def leave(pilot: Pilot[None]) -> None:
        pilot.app.push_screen(LeaveConfirm("id"))

    assert snap_compare(app_on(seeded_db), terminal_size=(80, 24), run_before=after(leave))
