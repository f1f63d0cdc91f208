"""The console with a real phone: a SIPp caller rings baresip, the console answers it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from textual.widgets import Input

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.db import Database
from siaga_tui.core.errors import StorageError
from siaga_tui.core.models import CALL, PHONE_CALL, REPORT
from siaga_tui.screens.callbacks import CallbacksScreen
from siaga_tui.screens.entry import EntryScreen
from siaga_tui.services.baresip import parse_phone_address
from siaga_tui.services.telephony import PhoneCallView, TelephonyService
from siaga_tui.widgets.bounded_text_area import BoundedTextArea
from siaga_tui.widgets.phone_bar import PhoneBar
from siaga_tui.widgets.status_header import StatusHeader
from tests.console.conftest import notices, settle
from tests.telephony.conftest import phone_rig  # noqa: F401  (the fixture)
from tests.telephony.rig import Baresip, PhoneRig

SIZE = (120, 40)


async def until(pilot: object, condition: Callable[[], object], timeout: float = 15.0) -> bool:
    """Let the console run until ``condition`` holds (a wait with a deadline, no timing assert)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        await asyncio.sleep(0.02)
        await pilot.pause()  # type: ignore[attr-defined]
    return bool(condition())


def bar_text(app: SiagaApp) -> str:
    bar = app.screen.query_one(PhoneBar)
    return str(bar.render()) if bar.display else ""


def header_phone(app: SiagaApp) -> str:
    label = app.screen.query_one(StatusHeader).query_one("#header-phone")
    return str(label.render()) if label.display else ""


def form_phone(app: SiagaApp) -> str | None:
    """The phone number in the entry form on screen; None until the form is composed."""
    if not isinstance(app.screen, EntryScreen):
        return None
    found = app.screen.query("#phone").results(Input)
    return next((field.value for field in found), None)


def phone_console(db: Database, rig: PhoneRig) -> tuple[Baresip, SiagaApp]:
    """A softphone of its own and the console connected to it (``--phone``)."""
    phone = rig.baresip()
    return phone, make_app(db, operator="sari", phone=parse_phone_address(phone.url))


async def answer_with_f12(pilot: object, app: SiagaApp, number: str) -> EntryScreen:
    """``number`` rings on the bar; F12 answers it: the entry form, with the number."""
    assert await until(pilot, lambda: number in bar_text(app))
    assert "F12" in bar_line(app, number)
    await pilot.press("f12")  # type: ignore[attr-defined]
    assert await until(pilot, lambda: form_phone(app) == number)
    entry = app.screen
    assert isinstance(entry, EntryScreen)
    return entry


async def file_a_fire(pilot: object, entry: EntryScreen) -> None:
    """Fill the open form as a fire at Tikala Baru and save it (the form empties)."""
    await pilot.press("3")  # type: ignore[attr-defined]  # kebakaran
    entry.query_one("#kelurahan", Input).value = "Tikala Baru"
    entry.query_one(BoundedTextArea).load_text("Rumah terbakar")
    await pilot.press("ctrl+s")  # type: ignore[attr-defined]
    await settle(pilot)
    assert await until(pilot, lambda: entry.draft.is_empty)


async def test_a_call_rings_is_answered_with_one_key_and_filed_with_the_phones_times(
    db: Database,
    phone_rig: PhoneRig,  # noqa: F811
) -> None:
    phone, app = phone_console(db, phone_rig)
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: app.phone_desk.state.link is True)
        # The header hears of it through a signal, at its next turn (not at once).
        assert await until(pilot, lambda: "telepon siap" in header_phone(app))
        caller = phone_rig.call(phone, hold_ms=400)
        entry = await answer_with_f12(pilot, app, "0812-3456-7890")
        assert await until(pilot, lambda: caller.process.poll() is not None)
        assert caller.wait() == 0  # SIPp got 200 OK for its INVITE and hung up
        assert "SIP/2.0 200 OK" in caller.messages()
        label = entry.query_one("#phone-call")
        assert await until(pilot, lambda: "menutup telepon" in str(label.render()))
        assert isinstance(app.screen, EntryScreen)  # the form stays open
        await file_a_fire(pilot, entry)
    with db.read() as conn:
        report = conn.execute(sa.select(REPORT)).mappings().one()
        call = conn.execute(sa.select(PHONE_CALL)).mappings().one()
        logged = (
            conn.execute(sa.select(CALL).where(CALL.c.report_id == report["id"])).mappings().one()
        )
    assert call["outcome"] == "answered"
    assert call["logged_call_id"] == logged["id"]
    assert report["call_answered_at"] == call["answered_at"]
    assert logged["answered_at"] == call["answered_at"]
    assert report["caller_phone"] == "+6281234567890"


