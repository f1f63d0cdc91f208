"""The softphone tied to the database, with a real baresip and SIPp callers."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

from siaga_tui.core.db import Database
from siaga_tui.core.errors import SiagaError, StorageError
from siaga_tui.services.baresip import CallGone, parse_phone_address
from siaga_tui.services.softphone import Softphone
from siaga_tui.services.telephony import PhoneCallView, TelephonyService
from tests.telephony.rig import Baresip, PhoneRig, wait_for


class Recorder:
    """A listener that keeps everything the softphone told it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.links: list[tuple[bool, str | None]] = []
        self.ringing: list[PhoneCallView] = []
        self.answered: list[PhoneCallView] = []
        self.ended: list[PhoneCallView] = []
        self.callbacks: list[tuple[str, str, int]] = []
        self.errors: list[SiagaError] = []
        self.recorded: list[tuple[PhoneCallView, bool]] = []
        self.unrecorded: list[tuple[PhoneCallView, SiagaError]] = []

    def phone_link(self, up: bool, reason: str | None) -> None:
        self.links.append((up, reason))

    def call_ringing(self, call: PhoneCallView) -> None:
        self.ringing.append(call)

    def call_recorded(self, call: PhoneCallView, late: bool) -> None:
        self.recorded.append((call, late))

    def call_unrecorded(self, call: PhoneCallView, error: SiagaError) -> None:
        self.unrecorded.append((call, error))

    def call_answered(self, call: PhoneCallView) -> None:
        self.answered.append(call)

    def call_ended(self, call: PhoneCallView) -> None:
        self.ended.append(call)

    def callback_done(self, key: str, outcome: str, callback_id: int) -> None:
        self.callbacks.append((key, outcome, callback_id))

    def phone_failed(self, error: SiagaError) -> None:
        self.errors.append(error)

    @property
    def up(self) -> bool:
        return bool(self.links) and self.links[-1][0]


def connect(
    db: Database, phone: Baresip, *, operator: str = "sari", dial: str | None = None
) -> tuple[Softphone, Recorder]:
    recorder = Recorder()
    address = parse_phone_address(phone.url)
    if dial:
        address = replace(address, dial=dial)
    softphone = Softphone(address, TelephonyService(db, operator=operator), recorder, retry=0.2)
    softphone.start()
    assert wait_for(lambda: recorder.up), recorder.links
    return softphone, recorder


def test_a_call_answered_from_the_position_has_the_phones_moments(
    db: Database, phone_rig: PhoneRig
) -> None:
    phone = phone_rig.baresip()
    softphone, seen = connect(db, phone)
    try:
        caller = phone_rig.call(phone, hold_ms=300)
        assert wait_for(lambda: seen.ringing)
        ringing = seen.ringing[0]
        assert ringing.caller_phone == "+6281234567890"
        assert ringing.number_shown == "0812-3456-7890"
        telephony = TelephonyService(db, operator="x")
        assert wait_for(
            lambda: [c.system_call_id for c in telephony.ringing()] == [ringing.system_call_id]
        )
        softphone.answer(ringing.system_call_id)
        assert wait_for(lambda: seen.answered)
        assert caller.wait() == 0  # SIPp got its 200 OK, sent BYE and got that answered
        assert "SIP/2.0 200 OK" in caller.messages()
        assert wait_for(lambda: seen.ended)
    finally:
        softphone.stop()
    call = TelephonyService(db, operator="x").get(ringing.system_call_id)
    assert call.outcome == "answered"
    assert call.position == "operator1"
    assert (
        call.offered_at is not None and call.answered_at is not None and call.ended_at is not None
    )
    assert call.offered_at <= call.answered_at <= call.ended_at
    assert call.answered_at == seen.answered[0].answered_at
    assert TelephonyService(db, operator="x").ringing() == []


def test_a_caller_who_hangs_up_before_the_answer_goes_onto_the_callback_list(
    db: Database, phone_rig: PhoneRig
) -> None:
    phone = phone_rig.baresip()
    softphone, seen = connect(db, phone)
    try:
        caller = phone_rig.cancel(phone, caller="0431864444", ring_ms=300)
        assert caller.wait() == 0  # CANCEL, 200, 487, ACK
        assert wait_for(lambda: seen.ended)
    finally:
        softphone.stop()
    assert seen.ended[0].outcome == "abandoned"
    items = TelephonyService(db, operator="x").callback_list()
    assert [(i.kind, i.phone) for i in items] == [("abandoned", "+62431864444")]


