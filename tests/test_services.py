"""The service layer: filing, the lifecycle rules, events, concurrency of edits."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from siaga_tui.core.db import Database
from siaga_tui.core.errors import (
    ConflictError,
    InvalidInput,
    NotFound,
    TransitionRefused,
    ValidationError,
)
from siaga_tui.core.models import CALL, EVENT, REPORT, Status
from siaga_tui.services.calls import CallService
from siaga_tui.services.events import replay
from siaga_tui.services.queue import QueueFilter, QueueService
from siaga_tui.services.reports import NewReport, ReportService, normalise_report_number


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


@pytest.fixture
def reports(db: Database, clock) -> ReportService:
    return ReportService(db, operator="budi", clock=clock)


@pytest.fixture
def calls(db: Database, clock) -> CallService:
    return CallService(db, operator="budi", clock=clock)


def fire(**overrides: object) -> NewReport:
    values: dict[str, object] = {
        "category": "kebakaran",
        "kelurahan": "Paal IV",
        "description": "Rumah terbakar dekat pasar",
        "phone": "0812-3456-7890",
        "address": "Jl. Babe Palar",
    }
    values.update(overrides)
    return NewReport(**values)  # type: ignore[arg-type]


def stored(db: Database, report_id: int) -> dict:
    with db.read() as conn:
        return dict(
            conn.execute(sa.select(REPORT).where(REPORT.c.id == report_id)).mappings().one()
        )


def events_of(db: Database, report_id: int) -> list:
    with db.read() as conn:
        return conn.execute(
            sa.select(EVENT.c.kind, EVENT.c.at, EVENT.c.details)
            .where(EVENT.c.report_id == report_id)
            .order_by(EVENT.c.id)
        ).all()


def assert_replay_matches(db: Database, report_id: int) -> None:
    row = stored(db, report_id)
    state = replay([tuple(e) for e in events_of(db, report_id)])
    assert state.status == row["status"]
    assert state.version == row["version"]
    assert state.duplicate_of == row["duplicate_of"]
    assert state.first_forwarded_at == row["first_forwarded_at"]
    assert state.first_acknowledged_at == row["first_acknowledged_at"]
    assert state.closed_at == row["closed_at"]


# --- Filing --------------------------------------------------------------------------


def test_create_report_stores_clean_fields_a_call_and_one_event(
    reports: ReportService, db: Database
) -> None:
    saved = reports.create_report(fire(description="Api besar\x1b[2J di [bold]dapur[/"))
    assert saved.number == "112-2026-000001"
    row = stored(db, saved.id)
    assert row["caller_phone"] == "+6281234567890"
    assert row["kelurahan_code"] == "71.71.05.1010"
    assert row["kecamatan_code"] == "71.71.05"
    assert row["kind"] == "darurat"
    assert row["status"] == Status.MENUNGGU
    assert row["description"] == "Api besar di [bold]dapur[/"  # escape gone, markup kept as text
    assert row["version"] == 1
    with db.read() as conn:
        call = conn.execute(sa.select(CALL)).mappings().one()
    assert call["report_id"] == saved.id and call["disposition"] == "laporan"
    assert [e.kind for e in events_of(db, saved.id)] == ["created"]
    assert_replay_matches(db, saved.id)


def test_numbers_count_up_per_year_in_local_time(reports: ReportService, clock) -> None:
    first = reports.create_report(fire())
    second = reports.create_report(fire())
    assert (first.number, second.number) == ("112-2026-000001", "112-2026-000002")
    # 31 Dec 2026 16:30 UTC is already 1 Jan 2027 in Manado (WITA, UTC+8).
    clock.now = clock.now.replace(month=12, day=31, hour=16, minute=30)
    assert reports.create_report(fire()).number == "112-2027-000001"


def test_invalid_form_names_every_bad_field(reports: ReportService, db: Database) -> None:
    with pytest.raises(InvalidInput) as caught:
        reports.create_report(
            NewReport(category="gempa", kelurahan="Atlantis", description="  \n ", phone="12ab")
        )
    assert caught.value.fields == ["category", "phone", "kelurahan", "description"]
    message = caught.value.message("en")
    assert "Category" in message and "Phone" in message and "Kelurahan" in message
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar() == 0


def test_too_long_description_is_refused_with_lengths(reports: ReportService) -> None:
    with pytest.raises(InvalidInput) as caught:
        reports.create_report(fire(description="x" * 8001))
    error = caught.value.errors[0]
    assert error.field == "description"
    assert "8001" in error.message("en") and "8000" in error.message("en")


def test_phone_is_optional(reports: ReportService, db: Database) -> None:
    saved = reports.create_report(fire(phone=None))
    assert stored(db, saved.id)["caller_phone"] is None


# --- Lifecycle -----------------------------------------------------------------------


def test_forward_moves_waiting_to_handled_and_ack_records_first_acknowledgement(
    reports: ReportService, db: Database, clock
) -> None:
    saved = reports.create_report(fire())
    clock.advance(minutes=2)
    referral = reports.forward(saved.id, "damkar", channel="radio", agency_ref="DK-7")
    row = stored(db, saved.id)
    assert row["status"] == Status.DITANGANI
    assert row["first_forwarded_at"] == clock.now
    clock.advance(minutes=1)
    reports.acknowledge(saved.id, referral, acknowledged_by="Pos Damkar Tikala")
    assert stored(db, saved.id)["first_acknowledged_at"] == clock.now
    with pytest.raises(TransitionRefused):
        reports.acknowledge(saved.id, referral)
    assert_replay_matches(db, saved.id)


def test_handled_needs_a_referral(reports: ReportService) -> None:
    saved = reports.create_report(fire())
    with pytest.raises(TransitionRefused) as caught:
        reports.change_status(saved.id, "ditangani")
    assert caught.value.key == "status_needs_referral"


@pytest.mark.parametrize("start", ["menunggu", "ditangani"])
def test_done_needs_a_closing_note(reports: ReportService, db: Database, start: str) -> None:
    saved = reports.create_report(fire())
    if start == "ditangani":
        reports.forward(saved.id, "damkar")
    with pytest.raises(ValidationError) as caught:
        reports.change_status(saved.id, "selesai", note="  ")
    assert caught.value.field == "note"
    reports.change_status(saved.id, "selesai", note="Api padam, tidak ada korban")
    row = stored(db, saved.id)
    assert row["status"] == Status.SELESAI and row["closed_at"] is not None
    assert_replay_matches(db, saved.id)


@pytest.mark.parametrize(
    ("setup", "target", "key"),
    [
        ([], "menunggu", "status_unchanged"),
        (["forward"], "menunggu", "status_not_allowed"),
        (["forward"], "ditangani", "status_unchanged"),
        (["close"], "ditangani", "status_closed_use_reopen"),
        (["close"], "menunggu", "status_closed_use_reopen"),
        (["close"], "selesai", "status_unchanged"),
    ],
)
def test_refused_transitions_say_why_and_change_nothing(
    reports: ReportService, db: Database, setup: list[str], target: str, key: str
) -> None:
    saved = reports.create_report(fire())
    if "forward" in setup:
        reports.forward(saved.id, "damkar")
    if "close" in setup:
        reports.change_status(saved.id, "selesai", note="Selesai lewat telepon")
    before = stored(db, saved.id)
    events_before = len(events_of(db, saved.id))
    with pytest.raises(TransitionRefused) as caught:
        reports.change_status(saved.id, target, note="catatan")
    assert caught.value.key == key
    assert caught.value.message("en")  # a sentence, not the key
    assert stored(db, saved.id) == before
    assert len(events_of(db, saved.id)) == events_before


def test_unknown_status_and_agency_are_field_errors(reports: ReportService) -> None:
    saved = reports.create_report(fire())
    with pytest.raises(InvalidInput) as caught:
        reports.change_status(saved.id, "beres")
    assert caught.value.fields == ["status"]
    with pytest.raises(ValidationError) as agency_error:
        reports.forward(saved.id, "nasa")
    assert agency_error.value.field == "agency"


def test_forwarding_a_closed_report_is_refused(reports: ReportService) -> None:
    saved = reports.create_report(fire())
    reports.change_status(saved.id, "selesai", note="Selesai lewat telepon")
    with pytest.raises(TransitionRefused):
        reports.forward(saved.id, "damkar")


def test_reopen_needs_a_reason_and_a_closed_report(reports: ReportService, db: Database) -> None:
    saved = reports.create_report(fire())
    with pytest.raises(TransitionRefused):
        reports.reopen(saved.id, "api menyala lagi")
    reports.forward(saved.id, "damkar")
    reports.change_status(saved.id, "selesai", note="padam")
    with pytest.raises(InvalidInput):
        reports.reopen(saved.id, " ")
    assert reports.reopen(saved.id, "api menyala lagi") == "ditangani"
    row = stored(db, saved.id)
    assert row["status"] == "ditangani" and row["closed_at"] is None
    assert_replay_matches(db, saved.id)


def test_reopen_without_referral_goes_back_to_waiting(reports: ReportService) -> None:
    saved = reports.create_report(fire())
    reports.change_status(saved.id, "selesai", note="selesai di telepon")
    assert reports.reopen(saved.id, "pelapor menelepon lagi") == "menunggu"


def test_duplicates_close_and_chains_resolve_to_one_original(
    reports: ReportService, db: Database
) -> None:
    original = reports.create_report(fire())
    second = reports.create_report(fire())
    third = reports.create_report(fire())
    assert reports.mark_duplicate(second.id, original.number) == original.number
    # Marking a duplicate of a duplicate points at the original.
    assert reports.mark_duplicate(third.id, second.number) == original.number
    row = stored(db, third.id)
    assert row["duplicate_of"] == original.id and row["status"] == "selesai"
    with pytest.raises(TransitionRefused):
        reports.mark_duplicate(original.id, original.number)
    with pytest.raises(TransitionRefused):
        reports.mark_duplicate(third.id, original.number)
    with pytest.raises(NotFound):
        reports.mark_duplicate(original.id, "112-2026-999999")
    for saved in (original, second, third):
        assert_replay_matches(db, saved.id)


def test_original_that_points_back_is_refused(reports: ReportService) -> None:
    a = reports.create_report(fire())
    b = reports.create_report(fire())
    reports.mark_duplicate(b.id, a.number)
    with pytest.raises(TransitionRefused) as caught:
        reports.mark_duplicate(a.id, b.number)  # b resolves to a itself
    assert caught.value.key == "duplicate_of_itself"


def test_stale_version_is_a_conflict_and_nothing_is_overwritten(db: Database, clock) -> None:
    first_desk = ReportService(db, operator="ani", clock=clock)
    second_desk = ReportService(db, operator="budi", clock=clock)
    saved = first_desk.create_report(fire())
    seen = first_desk.get_report(saved.id).version
    second_desk.add_note(saved.id, "Pelapor menelepon lagi", expected_version=seen)
    with pytest.raises(ConflictError):
        first_desk.change_status(saved.id, "selesai", note="beres", expected_version=seen)
    detail = first_desk.get_report(saved.id)
    assert detail.status == "menunggu" and detail.version == seen + 1


def test_every_change_writes_exactly_one_event(reports: ReportService, db: Database, clock) -> None:
    saved = reports.create_report(fire())
    referral = reports.forward(saved.id, "damkar")
    reports.acknowledge(saved.id, referral)
    reports.add_note(saved.id, "Dua unit dikirim")
    reports.attach_call(saved.id, phone="0813 1111 2222")
    reports.change_status(saved.id, "selesai", note="padam")
    reports.reopen(saved.id, "menyala lagi")
    kinds = [e.kind for e in events_of(db, saved.id)]
    assert kinds == [
        "created",
        "forwarded",
        "acknowledged",
        "note_added",
        "call_attached",
        "status_changed",
        "reopened",
    ]
    assert stored(db, saved.id)["version"] == len(kinds)
    assert_replay_matches(db, saved.id)


def test_a_failed_change_leaves_no_event(reports: ReportService, db: Database, monkeypatch) -> None:
    """The change and its event are one transaction: if the event fails, so does the change."""
    saved = reports.create_report(fire())
    import siaga_tui.services.reports as module

    def broken_event(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk hiccup")

    monkeypatch.setattr(module, "append_event", broken_event)
    with pytest.raises(RuntimeError):
        reports.add_note(saved.id, "tidak tersimpan")
    assert stored(db, saved.id)["version"] == 1
    assert len(events_of(db, saved.id)) == 1


def test_clock_stepping_back_keeps_intervals_non_negative(
    reports: ReportService, db: Database, clock
) -> None:
    saved = reports.create_report(fire())
    clock.advance(minutes=-30)
    reports.forward(saved.id, "damkar")
    row = stored(db, saved.id)
    assert row["first_forwarded_at"] >= row["created_at"]


# --- Calls and history ---------------------------------------------------------------


def test_non_report_calls_and_caller_history(
    calls: CallService, reports: ReportService, clock
) -> None:
    calls.log_call("iseng", phone="6281234567890")
    clock.advance(hours=1)
    calls.log_call("iseng", phone="+62 812-3456-7890")
    reports.create_report(fire(phone="0812 3456 7890"))
    history = calls.caller_history("0812-3456-7890")
    assert history is not None
    assert history.phone == "+6281234567890"
    assert history.dispositions == {"iseng": 2, "laporan": 1}
    assert history.repeat_prank and history.prank_count == 2
    assert len(history.reports) == 1 and len(history.calls) == 3
    assert calls.caller_history("0812") is None  # not a full number yet
    assert calls.caller_history("0813-0000-0000").is_known is False


def test_log_call_refuses_report_disposition_and_bad_phone(calls: CallService) -> None:
    with pytest.raises(InvalidInput) as caught:
        calls.log_call("laporan", phone="abc")
    assert caught.value.fields == ["disposition", "phone"]


def test_silent_call_without_number(calls: CallService, db: Database) -> None:
    calls.log_call("hening")
    with db.read() as conn:
        assert conn.execute(sa.select(CALL.c.caller_phone, CALL.c.disposition)).one() == (
            None,
            "hening",
        )


def test_possible_duplicates_same_place_within_an_hour_or_same_phone(
    reports: ReportService, clock
) -> None:
    first = reports.create_report(fire(phone=None))
    other_place = reports.create_report(fire(kelurahan="Bahu", phone="0813-2222-3333"))
    offered = reports.possible_duplicates("kebakaran", "71.71.05.1010", None)
    assert [r.id for r in offered] == [first.id]
    assert [r.id for r in reports.possible_duplicates("kecelakaan", None, "0813 2222 3333")] == [
        other_place.id
    ]
    clock.advance(minutes=61)
    assert reports.possible_duplicates("kebakaran", "71.71.05.1010", None) == []


def test_attach_call_joins_the_report(reports: ReportService, db: Database) -> None:
    saved = reports.create_report(fire())
    reports.attach_call(saved.id, phone="0813 1111 2222", note="tetangga")
    detail = reports.get_report(saved.number)
    assert [c.caller_phone for c in detail.calls] == ["+6281234567890", "+6281311112222"]


def test_an_attached_call_keeps_what_its_caller_said(reports: ReportService) -> None:
    """The second caller's words reach the report: the call, its event, both kept."""
    saved = reports.create_report(fire())
    call_id = reports.attach_call(
        saved.id,
        phone="0813 1111 2222",
        caller_name=" Ibu  Rina ",
        address="Gang Mawar 3, belakang masjid",
        description="Dua orang terjebak di lantai dua\x1b[31m",
    )
    detail = reports.get_report(saved.number)
    joined = detail.calls[-1]
    assert joined.id == call_id
    assert joined.caller_phone == "+6281311112222"
    assert joined.caller_name == "Ibu  Rina"
    assert joined.address == "Gang Mawar 3, belakang masjid"
    assert joined.description == "Dua orang terjebak di lantai dua"  # cleaned like any text
    event = detail.events[-1]
    assert event.kind == "call_attached"
    assert event.details["description"] == "Dua orang terjebak di lantai dua"
    assert event.details["address"] == "Gang Mawar 3, belakang masjid"
    assert event.details["caller_name"] == "Ibu  Rina"
    # The report's own text is the first caller's, untouched.
    assert detail.summary.description == fire().description
    assert detail.calls[0].description is None


