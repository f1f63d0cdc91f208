"""The PBX hook commands and the telephony service: idempotent, any order, odd caller ids."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from siaga_tui.cli import main
from siaga_tui.core.db import Database, open_database
from siaga_tui.services.calls import CallService
from siaga_tui.services.operators import OperatorService
from siaga_tui.services.telephony import TelephonyService, parse_caller
from tests.conftest import MutableClock


class Cli:
    def __init__(self, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db_path = db_path
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            main(["--db", str(self.db_path), "--lang", "en", *args])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def call(self, *args: str) -> dict[str, object]:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return dict(json.loads(out))


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(db_path, capsys)


T0 = "2026-11-28T10:00:00+08:00"
T1 = "2026-11-28T10:00:07+08:00"
T2 = "2026-11-28T10:02:00+08:00"


def test_ring_answer_hangup_in_order(cli: Cli) -> None:
    cli.call(
        "phone",
        "ring",
        "--call-id",
        "1701.1",
        "--phone",
        "0812-3456-7890",
        "--line",
        "112",
        "--at",
        T0,
    )
    cli.call("phone", "answer", "--call-id", "1701.1", "--position", "pos-2", "--at", T1)
    call = cli.call("phone", "hangup", "--call-id", "1701.1", "--at", T2)
    assert call["phone"] == "+6281234567890"
    assert call["line"] == "112"
    assert call["position"] == "pos-2"
    assert call["outcome"] == "answered"
    assert call["offered_at"] == "2026-11-28T02:00:00+00:00"
    assert call["answered_at"] == "2026-11-28T02:00:07+00:00"


def test_every_event_twice_changes_nothing(cli: Cli) -> None:
    first = cli.call("phone", "ring", "--call-id", "A", "--phone", "081234567890", "--at", T0)
    again = cli.call("phone", "ring", "--call-id", "A", "--phone", "0899999999", "--at", T1)
    assert again == first
    answered = cli.call("phone", "answer", "--call-id", "A", "--at", T1)
    assert (
        cli.call("phone", "answer", "--call-id", "A", "--position", "other", "--at", T2) == answered
    )
    ended = cli.call("phone", "hangup", "--call-id", "A", "--at", T2)
    assert cli.call("phone", "hangup", "--call-id", "A") == ended


def test_events_out_of_order_give_the_same_call(cli: Cli) -> None:
    cli.call("phone", "hangup", "--call-id", "B", "--at", T2)
    cli.call("phone", "answer", "--call-id", "B", "--position", "p1", "--at", T1)
    call = cli.call("phone", "ring", "--call-id", "B", "--phone", "081234567890", "--at", T0)
    assert call["outcome"] == "answered"
    assert (call["offered_at"], call["answered_at"]) == (
        "2026-11-28T02:00:00+00:00",
        "2026-11-28T02:00:07+00:00",
    )


def test_hangup_before_the_answer_is_abandoned_and_on_the_callback_list(
    cli: Cli, db_path: Path
) -> None:
    cli.call("phone", "ring", "--call-id", "C", "--phone", "+62 812-3456-7890")
    assert cli.call("phone", "hangup", "--call-id", "C")["outcome"] == "abandoned"
    db = open_database(db_path)
    try:
        [item] = TelephonyService(db, operator="x").callback_list()
    finally:
        db.dispose()
    assert (item.kind, item.phone, item.number_shown) == (
        "abandoned",
        "+6281234567890",
        "0812-3456-7890",
    )


def test_a_dropped_line_is_dropped(cli: Cli) -> None:
    cli.call("phone", "ring", "--call-id", "D", "--phone", "081234567890")
    cli.call("phone", "answer", "--call-id", "D")
    assert cli.call("phone", "hangup", "--call-id", "D", "--dropped")["outcome"] == "dropped"


@pytest.mark.parametrize(
    ("given", "caller_id", "phone"),
    [
        ("anonymous", "anonymous", None),
        ("", None, None),
        ("+62 812-3456-7890", "+62 812-3456-7890", "+6281234567890"),
        ("081234567890", "081234567890", "+6281234567890"),
        ("sip:user@host.example", "sip:user@host.example", None),
        ("sip:081234567890@10.0.0.5:5060", "sip:081234567890@10.0.0.5:5060", "+6281234567890"),
        ('"Warga" <sip:0431864444@pbx>', '"Warga" <sip:0431864444@pbx>', "+62431864444"),
        ("112", "112", "112"),
        ("[/bold] \x1b[31m", "[/bold]", None),
    ],
)
def test_odd_caller_ids_are_kept_as_given(
    given: str, caller_id: str | None, phone: str | None
) -> None:
    assert parse_caller(given) == (caller_id, phone)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("phone", "ring", "--call-id", "", "--phone", "1"), "Call id"),
        (("phone", "ring", "--call-id", "x" * 201), "Call id"),
        (("phone", "answer", "--call-id", "E", "--at", "yesterday"), "--at"),
        (("phone", "answer", "--call-id", "E", "--at", "2026-11-28T10:00:00"), "--at"),
        (("phone", "ring", "--call-id", "E", "--line", "L" * 65), "Line"),
    ],
)
def test_bad_input_is_refused_in_one_line(cli: Cli, args: tuple[str, ...], says: str) -> None:
    code, out, err = cli(*args)
    assert code == 2
    assert says in err and len(err.strip().splitlines()) == 1
    assert out == ""


def test_once_accounts_exist_the_hooks_need_a_sign_in(
    cli: Cli, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIAGA112_PASSWORD_HASH", "fast")
    db = open_database(db_path)
    OperatorService(db).add("sari", "Sari", "supervisor", "sandi-rahasia-12")
    db.dispose()
    code, _, err = cli("phone", "ring", "--call-id", "F", "--phone", "081234567890")
    assert code == 2 and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("SIAGA112_PASSWORD", "sandi-rahasia-12")
    code, _, err = cli(
        "--operator", "sari", "phone", "ring", "--call-id", "F", "--phone", "081234567890"
    )
    assert code == 0, err


def test_ringing_leaves_out_answered_ended_and_stale_calls(
    db: Database, clock: MutableClock
) -> None:
    phone = TelephonyService(db, operator="sari", clock=clock)
    phone.ring("old", "081234567890", at=clock() - timedelta(minutes=11))
    phone.ring("answered", "081234567891")
    phone.answer("answered")
    phone.ring("ended", "081234567892")
    phone.hangup("ended")
    phone.ring("now", "081234567893")
    assert [c.system_call_id for c in phone.ringing()] == ["now"]


def test_silent_calls_are_on_the_callback_list_until_one_reaches_them(
    db: Database, clock: MutableClock
) -> None:
    phone = TelephonyService(db, operator="sari", clock=clock)
    CallService(db, operator="sari", clock=clock).log_call("hening", phone="0812-1111-2222")
    clock.advance(minutes=1)
    phone.ring("X", "0813-3333-4444")
    phone.hangup("X")
    items = phone.callback_list()
    assert [(i.kind, i.phone) for i in items] == [
        ("abandoned", "+6281333334444"),
        ("silent", "+6281211112222"),
    ]
    phone.record_callback(items[1].key, "no_answer")
    phone.record_callback(items[0].key, "reached")
    [left] = phone.callback_list()
    assert (left.kind, left.attempts, left.last_outcome) == ("silent", 1, "no_answer")


def test_the_callback_list_shows_the_numbers_history(db: Database, clock: MutableClock) -> None:
    calls = CallService(db, operator="sari", clock=clock)
    calls.log_call("iseng", phone="081234567890")
    phone = TelephonyService(db, operator="sari", clock=clock)
    phone.ring("first", "081234567890", at=datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    phone.hangup("first")
    phone.ring("second", "081234567890")
    phone.hangup("second")
    newest = phone.callback_list()[0]
    assert (newest.earlier_calls, newest.pranks, newest.reports) == (1, 1, 0)


def test_a_filed_call_is_linked_to_its_phone_call_and_a_callback_to_its_report(
    db: Database, clock: MutableClock
) -> None:
    from siaga_tui.services.reports import NewReport, ReportService

    phone = TelephonyService(db, operator="sari", clock=clock)
    phone.ring("Z", "081234567890")
    phone.hangup("Z")
    [item] = phone.callback_list()
    callback_id = phone.record_callback(item.key, "reached")
    clock.advance(seconds=30)
    answered = phone.ring("Y", "081234567890", at=clock())
    answered = phone.answer("Y", at=clock())
    clock.advance(seconds=40)
    saved = ReportService(db, operator="sari", clock=clock).create_report(
        NewReport(
            category="kebakaran",
            kelurahan="paal 4",
            description="Rumah terbakar",
            phone="081234567890",
            answered_at=answered.answered_at,
            phone_call_id=answered.id,
            callback_id=callback_id,
        )
    )
    assert phone.get("Y").logged_call_id == saved.call_id
    logged = CallService(db, operator="sari", clock=clock).log_call(
        "iseng", phone="081234567890", phone_call_id=phone.get("Z").id
    )
    assert phone.get("Z").logged_call_id == logged
    import sqlalchemy as sa

    from siaga_tui.core.models import CALLBACK, REPORT

    with db.read() as conn:
        assert conn.execute(sa.select(CALLBACK.c.report_id)).scalar_one() == saved.id
        assert (
            conn.execute(sa.select(REPORT.c.call_answered_at)).scalar_one() == answered.answered_at
        )


def test_stats_gives_the_phones_figures_and_leaves_out_calls_without_moments(
    cli: Cli, db_path: Path
) -> None:
    base = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)

    def at(seconds: float) -> str:
        return (base + timedelta(seconds=seconds)).isoformat()

    # Answered after 5, 12 and 18 s; one abandoned; one answered with no ring known.
    for index, wait in enumerate((5, 12, 18)):
        call_id = f"A{index}"
        cli.call(
            "phone",
            "ring",
            "--call-id",
            call_id,
            "--phone",
            "081234567890",
            "--at",
            at(index * 100),
        )
        cli.call("phone", "answer", "--call-id", call_id, "--at", at(index * 100 + wait))
        cli.call("phone", "hangup", "--call-id", call_id, "--at", at(index * 100 + 60))
    cli.call("phone", "ring", "--call-id", "X", "--phone", "081234567899", "--at", at(500))
    cli.call("phone", "hangup", "--call-id", "X", "--at", at(530))
    cli.call("phone", "answer", "--call-id", "NORING", "--at", at(600))
    code, out, err = cli("stats", "--from", "2026-11-28", "--to", "2026-11-28", "--format", "json")
    assert code == 0, err
    phone = json.loads(out)["phone"]
    assert phone["offered"] == 4
    assert phone["abandoned"] == 1
    assert phone["abandoned_share"] == {"count": 1, "of": 4, "percent": 25}
    assert phone["answer_time_seconds"] == {"n": 3, "median": 12.0, "p90": 16.8}
    assert phone["answered_within_10s"]["count"] == 1
    assert phone["answered_within_15s"] == {"count": 2, "of": 3, "percent": 67}
    assert phone["answered_within_20s"]["count"] == 3
    assert phone["targets"]["nena_sta_020_answer_20s_95pct"] is True
    assert phone["targets"]["nena_sta_020_answer_15s_90pct"] is False
    assert phone["answer_to_saved_seconds"] == {"n": 0, "median": None, "p90": None}
    code, out, _ = cli("stats", "--from", "2026-11-28", "--to", "2026-11-28")
    assert code == 0 and "NENA-STA-020.1" in out
    # The same figures in the flat table, keyed by the JSON key's path.
    code, out, err = cli("stats", "--from", "2026-11-28", "--to", "2026-11-28", "--format", "csv")
    assert code == 0, err
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(out)) if r["section"] == "phone"}
    assert rows["offered"]["count"] == "4" and rows["abandoned"]["count"] == "1"
    assert (rows["abandoned_share"]["of"], rows["abandoned_share"]["percent"]) == ("4", "25")
    answer = rows["answer_time_seconds"]
    assert (answer["count"], answer["median_seconds"], answer["p90_seconds"]) == (
        "3",
        "12.0",
        "16.8",
    )
    assert rows["answered_within_15s"]["percent"] == "67"
    assert rows["targets.nena_sta_020_answer_20s_95pct"]["kind"] == "met"
    assert rows["targets.nena_sta_020_answer_15s_90pct"]["kind"] == "not_met"
    assert rows["callbacks.made"]["count"] == "0"
    saved = rows["answer_to_saved_seconds"]
    assert (saved["count"], saved["median_seconds"]) == ("0", "")  # unknown: empty, not 0
    assert set(rows) >= {"saved_within_60s", "callbacks.time_to_callback_seconds"}


def test_stats_without_phone_records_says_unknown(cli: Cli) -> None:
    code, out, err = cli("stats", "--from", "2026-11-28", "--to", "2026-11-28")
    assert code == 0, err
    assert "no phone-system records" in out
    code, out, _ = cli("stats", "--from", "2026-11-28", "--to", "2026-11-28", "--format", "json")
    phone = json.loads(out)["phone"]
    assert phone["offered"] == 0
    assert phone["answer_time_seconds"]["median"] is None
    assert phone["targets"]["nena_sta_020_answer_15s_90pct"] is None
    code, out, _ = cli("stats", "--from", "2026-11-28", "--to", "2026-11-28", "--format", "csv")
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(out)) if r["section"] == "phone"}
    assert rows["answer_time_seconds"]["median_seconds"] == ""
    assert rows["targets.nena_sta_020_answer_15s_90pct"]["kind"] == ""
    assert rows["answered_within_15s"]["percent"] == ""


def test_a_pbx_token_opens_the_phone_commands_and_nothing_else(
    cli: Cli, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIAGA112_PASSWORD_HASH", "fast")
    db = open_database(db_path)
    service = OperatorService(db)
    service.add("sari", "Sari", "supervisor", "sandi-rahasia-12")
    db.dispose()
    monkeypatch.setenv("SIAGA112_PASSWORD", "sandi-rahasia-12")
    code, token, err = cli("--operator", "sari", "login", "--scope", "phone", "--no-expiry")
    assert code == 0, err
    monkeypatch.delenv("SIAGA112_PASSWORD")
    monkeypatch.setenv("SIAGA112_TOKEN", token.strip())
    assert (
        cli.call("phone", "ring", "--call-id", "T1", "--phone", "081234567890")["outcome"] is None
    )
    assert cli.call("phone", "hangup", "--call-id", "T1")["outcome"] == "abandoned"
    code, _, err = cli("call", "iseng", "-p", "081234567890")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_a_withheld_number_is_not_on_the_callback_list(db: Database, clock: MutableClock) -> None:
    CallService(db, operator="sari", clock=clock).log_call("hening")
    phone = TelephonyService(db, operator="sari", clock=clock)
    phone.ring("W", "anonymous")
    phone.hangup("W")
    phone.ring("S", "sip:warga@voip.example")
    phone.hangup("S")
    assert [(i.caller_id, i.dialable) for i in phone.callback_list()] == [
        ("sip:warga@voip.example", "sip:warga@voip.example")
    ]


def test_the_numbers_history_counts_the_calls_taken_before(
    db: Database, clock: MutableClock
) -> None:
    calls = CallService(db, operator="sari", clock=clock)
    calls.log_call("informasi", phone="081234567890")
    clock.advance(minutes=5)
    calls.log_call("hening", phone="081234567890")
    [item] = TelephonyService(db, operator="sari", clock=clock).callback_list()
    assert (item.kind, item.earlier_calls) == ("silent", 1)


def test_the_handover_carries_the_shifts_phone_figures(db: Database, clock: MutableClock) -> None:
    from siaga_tui.core.catalogue import load_catalogue
    from siaga_tui.services.handover import HandoverService, ShiftSummary, summary_lines
    from siaga_tui.services.stats import Period

    phone = TelephonyService(db, operator="pbx", clock=clock)
    phone.ring("H1", "081234567890", at=clock() - timedelta(minutes=30))
    phone.answer("H1", at=clock() - timedelta(minutes=30) + timedelta(seconds=8))
    phone.hangup("H1", at=clock() - timedelta(minutes=25))
    phone.ring("H2", "081234567891", at=clock() - timedelta(minutes=20))
    phone.hangup("H2", at=clock() - timedelta(minutes=19))
    shift = Period(clock() - timedelta(hours=7), clock() + timedelta(minutes=1))
    summary = HandoverService(db, operator="sari", clock=clock).preview(shift)
    assert summary.phone is not None
    assert (summary.phone["offered"], summary.phone["answered"], summary.phone["abandoned"]) == (
        2,
        1,
        1,
    )
    assert ShiftSummary.from_dict(summary.to_dict()).phone == summary.phone
    text = "\n".join(line for _, line in summary_lines(summary, "en", load_catalogue()))
    assert "Phone: 2 calls offered" in text
    assert "answered within 15 s: 100 %" in text


def test_a_shift_without_phone_records_has_no_phone_lines(
    db: Database, clock: MutableClock
) -> None:
    from siaga_tui.core.catalogue import load_catalogue
    from siaga_tui.services.handover import HandoverService, summary_lines
    from siaga_tui.services.stats import Period

    shift = Period(clock() - timedelta(hours=7), clock() + timedelta(minutes=1))
    summary = HandoverService(db, operator="sari", clock=clock).preview(shift)
    assert summary.phone is None
    assert not any("Phone" in line for _, line in summary_lines(summary, "en", load_catalogue()))
