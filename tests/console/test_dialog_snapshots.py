"""How the handover, its confirmation, the category filter, the status and duplicate
dialogs, the backlog and the sign-in look (issues 11 and 13).

Fixed size, a frozen clock, the seeded reports, and the database under a fixed name.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.db import Database
from siaga_tui.core.timeutil import fixed_clock
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


def test_handover_confirm_without_notes(snap_compare, seeded_db: Database) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        app_on(seeded_db), terminal_size=(80, 24), run_before=after(handover, "ctrl+s", "ctrl+s")
    )
