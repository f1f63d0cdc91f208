"""The console on both engines: a report filed by another process reaches the queue."""

from __future__ import annotations

import os
import subprocess
import sys

from siaga_tui.app import make_app
from siaga_tui.core.db import open_database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.screens.queue import QueueScreen
from tests.conftest import FROZEN_NOW
from tests.console.conftest import column, seed_reports, settle
from tests.console.test_queue import SIZE, wait_until


async def test_a_report_from_another_process_reaches_the_console(any_db_url: str) -> None:
    db = open_database(any_db_url)
    seed_reports(db)
    app = make_app(db, operator="Meja Satu", clock=fixed_clock(FROZEN_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, QueueScreen) and len(screen.rows) == 5
        env = {**os.environ, "SIAGA112_OPERATOR": "Meja Dua"}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "siaga_tui",
                "--db",
                any_db_url,
                "add",
                "-c",
                "kebakaran",
                "-k",
                "paal 4",
                "-d",
                "Gudang terbakar",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        # The queue looks every second; the bound only keeps a broken feed from hanging.
        assert await wait_until(pilot, lambda: len(screen.rows) == 6)
        assert "Gudang terbakar" in column(pilot.app, "description")
        assert "Meja Dua" in column(pilot.app, "operator")
    db.dispose()
