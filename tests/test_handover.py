"""Shift handover on fixed data: open, overdue, waiting, the shift's figures, the record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from siaga_tui.core.db import Database
from siaga_tui.core.errors import InvalidInput, NotFound, TransitionRefused
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.services import audit
from siaga_tui.services.calls import CallService
from siaga_tui.services.handover import HandoverService, outgoing_shift
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import FROZEN_NOW


def wita(day: int, hour: int, minute: int = 0) -> datetime:
    """A November 2026 moment given in WITA (UTC+8)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def build_shift(db: Database, clock) -> dict[str, str]:
    """The day shift of 28 Nov 2026 (07–14 WITA), seen at 10:00."""
    desk = ReportService(db, operator="ani", clock=clock)
    calls = CallService(db, operator="ani", clock=clock)

    def at(day: int, hour: int, minute: int = 0) -> None:
        clock.now = wita(day, hour, minute)

    at(27, 10)  # yesterday: a fallen tree nobody forwarded, and a prank
    old = desk.create_report(
        NewReport(category="pohon-tumbang", kelurahan="Bahu", description="pohon")
    )
    calls.log_call("iseng")
    at(28, 8)  # a fire, forwarded, acknowledged and done within the shift
    done = desk.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description="api"))
    at(28, 8, 2)
    referral = desk.forward(done.id, "damkar")
    at(28, 8, 5)
    desk.acknowledge(done.id, referral)
    at(28, 8, 30)
    desk.change_status(done.id, "selesai", note="padam")
    at(28, 9, 10)  # a fire not yet forwarded: 3-minute target
    waiting = desk.create_report(
        NewReport(category="kebakaran", kelurahan="Malalayang Satu", description="asap")
    )
    at(28, 9, 15)
    calls.log_call("iseng")
    at(28, 9, 20)
    calls.log_call("hening")
    at(28, 9, 50)  # a fallen tree forwarded, the agency has not confirmed
    forwarded = desk.create_report(
        NewReport(category="pohon-tumbang", kelurahan="Bahu", description="dahan")
    )
    at(28, 9, 52)
    desk.forward(forwarded.id, "damkar")
    clock.now = FROZEN_NOW  # 10:00 WITA
    return {
        "old": old.number,
        "done": done.number,
        "waiting": waiting.number,
        "forwarded": forwarded.number,
    }


def test_the_outgoing_shift_is_the_running_one_except_in_its_first_hour(clock) -> None:
    shift = outgoing_shift(clock)
    assert (shift.start, shift.end) == (wita(28, 7), wita(28, 14))
    clock.now = wita(28, 14, 20)
    shift = outgoing_shift(clock)
    assert (shift.start, shift.end) == (wita(28, 7), wita(28, 14))
    clock.now = wita(28, 6, 30)  # the night shift, crossing midnight
    shift = outgoing_shift(clock)
    assert (shift.start, shift.end) == (wita(27, 21), wita(28, 7))


def test_handover_summary_on_fixed_data(any_db: Database, clock) -> None:
    numbers = build_shift(any_db, clock)
    summary = HandoverService(any_db, operator="ani", clock=clock).preview()
    assert (summary.start, summary.end) == (wita(28, 7), wita(28, 14))
    assert [i.number for i in summary.open_items] == [
        numbers["waiting"],
        numbers["old"],
        numbers["forwarded"],
    ]
    assert summary.open_total == 3
    assert [(i.number, i.overdue, i.late_minutes) for i in summary.overdue] == [
        (numbers["waiting"], "forward", 47),  # 50 min old, target 3 min
        (numbers["old"], "finish", 18 * 60),  # 24 h old, target 6 h
    ]
    assert [(w.number, w.agency, w.waiting_minutes) for w in summary.awaiting_ack] == [
        (numbers["forwarded"], "damkar", 8)
    ]
    assert summary.calls_by_disposition == {
        "laporan": 3,
        "iseng": 1,
        "hening": 1,
        "informasi": 0,
        "salah_sambung": 0,
    }
    assert summary.reports_by_category == {"kebakaran": 2, "pohon-tumbang": 1}
    assert (summary.reports_filed, summary.reports_closed) == (3, 1)


