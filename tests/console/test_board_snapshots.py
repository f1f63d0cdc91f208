"""How the status board looks on fixed data, in both languages, at 80×24, 120×40 and
160×50, and in the control-room theme."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siaga_tui.app import make_app
from siaga_tui.core.db import Database
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services.calls import CallService
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.theme import CONTROL_ROOM
from tests.conftest import FROZEN_NOW
from tests.console.test_entry import settle
from tests.console.test_entry_snapshots import LANGS, SIZES, snapshot_app
from tests.phone_data import seed_phone_calls

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


def seed_month(db: Database) -> None:
    """A few reports on earlier days, so the 30-day chart has a shape."""
    for days, count in ((1, 3), (2, 1), (5, 4), (12, 2), (29, 1)):
        for index in range(count):
            clock = fixed_clock(FROZEN_NOW - timedelta(days=days, minutes=index * 7))
            ReportService(db, operator="budi", clock=clock).create_report(
                NewReport(category="sampah", kelurahan="Sario", description="sampah")
            )


@pytest.mark.parametrize("lang", LANGS)
def test_board_pictures_at_160x50(
    snap_compare, db: Database, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:  # type: ignore[no-untyped-def]
    """The charts use the width: three side by side, the sections two by two; the phone
    panel with the fixed phone calls' figures (``test_board_today`` has none: "–")."""
    seed_board(db)
    seed_month(db)
    seed_phone_calls(db, FROZEN_NOW)
    app = snapshot_app(db, monkeypatch, lang)
    assert snap_compare(app, terminal_size=(160, 50), run_before=open_board)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_board_in_the_control_room_theme(
    snap_compare, db: Database, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    seed_board(db)
    seed_month(db)
    seed_phone_calls(db, FROZEN_NOW)
    monkeypatch.setattr(db, "describe", lambda: "siaga112.db")
    app = make_app(
        db,
        operator="Operator Satu",
        lang="id",
        clock=fixed_clock(FROZEN_NOW),
        theme=CONTROL_ROOM.name,
    )
    assert snap_compare(app, terminal_size=size, run_before=open_board)