def test_two_calls_ring_at_once_at_two_positions(db: Database, phone_rig: PhoneRig) -> None:
    first, second = phone_rig.baresip("position1"), phone_rig.baresip("position2")
    phone1, seen1 = connect(db, first, operator="sari")
    phone2, seen2 = connect(db, second, operator="budi")
    try:
        call1 = phone_rig.call(first, caller="081234567890", hold_ms=300, name="c1")
        call2 = phone_rig.call(second, caller="085298765432", hold_ms=300, name="c2")
        telephony = TelephonyService(db, operator="board")
        assert wait_for(lambda: len(telephony.ringing()) == 2)
        assert {c.caller_phone for c in telephony.ringing()} == {"+6281234567890", "+6285298765432"}
        assert wait_for(lambda: seen1.ringing and seen2.ringing)
        phone2.answer(seen2.ringing[0].system_call_id)
        phone1.answer(seen1.ringing[0].system_call_id)
        assert call1.wait() == 0 and call2.wait() == 0
        assert wait_for(lambda: seen1.ended and seen2.ended)
    finally:
        phone1.stop()
        phone2.stop()
    one = TelephonyService(db, operator="x").get(seen1.ringing[0].system_call_id)
    two = TelephonyService(db, operator="x").get(seen2.ringing[0].system_call_id)
    assert (one.caller_phone, one.outcome) == ("+6281234567890", "answered")
    assert (two.caller_phone, two.outcome) == ("+6285298765432", "answered")


def test_two_calls_ringing_on_one_softphone_each_is_answered_exactly_and_talking(
    db: Database, phone_rig: PhoneRig
) -> None:
    """baresip 1.0.0's ``accept`` alone answers nothing here (the other ringing call's hold
    fails) and then the newest call; each of the two must be answered when chosen,
    with sound both ways (``a=sendrecv``), the older one first."""
    phone = phone_rig.baresip()
    softphone, seen = connect(db, phone)
    try:
        older = phone_rig.call(phone, caller="081234567890", hold_ms=300, name="older")
        assert wait_for(lambda: len(seen.ringing) == 1)
        newer = phone_rig.call(phone, caller="085298765432", hold_ms=300, name="newer")
        assert wait_for(lambda: len(seen.ringing) == 2)
        first_id, second_id = (c.system_call_id for c in seen.ringing)
        assert softphone.ringing_ids() == [first_id, second_id]
        softphone.answer(first_id)  # not baresip's current call (that is the newer)
        assert wait_for(lambda: seen.answered)
        assert [c.system_call_id for c in seen.answered] == [first_id]
        assert older.wait() == 0
        assert newer.process.poll() is None  # still ringing
        assert "SIP/2.0 200" not in newer.messages()
        softphone.answer(second_id)  # it carried the hold mark: answered talking all the same
        assert newer.wait() == 0
        assert wait_for(lambda: len(seen.ended) == 2)
    finally:
        softphone.stop()
    for run in (older, newer):
        answer = run.messages().split("SIP/2.0 200 Answering", 1)[1].split("BYE ", 1)[0]
        assert "a=sendrecv" in answer
    assert [c.system_call_id for c in seen.answered] == [first_id, second_id]
    assert [(c.caller_phone, c.outcome) for c in seen.ended] == [
        ("+6281234567890", "answered"),
        ("+6285298765432", "answered"),
    ]