async def test_a_caller_who_hangs_up_as_the_form_opens_has_the_form_marked_so(
    db: Database,
    phone_rig: PhoneRig,  # noqa: F811
) -> None:
    """The caller hangs up at once after the answer: the hang-up can reach the console
    before the form has taken the call; the form says so all the same."""
    phone, app = phone_console(db, phone_rig)
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: app.phone_desk.state.link is True)
        caller = phone_rig.call(phone, hold_ms=0)
        entry = await answer_with_f12(pilot, app, "0812-3456-7890")
        assert await until(pilot, lambda: caller.process.poll() is not None)
        assert caller.wait() == 0
        label = entry.query_one("#phone-call")
        assert await until(pilot, lambda: "menutup telepon" in str(label.render()))


async def test_an_abandoned_call_is_on_the_callback_list_and_called_back(
    db: Database,
    phone_rig: PhoneRig,  # noqa: F811
) -> None:
    phone = phone_rig.baresip()
    far_end = phone_rig.answerer(ring_ms=200)
    address = parse_phone_address(f"{phone.url}?dial=sip:{{number}}@127.0.0.1:{far_end.port}")
    app = make_app(db, operator="sari", phone=address)
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: app.phone_desk.state.link is True)
        cancel = phone_rig.cancel(phone, ring_ms=300)
        assert await until(pilot, lambda: cancel.process.poll() is not None)
        assert cancel.wait() == 0
        assert await until(pilot, lambda: "1 panggil balik" in header_phone(app))
        await pilot.press("f10")
        assert await until(pilot, lambda: isinstance(app.screen, CallbacksScreen))
        await settle(pilot)
        await pilot.press("c")
        assert await until(pilot, lambda: form_phone(app) == "0812-3456-7890", timeout=20)
        app.phone_desk.hang_up()
        assert await until(pilot, lambda: far_end.process.poll() is not None, timeout=20)
        assert far_end.wait() == 0
    assert TelephonyService(db, operator="x").callback_list() == []


def phone_outcomes(db: Database) -> dict[str | None, str | None]:
    with db.read() as conn:
        rows = conn.execute(sa.select(PHONE_CALL.c.caller_phone, PHONE_CALL.c.outcome)).all()
    return {row.caller_phone: row.outcome for row in rows}


def bar_line(app: SiagaApp, number: str) -> str:
    """The ringing bar's line for ``number`` ("" when it has none)."""
    return next((line for line in bar_text(app).splitlines() if number in line), "")


@pytest.mark.parametrize("keys", [("f12",), ("f11", "f12")], ids=["longest", "f11-second"])
async def test_two_calls_ringing_here_f12_answers_exactly_the_one_it_marks(
    db: Database,
    phone_rig: PhoneRig,  # noqa: F811
    keys: tuple[str, ...],
) -> None:
    """Two callers ring this softphone. F12 alone answers the one ringing longest, F11
    first moves F12 to the second; the other caller rings on and gives up (CANCEL, 487,
    never a 200). baresip 1.0.0's bare ``accept`` answered nothing here (it only put the
    other call on hold), then the newest call."""
    numbers = {"first": "0812-3456-7890", "second": "0852-9876-5432"}
    chosen = "first" if keys == ("f12",) else "second"
    phone, app = phone_console(db, phone_rig)
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: app.phone_desk.state.link is True)
        runs = {}
        for name, number in numbers.items():
            caller = number.replace("-", "")
            if name == chosen:
                runs[name] = phone_rig.call(phone, caller=caller, hold_ms=400, name=name)
            else:
                runs[name] = phone_rig.cancel(phone, caller=caller, ring_ms=4000, name=name)
            assert await until(pilot, lambda number=number: number in bar_text(app))
        assert "F12" in bar_line(app, numbers["first"])
        assert "F11" in bar_line(app, numbers["second"])
        for key in keys[:-1]:
            await pilot.press(key)
        assert await until(pilot, lambda: "F12" in bar_line(app, numbers[chosen]))
        assert sum("F12" in line for line in bar_text(app).splitlines()) == 1
        await pilot.press(keys[-1])
        assert await until(pilot, lambda: form_phone(app) == numbers[chosen])
        for run in runs.values():
            assert await until(pilot, lambda run=run: run.process.poll() is not None)
            assert run.wait() == 0
        assert "SIP/2.0 200 Answering" in runs[chosen].messages()
        assert "a=sendrecv" in runs[chosen].messages()  # answered talking, not on hold
        other = "second" if chosen == "first" else "first"
        assert "SIP/2.0 200 Answering" not in runs[other].messages()
    assert phone_outcomes(db) == {
        f"+62{numbers[chosen].replace('-', '')[1:]}": "answered",
        f"+62{numbers[other].replace('-', '')[1:]}": "abandoned",
    }