def test_an_attached_call_names_every_bad_field(reports: ReportService) -> None:
    saved = reports.create_report(fire())
    with pytest.raises(InvalidInput) as refused:
        reports.attach_call(saved.id, phone="12ab", description="x" * 9000, caller_name="n" * 200)
    assert {e.field for e in refused.value.errors} == {"phone", "description", "caller_name"}
    assert len(reports.get_report(saved.number).calls) == 1


# --- Queue, changes and search -------------------------------------------------------


def test_queue_orders_emergencies_waiting_first_then_oldest(db: Database, clock) -> None:
    desk = ReportService(db, operator="ani", clock=clock)
    tree = desk.create_report(fire(category="pohon-tumbang"))
    clock.advance(minutes=1)
    old_fire = desk.create_report(fire())
    clock.advance(minutes=1)
    handled = desk.create_report(fire(category="kecelakaan"))
    desk.forward(handled.id, "polresta")
    clock.advance(minutes=1)
    new_fire = desk.create_report(fire())
    closed = desk.create_report(fire())
    desk.change_status(closed.id, "selesai", note="selesai")
    page = QueueService(db).open_reports()
    assert [r.id for r in page.rows] == [old_fire.id, new_fire.id, handled.id, tree.id]
    assert page.total == 4
    assert page.rows[2].agencies == ("polresta",)


