"""Typing the outgoing operator's notes brings the field into view, even on 80x24,
where the handover screen opens on the summary above it."""

from __future__ import annotations

from textual.widgets import TextArea

from siaga_tui.core.db import Database
from tests.console.conftest import settle
from tests.console.test_dialog_snapshots import app_on


async def test_typing_the_notes_scrolls_them_into_view(seeded_db: Database) -> None:
    app = app_on(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.action_handover()  # type: ignore[attr-defined]
        await settle(pilot)
        notes = app.screen.query_one(TextArea)
        assert notes.has_focus
        await pilot.press(*"Pompa air di Tikala")
        await settle(pilot)
        assert notes.text == "Pompa air di Tikala"
        assert notes.region.height > 0 and app.screen.region.contains_region(notes.region)