async def test_without_baresip_the_header_says_so_and_the_console_works(
    db: Database,
    phone_rig: PhoneRig,  # noqa: F811
) -> None:
    phone = phone_rig.baresip()
    phone.kill()
    app = make_app(db, operator="sari", phone=parse_phone_address(phone.url))
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: app.phone_desk.state.link is False)
        assert "TIDAK TERHUBUNG" in header_phone(app)
        await pilot.press("f2")
        assert await until(pilot, lambda: isinstance(app.screen, EntryScreen))
        phone.start()
        assert await until(pilot, lambda: "telepon siap" in header_phone(app))


async def test_baresip_killed_mid_call_the_header_says_so_the_form_stays_and_it_reconnects(
    db: Database,
    phone_rig: PhoneRig,  # noqa: F811
) -> None:
    phone, app = phone_console(db, phone_rig)
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: "telepon siap" in header_phone(app))
        caller = phone_rig.call(phone, hold_ms=20000)
        entry = await answer_with_f12(pilot, app, "0812-3456-7890")
        phone.kill()
        assert await until(pilot, lambda: "TIDAK TERHUBUNG" in header_phone(app))
        label = entry.query_one("#phone-call")
        assert await until(pilot, lambda: "terputus" in str(label.render()))
        assert app.screen is entry and entry.query_one("#phone", Input).value == "0812-3456-7890"
        assert "0812-3456-7890" not in bar_text(app)
        caller.kill()
        phone.start()  # the same ports: found again without a key pressed
        assert await until(pilot, lambda: "telepon siap" in header_phone(app))
        again = phone_rig.call(phone, caller="085298765432", hold_ms=300, name="again")
        assert await until(pilot, lambda: "0852-9876-5432" in bar_text(app))
        await pilot.press("f12")
        assert await until(pilot, lambda: again.process.poll() is not None)
        assert again.wait() == 0 and "SIP/2.0 200 Answering" in again.messages()
    assert phone_outcomes(db) == {"+6281234567890": "dropped", "+6285298765432": "answered"}


async def test_a_call_ringing_at_another_position_shows_here(any_db: Database) -> None:
    """On SQLite through the live watch's data_version, on PostgreSQL through LISTEN/NOTIFY."""
    db = any_db
    app = make_app(db, operator="sari")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        TelephonyService(db, operator="pbx").ring("pbx-1", "0431864444", line="112")
        assert await until(pilot, lambda: "(0431) 864444" in bar_text(app))
        assert "di posisi lain" in bar_text(app)
        assert "jalur 112" in bar_text(app)
        TelephonyService(db, operator="pbx").hangup("pbx-1")
        assert await until(pilot, lambda: bar_text(app) == "")
        assert await until(pilot, lambda: "1 panggil balik" in header_phone(app))


async def test_a_caller_id_that_is_no_number_opens_the_form_and_files_without_a_phone(
    db: Database,
) -> None:
    app = make_app(db, operator="sari")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        phone = TelephonyService(db, operator="sari")
        phone.ring("odd-1", "[/bold]sip:warga@voip.example")
        call = phone.answer("odd-1")
        await app.take_phone_call(call)
        await settle(pilot)
        entry = app.screen
        assert isinstance(entry, EntryScreen)
        assert entry.query_one("#phone", Input).value == ""
        assert "[/bold]sip:warga@voip.example" in str(entry.query_one("#phone-call").render())
        await file_a_fire(pilot, entry)
    with db.read() as conn:
        report = conn.execute(sa.select(REPORT)).mappings().one()
    assert report["caller_phone"] is None
    assert report["call_answered_at"] == call.answered_at
    assert TelephonyService(db, operator="x").get("odd-1").logged_call_id is not None


