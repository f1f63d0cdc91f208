"""Console fixtures: a fixed set of reports at fixed times, and the app on them.

Every report is filed through the services with a clock set minutes before
``FROZEN_NOW``, so ages, timer marks and the header clock are the same on every run.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import pytest
from textual.worker import WorkerCancelled

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.db import Database, open_database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import FROZEN_NOW

OPERATOR = "Operator Satu"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests (Textual's Pilot) in a fresh event loop each."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True


#: (minutes before FROZEN_NOW, category, kelurahan, phone, description)
SEED_REPORTS = (
    (95, "kebakaran", "Paal Dua", "081234567890", "Rumah terbakar dekat pasar, asap tebal"),
    (30, "kecelakaan", "Tikala Baru", "0431864444", "Tabrakan motor di depan sekolah"),
    (4, "kesehatan", "Malalayang Satu", None, "Ibu hamil perlu ambulans"),
    (240, "penerangan-jalan", "Wenang Utara", "085298765432", "Lampu jalan mati sepanjang jalan"),
    (20, "sampah", "Sario", "081355512345", "Sampah menumpuk di got"),
)


def seed_reports(db: Database, *, operator: str = OPERATOR) -> dict[str, int]:
    """File the fixed reports; returns report ids by category."""
    ids = {}
    for minutes, category, kelurahan, phone, description in SEED_REPORTS:
        at = FROZEN_NOW - timedelta(minutes=minutes)
        service = ReportService(db, operator=operator, clock=fixed_clock(at))
        saved = service.create_report(
            NewReport(
                category=category,
                kelurahan=kelurahan,
                description=description,
                phone=phone,
                address="Jl. Sam Ratulangi",
            )
        )
        ids[category] = saved.id
    return ids


@pytest.fixture
def seeded_db(db: Database) -> Database:
    seed_reports(db)
    return db


@pytest.fixture
def console_app(seeded_db: Database) -> SiagaApp:
    return make_app(seeded_db, operator=OPERATOR, clock=fixed_clock(FROZEN_NOW))


@pytest.fixture
def app_factory(seeded_db: Database) -> Iterator[object]:
    """``app_factory(lang=...)``: the console on the seeded database, clock frozen."""

    def build(**options: object) -> SiagaApp:
        options.setdefault("clock", fixed_clock(FROZEN_NOW))
        return make_app(seeded_db, operator=OPERATOR, **options)  # type: ignore[arg-type]

    yield build


def open_seeded(path: Path) -> Database:
    database = open_database(path)
    seed_reports(database)
    return database


async def settle(pilot: object, *, rounds: int = 40) -> None:
    """Let every worker finish, and the workers their results start, until all is quiet.

    One wait is not enough on a busy machine: a worker's result arrives as a message
    that may start the next worker (a save after the duplicate check), so we wait until
    two looks in a row find nothing running.
    """
    app = pilot.app  # type: ignore[attr-defined]
    quiet = 0
    for _ in range(rounds):
        await pilot.pause()  # type: ignore[attr-defined]
        # A look-up superseded by a newer key ends cancelled: that is quiet too.
        with suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()  # type: ignore[attr-defined]
        busy = any(worker.is_running for worker in app.workers)
        quiet = 0 if busy else quiet + 1
        if quiet >= 2:
            return


def column(app: SiagaApp, key: str) -> list[str]:
    """The plain text of one queue column, top to bottom."""
    table = app.screen.query_one("#queue-table")
    return [str(table.get_cell(row_key, key)) for row_key in table.rows]  # type: ignore[attr-defined]


def notices(app: SiagaApp) -> list[str]:
    return [n.message for n in app._notifications]