def test_answering_a_third_call_holds_the_one_talking_and_leaves_the_ringing_one(
    db: Database, phone_rig: PhoneRig
) -> None:
    """On a call, two more ring; the newest is answered: the call talking is put on hold
    (a re-INVITE, sendonly, as baresip's own accept does), the other one rings on."""
    phone = phone_rig.baresip()
    softphone, seen = connect(db, phone)
    try:
        talking = phone_rig.call(phone, caller="081234567890", hold_ms=300, held=True, name="a")
        assert wait_for(lambda: len(seen.ringing) == 1)
        softphone.answer(seen.ringing[0].system_call_id)
        assert wait_for(lambda: seen.answered)
        waiting = phone_rig.cancel(phone, caller="0431864444", ring_ms=2500, name="b")
        assert wait_for(lambda: len(seen.ringing) == 2)
        taken = phone_rig.call(phone, caller="085298765432", hold_ms=1500, name="c")
        assert wait_for(lambda: len(seen.ringing) == 3)
        softphone.answer(seen.ringing[2].system_call_id)
        assert wait_for(lambda: len(seen.answered) == 2)
        assert talking.wait() == 0  # held (re-INVITE answered), then hung up
        assert taken.wait() == 0
        assert waiting.wait() == 0  # never answered: CANCEL, 487
        assert wait_for(lambda: len(seen.ended) == 3)
    finally:
        softphone.stop()
    hold = talking.messages().split("INVITE sip:081234567890", 1)[1].split("ACK ", 1)[0]
    assert "a=sendonly" in hold
    answer = taken.messages().split("SIP/2.0 200 Answering", 1)[1].split("BYE ", 1)[0]
    assert "a=sendrecv" in answer
    assert "SIP/2.0 200 Answering" not in waiting.messages()
    assert {c.caller_phone: c.outcome for c in seen.ended} == {
        "+6281234567890": "answered",
        "+6285298765432": "answered",
        "+62431864444": "abandoned",
    }


def test_two_calls_ringing_on_one_softphone_the_older_is_rejected_exactly(
    db: Database, phone_rig: PhoneRig
) -> None:
    """baresip 1.0.0's bare ``hangup`` ends the newest call; hanging up the older one
    rejects that one (486) and the newer rings on, to be answered."""
    phone = phone_rig.baresip()
    softphone, seen = connect(db, phone)
    try:
        older = phone_rig.rejected(phone, caller="081234567890", name="older")
        assert wait_for(lambda: len(seen.ringing) == 1)
        newer = phone_rig.call(phone, caller="085298765432", hold_ms=300, name="newer")
        assert wait_for(lambda: len(seen.ringing) == 2)
        older_id, newer_id = (c.system_call_id for c in seen.ringing)
        softphone.hang_up(older_id)
        assert older.wait() == 0  # 486, ACK
        assert wait_for(lambda: seen.ended)
        assert newer.process.poll() is None  # still ringing
        assert softphone.ringing_ids() == [newer_id]
        softphone.answer(newer_id)
        assert newer.wait() == 0
        assert wait_for(lambda: len(seen.ended) == 2)
    finally:
        softphone.stop()
    assert "SIP/2.0 486" in older.messages()
    assert [(c.caller_phone, c.outcome) for c in seen.ended] == [
        ("+6281234567890", "abandoned"),
        ("+6285298765432", "answered"),
    ]


def test_a_call_that_ended_is_not_answered_in_its_place(db: Database, phone_rig: PhoneRig) -> None:
    """Answering a call that no longer rings refuses (CallGone) and answers no other."""
    phone = phone_rig.baresip()
    softphone, seen = connect(db, phone)
    try:
        gone = phone_rig.cancel(phone, caller="081234567890", ring_ms=200, name="gone")
        assert wait_for(lambda: seen.ringing)
        gone_id = seen.ringing[0].system_call_id
        assert gone.wait() == 0
        assert wait_for(lambda: seen.ended)
        ringing = phone_rig.cancel(phone, caller="085298765432", ring_ms=1500, name="ringing")
        assert wait_for(lambda: len(seen.ringing) == 2)
        with pytest.raises(CallGone):
            softphone.answer(gone_id)
        assert ringing.wait() == 0  # never answered: CANCEL, 487
        assert wait_for(lambda: len(seen.ended) == 2)
    finally:
        softphone.stop()
    assert seen.answered == []


def test_a_callback_dialled_through_baresip_reaches_the_caller(
    db: Database, phone_rig: PhoneRig
) -> None:
    phone = phone_rig.baresip()
    far_end = phone_rig.answerer(ring_ms=200)
    softphone, seen = connect(db, phone, dial=f"sip:{{number}}@127.0.0.1:{far_end.port}")
    telephony = TelephonyService(db, operator="sari")
    try:
        assert phone_rig.cancel(phone, ring_ms=200).wait() == 0
        assert wait_for(telephony.callback_list)
        item = telephony.callback_list()[0]
        assert item.dialable == "081234567890"
        softphone.call_back(item)
        assert wait_for(lambda: seen.callbacks)
        assert seen.callbacks[0][:2] == (item.key, "reached")
        call_id = softphone.callback_call_id()
        assert call_id is not None
        softphone.hang_up(call_id)
        assert far_end.wait() == 0  # INVITE answered, BYE from the position answered
        assert "INVITE sip:081234567890@127.0.0.1" in far_end.messages()
    finally:
        softphone.stop()
    assert telephony.callback_list() == []