def written_calls(db: Database) -> list[dict[str, object]]:
    with db.read() as conn:
        return [dict(row) for row in conn.execute(sa.select(PHONE_CALL)).mappings().all()]


async def test_the_ringing_number_is_on_screen_before_the_call_is_written(
    db: Database,
    phone_rig: PhoneRig,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database write (a durable commit, possibly behind a lock) is held back: the
    number rings on the bar all the same, straight from baresip's event; the call is
    written once the write may go on, and F12 answers it."""
    release = threading.Event()
    ring = TelephonyService.ring

    def held_ring(self: TelephonyService, *args: Any, **kwargs: Any) -> PhoneCallView:
        release.wait(60)
        return ring(self, *args, **kwargs)

    monkeypatch.setattr(TelephonyService, "ring", held_ring)
    phone, app = phone_console(db, phone_rig)
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: app.phone_desk.state.link is True)
        caller = phone_rig.call(phone, hold_ms=400)
        try:
            assert await until(pilot, lambda: "0812-3456-7890" in bar_text(app))
            assert "F12" in bar_line(app, "0812-3456-7890")
            assert written_calls(db) == []  # still held back
        finally:
            release.set()
        assert await until(pilot, lambda: len(written_calls(db)) == 1)
        await answer_with_f12(pilot, app, "0812-3456-7890")
        assert await until(pilot, lambda: caller.process.poll() is not None)
        assert caller.wait() == 0
        assert await until(pilot, lambda: written_calls(db)[0]["outcome"] == "answered")
    (call,) = written_calls(db)
    assert call["caller_phone"] == "+6281234567890"
    assert call["offered_at"] is not None


async def test_a_call_the_database_cannot_take_yet_rings_is_answered_and_recorded_later(
    db: Database,
    phone_rig: PhoneRig,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every write of the ring fails (the database is locked): the call rings, F12
    answers it and the form opens with the number; the console says once that the call
    is not recorded yet, and records it (ring, then answer) when the database is back,
    linked to the report filed from the form."""
    locked = threading.Event()
    locked.set()
    tries: list[str] = []
    ring = TelephonyService.ring

    def locked_ring(self: TelephonyService, *args: Any, **kwargs: Any) -> PhoneCallView:
        tries.append(args[0])
        if locked.is_set():
            raise StorageError("db_locked")
        return ring(self, *args, **kwargs)

    monkeypatch.setattr(TelephonyService, "ring", locked_ring)
    phone, app = phone_console(db, phone_rig)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert await until(pilot, lambda: app.phone_desk.state.link is True)
        caller = phone_rig.call(phone, hold_ms=20000)
        entry = await answer_with_f12(pilot, app, "0812-3456-7890")
        assert await until(pilot, lambda: len(tries) >= 3)  # it keeps trying
        said = [n for n in notices(app) if "belum tercatat" in n]
        assert len(said) == 1 and "0812-3456-7890" in said[0]
        assert "dikunci proses lain" in said[0]
        assert written_calls(db) == []
        locked.clear()
        assert await until(pilot, lambda: any("kini tercatat" in n for n in notices(app)))
        assert await until(pilot, lambda: entry.draft.phone_call_id is not None)
        (call,) = written_calls(db)
        assert call["caller_phone"] == "+6281234567890"
        assert call["offered_at"] is not None and call["answered_at"] is not None
        assert call["offered_at"] <= call["answered_at"]
        await file_a_fire(pilot, entry)
        caller.kill()
    with db.read() as conn:
        report = conn.execute(sa.select(REPORT)).mappings().one()
        logged = (
            conn.execute(sa.select(CALL).where(CALL.c.report_id == report["id"])).mappings().one()
        )
    (call,) = written_calls(db)
    assert call["logged_call_id"] == logged["id"]
    assert report["call_answered_at"] == call["answered_at"]