def test_queue_pages_with_a_keyset(db: Database, clock) -> None:
    desk = ReportService(db, operator="ani", clock=clock)
    ids = []
    for _ in range(7):
        ids.append(desk.create_report(fire()).id)
        clock.advance(seconds=5)
    queue = QueueService(db)
    first = queue.open_reports(limit=3)
    second = queue.open_reports(limit=3, after=first.next_after)
    third = queue.open_reports(limit=3, after=second.next_after)
    assert [r.id for r in first.rows + second.rows + third.rows] == ids
    assert third.next_after is None


def test_queue_filters(db: Database, clock) -> None:
    desk = ReportService(db, operator="ani", clock=clock)
    fire_report = desk.create_report(fire())
    tree = desk.create_report(
        fire(
            category="pohon-tumbang",
            kelurahan="Bahu",
            description="Pohon tumbang menutup jalan",
            phone=None,
        )
    )
    queue = QueueService(db)
    assert [r.id for r in queue.open_reports(QueueFilter(kind="non_darurat")).rows] == [tree.id]
    assert [r.id for r in queue.open_reports(QueueFilter(category="kebakaran")).rows] == [
        fire_report.id
    ]
    assert [r.id for r in queue.open_reports(QueueFilter(status="ditangani")).rows] == []
    for needle in ("pohon", "Bahu", "112-2026-000002", "2026-2"):
        assert [r.id for r in queue.open_reports(QueueFilter(search=needle)).rows] == [tree.id], (
            needle
        )
    assert [r.id for r in queue.open_reports(QueueFilter(search="0812 3456")).rows] == [
        fire_report.id
    ]
    assert queue.open_reports(QueueFilter(search="100%_")).rows == ()


def test_changes_since_lists_only_what_changed(db: Database, clock) -> None:
    desk = ReportService(db, operator="ani", clock=clock)
    queue = QueueService(db)
    a = desk.create_report(fire())
    mark = queue.last_change()
    assert queue.changes_since(mark).any is False
    b = desk.create_report(fire())
    desk.add_note(a.id, "update")
    changes = queue.changes_since(mark)
    assert changes.report_ids == {a.id, b.id}
    assert changes.last_seq == queue.last_change()
    assert queue.changes_since(changes.last_seq).any is False


def test_report_number_forms() -> None:
    assert normalise_report_number(" 2026-15 ") == "112-2026-000015"
    assert normalise_report_number("2026/15") == "112-2026-000015"
    assert normalise_report_number("112-2026-15") == "112-2026-000015"
    assert normalise_report_number("abc") == "abc"