def test_a_busy_callback_is_recorded_and_stays_on_the_list(
    db: Database, phone_rig: PhoneRig
) -> None:
    phone = phone_rig.baresip()
    far_end = phone_rig.answerer(busy=True)
    softphone, seen = connect(db, phone, dial=f"sip:{{number}}@127.0.0.1:{far_end.port}")
    telephony = TelephonyService(db, operator="sari")
    try:
        assert phone_rig.cancel(phone, ring_ms=200).wait() == 0
        assert wait_for(telephony.callback_list)
        softphone.call_back(telephony.callback_list()[0])
        assert wait_for(lambda: seen.callbacks)
    finally:
        softphone.stop()
    assert seen.callbacks[0][1] == "busy"
    [item] = telephony.callback_list()
    assert (item.attempts, item.last_outcome) == (1, "busy")


def test_baresip_killed_mid_call_drops_the_call_and_the_link_comes_back(
    db: Database, phone_rig: PhoneRig
) -> None:
    phone = phone_rig.baresip()
    softphone, seen = connect(db, phone)
    try:
        caller = phone_rig.call(phone, hold_ms=20000)
        assert wait_for(lambda: seen.ringing)
        softphone.answer(seen.ringing[0].system_call_id)
        assert wait_for(lambda: seen.answered)
        phone.kill()
        assert wait_for(lambda: not seen.up)
        assert wait_for(lambda: seen.ended)
        assert seen.ended[0].outcome == "dropped"
        caller.kill()
        phone.start()  # the same ports: the console finds it again by itself
        assert wait_for(lambda: seen.up)
        again = phone_rig.call(phone, hold_ms=200, caller="085298765432")
        assert wait_for(lambda: len(seen.ringing) == 2)
        softphone.answer(seen.ringing[1].system_call_id)
        assert again.wait() == 0
    finally:
        softphone.stop()
    assert [up for up, _ in seen.links] == [True, False, True]


def test_a_ring_the_database_refuses_for_now_rings_first_is_said_once_and_written_in_order(
    db: Database, phone_rig: PhoneRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listener hears of the ring from the event, before any write; the ring's write
    is refused three times (locked): said once, tried again, and the answer and hang-up
    written after it, in their order, each with the row's id."""
    tries: list[str] = []
    ring = TelephonyService.ring

    def refusing(self: TelephonyService, *args: Any, **kwargs: Any) -> PhoneCallView:
        tries.append(args[0])
        if len(tries) <= 3:
            raise StorageError("db_locked")
        return ring(self, *args, **kwargs)

    monkeypatch.setattr(TelephonyService, "ring", refusing)
    phone = phone_rig.baresip()
    softphone, seen = connect(db, phone)
    softphone.write_retry = 0.05
    try:
        caller = phone_rig.call(phone, hold_ms=300)
        assert wait_for(lambda: seen.ringing)
        softphone.answer(seen.ringing[0].system_call_id)
        assert caller.wait() == 0
        assert wait_for(lambda: seen.ended)
        assert wait_for(lambda: softphone.unwritten() == 0)
    finally:
        softphone.stop()
    assert seen.ringing[0].id is None and seen.ringing[0].number_shown == "0812-3456-7890"
    assert len(tries) == 4
    assert [(call.system_call_id, error.key) for call, error in seen.unrecorded] == [
        (seen.ringing[0].system_call_id, "db_locked")
    ]
    call = TelephonyService(db, operator="x").get(seen.ringing[0].system_call_id)
    # Ring (after it had been refused), answer, hang-up: each with the row's id.
    assert [(c.id, late) for c, late in seen.recorded] == [
        (call.id, True),
        (call.id, False),
        (call.id, False),
    ]
    assert seen.recorded[-1][0].outcome == "answered"
    assert call.outcome == "answered"
    assert call.offered_at == seen.ringing[0].offered_at
    assert call.answered_at == seen.answered[0].answered_at
    assert call.ended_at == seen.ended[0].ended_at
    assert seen.errors == []
