"""How the status board looks on fixed data, in both languages, at 80×24 and 120×40."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siaga_tui.core.db import Database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.calls import CallService
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import FROZEN_NOW
from tests.console.test_entry import settle
from tests.console.test_entry_snapshots import LANGS, SIZES, snapshot_app

#: (minutes before FROZEN_NOW, category, kelurahan, forwarded to, closed)
BOARD_REPORTS = (
    (170, "kebakaran", "Sario", "damkar", True),
    (150, "kecelakaan", "Tikala Baru", "polresta", True),
    (120, "kesehatan", "Bahu", "dinkes", False),
    (90, "kebakaran", "Paal Dua", "damkar", False),
    (60, "sampah", "Malalayang Satu", None, False),
    (30, "kelistrikan", "Wenang Utara", "pln", False),
    (10, "pohon-tumbang", "Sario", None, False),
)


def seed_board(db: Database) -> None:
    for minutes, category, kelurahan, agency, closed in BOARD_REPORTS:
        clock = fixed_clock(FROZEN_NOW - timedelta(minutes=minutes))
        service = ReportService(db, operator="budi", clock=clock)
        saved = service.create_report(
            NewReport(category=category, kelurahan=kelurahan, description=category)
        )
        if agency:
            later = ReportService(
                db, operator="budi", clock=fixed_clock(FROZEN_NOW - timedelta(minutes=minutes - 4))
            )
            later.forward(saved.id, agency)
            if closed:
                done = ReportService(
                    db,
                    operator="budi",
                    clock=fixed_clock(FROZEN_NOW - timedelta(minutes=minutes - 40)),
                )
                done.change_status(saved.id, "selesai", note="Selesai ditangani")
    for minutes, disposition in ((100, "iseng"), (80, "hening"), (50, "informasi"), (20, "iseng")):
        CallService(
            db, operator="budi", clock=fixed_clock(FROZEN_NOW - timedelta(minutes=minutes))
        ).log_call(disposition, phone="081234567890")


async def open_board(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("f4")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", LANGS)
def test_board_today(
    snap_compare, db: Database, monkeypatch: pytest.MonkeyPatch, lang: str, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    seed_board(db)
    app = snapshot_app(db, monkeypatch, lang)
    assert snap_compare(app, terminal_size=size, run_before=open_board)