def test_create_acknowledge_and_show_again(any_db: Database, clock) -> None:
    build_shift(any_db, clock)
    outgoing = HandoverService(any_db, operator="ani", clock=clock)
    created = outgoing.create("Pohon di Bahu: Damkar belum konfirmasi, telepon lagi.")
    assert created.audit_head == audit.audit_head(any_db).hash
    assert created.outgoing == "ani" and not created.acknowledged
    with pytest.raises(TransitionRefused):
        outgoing.acknowledge(created.id)  # not one's own
    clock.advance(minutes=5)
    incoming = HandoverService(any_db, operator="budi", clock=clock)
    assert incoming.pending() == created
    accepted = incoming.acknowledge(created.id)
    assert (accepted.incoming, accepted.acknowledged_at) == ("budi", clock.now)
    with pytest.raises(TransitionRefused):
        incoming.acknowledge(created.id)
    assert incoming.pending() is None
    # Later, the record shows exactly what was handed over, whatever happened since.
    ReportService(any_db, operator="budi", clock=clock).create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="baru")
    )
    again = incoming.get(created.id)
    assert again.summary == created.summary
    assert again.notes == created.notes
    assert [e.action for e in audit.list_entries(any_db, action="handover.")] == [
        "handover.created",
        "handover.acknowledged",
    ]
    assert audit.verify(any_db).ok
    assert [v.id for v in incoming.latest()] == [created.id]


def test_handover_errors(any_db: Database, clock) -> None:
    service = HandoverService(any_db, operator="ani", clock=clock)
    with pytest.raises(NotFound):
        service.get(99)
    with pytest.raises(InvalidInput) as caught:
        service.create("x" * 9000)
    assert caught.value.fields == ["notes"]


def cli(
    url: str, capsys: pytest.CaptureFixture[str], *args: str, operator: str = "ani"
) -> tuple[int, str, str]:
    from siaga_tui.cli import main

    capsys.readouterr()
    try:
        main(["--db", url, "--lang", "en", "--operator", operator, *args])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_handover(
    any_db_url: str, clock, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    from siaga_tui.core.db import open_database

    db = open_database(any_db_url)
    numbers = build_shift(db, clock)
    from siaga_tui.cli import handover as handover_cli

    monkeypatch.setattr(handover_cli, "clock", fixed_clock(FROZEN_NOW))
    code, out, err = cli(any_db_url, capsys, "handover", "show")
    assert code == 0, err
    assert "Still open: 3 reports" in out and numbers["waiting"] in out
    assert "Overdue: 2 reports" in out and "not forwarded, 47 min late" in out
    assert "Waiting for an agency's acknowledgement: 1" in out
    assert "Preview" in out and audit.audit_head(db).hash in out
    code, out, err = cli(any_db_url, capsys, "handover", "create", "--notes", "Telepon Damkar lagi")
    assert code == 0, err
    assert "Handover #1 recorded" in out and "Telepon Damkar lagi" in out
    assert audit.audit_head(db).hash in out
    assert "already" not in out
    code, _, err = cli(any_db_url, capsys, "handover", "ack", "1")
    assert code == 2 and "your own" in err
    code, out, _ = cli(any_db_url, capsys, "handover", "ack", "1", operator="budi")
    assert code == 0 and "accepted by budi" in out
    code, out, _ = cli(any_db_url, capsys, "handover", "list", "--json")
    (listed,) = json.loads(out)
    assert (listed["outgoing"], listed["incoming"], listed["summary"]["open_total"]) == (
        "ani",
        "budi",
        3,
    )
    code, out, _ = cli(any_db_url, capsys, "handover", "show", "1")
    assert code == 0 and "Accepted by budi" in out
    db.dispose()


def test_cli_a_second_handover_of_the_same_shift_says_so(
    any_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    from siaga_tui.cli import handover as handover_cli
    from siaga_tui.core.db import open_database

    open_database(any_db_url).dispose()
    monkeypatch.setattr(handover_cli, "clock", fixed_clock(FROZEN_NOW))
    code, out, err = cli(any_db_url, capsys, "handover", "create", "--notes", "pertama")
    assert code == 0, err
    code, out, err = cli(any_db_url, capsys, "handover", "create", "--notes", "koreksi")
    assert code == 0, err
    assert "Handover #2 recorded" in out
    assert "This shift has been handed over 1× already (last #1" in out
