"""How calls ringing at the center look: on the queue, at 120×40, in both languages.

Two calls ring at other positions (a known repeat prankster, and a withheld number
given as bracketed text, which must show literally); fixed data, frozen clock.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from siaga_tui.core.db import Database
from siaga_tui.services.calls import CallService
from siaga_tui.services.telephony import TelephonyService
from siaga_tui.widgets.phone_bar import PhoneBar
from tests.conftest import FROZEN_NOW
from tests.console.conftest import settle
from tests.console.test_phone_console import until


@pytest.fixture(autouse=True)
def fixed_database_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Database, "describe", lambda self: "/srv/siaga112/siaga112.db")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_queue_with_calls_ringing(
    snap_compare, app_factory, seeded_db: Database, lang: str
) -> None:  # type: ignore[no-untyped-def]
    calls = CallService(seeded_db, operator="sari", clock=lambda: FROZEN_NOW)
    for _ in range(2):
        calls.log_call("iseng", phone="085298765432")
    phone = TelephonyService(seeded_db, operator="pbx", clock=lambda: FROZEN_NOW)
    phone.ring("pbx-1", "085298765432", line="112")
    phone.ring("pbx-2", "[/bold]<sip:[red]x@h>", line="112")
    app = app_factory(lang=lang)

    async def prepare(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await until(
            pilot,
            lambda: (
                len(app.phone_desk.state.ringing) == 2
                and all(
                    r.history is not None or r.call.caller_phone is None
                    for r in app.phone_desk.state.ringing
                )
            ),
        )
        await until(pilot, lambda: app.screen.query_one(PhoneBar).display)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=prepare)
