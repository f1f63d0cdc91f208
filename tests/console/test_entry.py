"""Quick entry (F2): every path from a call to a saved report, a joined call or a logged call."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from textual import events
from textual.widgets import Input

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.cli import main
from siaga_tui.core.db import Database
from siaga_tui.core.errors import StorageError
from siaga_tui.core.fields import FIELD_LIMITS
from siaga_tui.core.models import CALL, REPORT
from siaga_tui.core.text import clean_text
from siaga_tui.screens.detail import DetailScreen
from siaga_tui.screens.entry import EntryScreen
from siaga_tui.screens.entry_draft import EntryDraft
from siaga_tui.services.calls import CallService
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.widgets.bounded_text_area import BoundedTextArea
from siaga_tui.widgets.caller_history import CallerHistoryView
from siaga_tui.widgets.category_picker import CategoryPicker
from siaga_tui.widgets.duplicate_offer import DuplicateOffer
from siaga_tui.widgets.leave_confirm import LeaveConfirm
from tests.conftest import FROZEN_NOW, MutableClock
from tests.console.conftest import settle

SIZE = (120, 40)
PHONE = "0812 3456 7890"
E164 = "+6281234567890"


def console(db: Database, clock: MutableClock, lang: str = "id") -> SiagaApp:
    return make_app(db, operator="ani", lang=lang, clock=clock)


async def open_entry(pilot) -> EntryScreen:  # type: ignore[no-untyped-def]
    await pilot.press("f2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, EntryScreen)
    return screen


async def fill(
    pilot,
    screen: EntryScreen,
    *,
    key: str = "3",
    phone: str = PHONE,  # type: ignore[no-untyped-def]
    kelurahan: str = "Tikala Baru",
    address: str = "Jl. Sam Ratulangi",
    description: str = "Rumah terbakar",
) -> None:
    """Pick with one key, then put text into each field (typing is tested once, below)."""
    await pilot.press(key)
    screen.query_one("#phone", Input).value = phone
    screen.query_one("#kelurahan", Input).value = kelurahan
    screen.query_one("#address", Input).value = address
    screen.query_one(BoundedTextArea).load_text(description)
    screen.query_one(BoundedTextArea).focus()
    await settle(pilot)


def field_value(screen: EntryScreen, name: str) -> str:
    if name == "description":
        return screen.query_one(BoundedTextArea).text
    return screen.query_one(f"#{name}", Input).value


def error_text(screen: EntryScreen, name: str) -> str:
    label = screen.query_one(f"#{name}-error")
    return str(label.render()) if label.display else ""


def reports_in(db: Database) -> list[dict]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute(sa.select(REPORT).order_by(REPORT.c.id)).mappings()]


def calls_in(db: Database) -> list[dict]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute(sa.select(CALL).order_by(CALL.c.id)).mappings()]


def notices(app: SiagaApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_one_key_typed_fields_and_ctrl_s_file_a_report(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        assert app.focused is screen.query_one(CategoryPicker)
        opened = clock()
        clock.advance(seconds=75)
        await pilot.press("3")
        assert app.focused is screen.query_one("#phone")
        await pilot.press(*PHONE, "tab", *"tikala b", "tab")
        assert field_value(screen, "kelurahan") == "Tikala Baru (Tikala)"
        assert app.focused is screen.query_one("#address")  # taking the suggestion moves on
        await pilot.press(*"Jl. Sam Ratulangi", "tab", *"Rumah terbakar")
        await pilot.press("ctrl+s")
        await settle(pilot)
        [report] = reports_in(db)
        assert report["category"] == "kebakaran"
        assert report["caller_phone"] == E164
        assert report["kelurahan_code"] == app.catalogue.resolve_kelurahan("Tikala Baru").code
        assert report["address"] == "Jl. Sam Ratulangi"
        assert report["description"] == "Rumah terbakar"
        assert report["operator"] == "ani"
        # The call began when the form opened, not when it was saved.
        assert report["call_answered_at"].replace(tzinfo=None) == opened.replace(tzinfo=None)
        assert any(report["number"] in message for message in notices(app))
        # A clean form for the next call, its timer started again, the picker focused.
        assert screen.draft.is_empty
        assert screen.opened_at == clock()
        assert app.focused is screen.query_one(CategoryPicker)


@pytest.mark.parametrize(
    ("changes", "field", "reason_key"),
    [
        ({"key": "tab"}, "category", ""),
        ({"phone": "0812abc"}, "phone", "0812abc"),
        ({"kelurahan": "Atlantis"}, "kelurahan", "Atlantis"),
        ({"description": ""}, "description", ""),
    ],
    ids=["no-category", "bad-phone", "unknown-kelurahan", "empty-description"],
)
async def test_each_invalid_field_is_marked_and_focused_with_the_text_kept(
    db: Database, clock: MutableClock, changes: dict[str, str], field: str, reason_key: str
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await fill(pilot, screen, **changes)
        typed = screen.draft
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert reports_in(db) == []
        assert error_text(screen, field), f"no reason shown under {field}"
        assert reason_key in error_text(screen, field) or not reason_key
        widget = (
            screen.query_one(CategoryPicker)
            if field == "category"
            else screen.query_one(f"#{field}")
        )
        assert widget.has_class("-invalid")
        assert app.focused is widget
        assert screen.draft == typed  # nothing the operator typed is lost
        others = [
            name for name in ("category", "phone", "kelurahan", "description") if name != field
        ]
        assert all(not error_text(screen, name) for name in others)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("id", "Tidak ada kelurahan yang cocok dengan “Atlantis”."),
        ("en", "No kelurahan matches “Atlantis”."),
    ],
)
async def test_a_kelurahan_nothing_resembles_is_said_plainly_with_the_text_kept(
    db: Database, clock: MutableClock, lang: str, said: str
) -> None:
    app = console(db, clock, lang)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await fill(pilot, screen, kelurahan="")
        screen.query_one("#kelurahan", Input).focus()
        await pilot.press(*"Atlantis")
        await pilot.press("ctrl+s")
        await settle(pilot)
        reason = error_text(screen, "kelurahan")
        assert reason.startswith(said), reason
        assert "Mungkin" not in reason and "Did you mean" not in reason and ": -" not in reason
        assert field_value(screen, "kelurahan") == "Atlantis"  # as typed, on screen
        assert app.focused is screen.query_one("#kelurahan")
        assert reports_in(db) == []


async def test_every_invalid_field_at_once_focuses_the_first(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("tab")  # past the picker without a category
        # With no category yet, Tab from the phone goes back to the picker; Tab again
        # goes on to the first empty field.
        await pilot.press(*"12ab", "tab", "tab", *"Atlantis", "tab")
        await pilot.press("ctrl+s")
        await settle(pilot)
        for name in ("category", "phone", "kelurahan", "description"):
            assert error_text(screen, name), name
        assert app.focused is screen.query_one(CategoryPicker)
        # Fixing a field clears its mark; picking the category moves on to the phone.
        await pilot.press("4")
        assert not error_text(screen, "category")
        assert error_text(screen, "phone")
        assert field_value(screen, "phone") == "12ab"


def _existing_report(db: Database, clock: MutableClock, *, phone: str | None = None) -> str:
    service = ReportService(db, operator="budi", clock=clock)
    saved = service.create_report(
        NewReport(
            category="kebakaran", kelurahan="Tikala Baru", description="Asap tebal", phone=phone
        )
    )
    return saved.number


async def test_a_possible_duplicate_is_offered_and_the_call_attached(
    db: Database, clock: MutableClock
) -> None:
    number = _existing_report(db, clock)
    clock.advance(minutes=10)
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await fill(pilot, screen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DuplicateOffer)
        await pilot.press("1")
        await settle(pilot)
        [report] = reports_in(db)
        calls = calls_in(db)
        assert len(calls) == 2
        assert calls[-1]["report_id"] == report["id"]
        assert calls[-1]["caller_phone"] == E164
        assert calls[-1]["operator"] == "ani"
        assert app.screen is screen and screen.draft.is_empty
        assert any(number in message for message in notices(app))


async def test_an_attached_caller_keeps_what_they_said(
    db: Database, clock: MutableClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "Two people are trapped" from the second caller reaches the report: in its calls,
    its history, the detail screen and ``show --json``."""
    number = _existing_report(db, clock)
    clock.advance(minutes=5)
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await fill(
            pilot,
            screen,
            phone="0813 1111 2222",
            address="Gang Mawar 3",
            description="Dua orang terjebak di lantai dua",
        )
        screen.query_one("#caller_name", Input).value = "Ibu Rina"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DuplicateOffer)
        await pilot.press("1")
        await settle(pilot)
        joined = calls_in(db)[-1]
        assert (joined["caller_phone"], joined["caller_name"]) == ("+6281311112222", "Ibu Rina")
        assert (joined["address"], joined["description"]) == (
            "Gang Mawar 3",
            "Dua orang terjebak di lantai dua",
        )
        [report] = reports_in(db)
        assert report["description"] == "Asap tebal"  # the first caller's words stay the report's
        await app.push_screen(DetailScreen(report["id"]))
        await settle(pilot)
        calls = str(app.screen.query_one("#detail-calls").render())
        assert "0813-1111-2222 · Ibu Rina" in calls
        assert "Gang Mawar 3" in calls and "Dua orang terjebak di lantai dua" in calls
        history = str(app.screen.query_one("#detail-history").render())
        assert "Dua orang terjebak di lantai dua" in history and "Ibu Rina" in history
    with pytest.raises(SystemExit) as done:
        main(["--db", str(db.engine.url.database), "--operator", "ani", "show", number, "--json"])
    assert done.value.code in (0, None)
    shown = json.loads(capsys.readouterr().out)
    said = shown["calls"][-1]
    assert said["description"] == "Dua orang terjebak di lantai dua"
    assert said["address"] == "Gang Mawar 3" and said["caller_name"] == "Ibu Rina"
    assert shown["events"][-1]["details"]["description"] == "Dua orang terjebak di lantai dua"


async def test_a_possible_duplicate_can_be_declined(db: Database, clock: MutableClock) -> None:
    _existing_report(db, clock, phone=PHONE)
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await fill(pilot, screen, key="a", kelurahan="Bahu")  # same caller, other incident
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DuplicateOffer)
        await pilot.press("b")
        await settle(pilot)
        picked = app.catalogue.category_by_hotkey("a")
        assert picked is not None
        assert [r["category"] for r in reports_in(db)] == ["kebakaran", picked.code]
        assert screen.draft.is_empty


async def test_going_back_from_the_offer_keeps_the_form(db: Database, clock: MutableClock) -> None:
    _existing_report(db, clock)
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await fill(pilot, screen)
        typed = screen.draft
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.draft == typed
        assert len(reports_in(db)) == 1


@pytest.mark.parametrize(
    ("key", "disposition"),
    [("f5", "iseng"), ("f6", "hening"), ("f7", "informasi"), ("f8", "salah_sambung")],
)
async def test_a_call_that_is_no_report_is_logged_with_one_key(
    db: Database, clock: MutableClock, key: str, disposition: str
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("tab")
        screen.query_one("#phone", Input).value = PHONE
        await pilot.press(key)
        await settle(pilot)
        [call] = calls_in(db)
        assert call["disposition"] == disposition
        assert call["caller_phone"] == E164
        assert call["report_id"] is None
        assert reports_in(db) == []
        assert screen.draft.is_empty


async def test_a_silent_call_needs_no_number(db: Database, clock: MutableClock) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_entry(pilot)
        await pilot.press("f6")
        await settle(pilot)
        [call] = calls_in(db)
        assert call["disposition"] == "hening" and call["caller_phone"] is None


async def test_the_callers_history_and_a_prank_warning_show_while_typing(
    db: Database, clock: MutableClock
) -> None:
    calls = CallService(db, operator="budi", clock=clock)
    for _ in range(3):
        calls.log_call("iseng", phone=PHONE)
    number = _existing_report(db, clock, phone=PHONE)
    app = console(db, clock, lang="en")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("3")
        screen.query_one("#phone", Input).value = PHONE
        await settle(pilot)
        view = screen.query_one(CallerHistoryView)
        shown = str(view.render())
        assert "WARNING: repeat prank caller (3 prank calls)" in shown
        assert number in shown
        assert "Prank 3" in shown
        assert view.has_class("-prank")
        # An unknown number says so, without a warning.
        await pilot.press("backspace")  # typing on changes the number
        screen.query_one("#phone", Input).value = "081298765432"
        await settle(pilot)
        shown = str(view.render())
        assert "has not called before" in shown and "WARNING" not in shown


async def test_escape_leaves_at_once_when_nothing_was_typed(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_entry(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, (EntryScreen, LeaveConfirm))


async def test_escape_asks_first_when_something_was_typed(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("3", *"0812")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LeaveConfirm)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen and field_value(screen, "phone") == "0812"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, (EntryScreen, LeaveConfirm))


@pytest.mark.parametrize(
    ("failure", "notice"),
    [(StorageError("db_read_only_now"), "Belum tersimpan"), (RuntimeError("boom"), "")],
    ids=["storage-error", "unforeseen"],
)
async def test_a_failed_save_keeps_the_form_for_a_retry(
    db: Database,
    clock: MutableClock,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
    notice: str,
) -> None:
    app = console(db, clock)

    def refuse(data: NewReport) -> None:
        raise failure

    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await fill(pilot, screen)
        typed = screen.draft
        monkeypatch.setattr(app.reports, "create_report", refuse)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen and screen.draft == typed
        assert reports_in(db) == []
        assert notices(app), "the operator is told"
        assert all(notice in message for message in notices(app))
        monkeypatch.undo()
        await pilot.press("ctrl+s")  # not stuck "busy": the retry files it
        await settle(pilot)
        assert len(reports_in(db)) == 1 and screen.draft.is_empty


HOSTILE = "[bold]api[/] [@click=app.quit]x[/] \x1b[2J\x1b]0;judul\x07 [/"


async def test_markup_and_escapes_are_kept_as_plain_text(db: Database, clock: MutableClock) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await fill(pilot, screen, description="")
        area = screen.query_one(BoundedTextArea)
        area.focus()
        area.post_message(events.Paste(HOSTILE))
        address = screen.query_one("#address", Input)
        address.value = ""
        address.post_message(events.Paste("[b]Lorong[/b] [/"))
        await settle(pilot)
        assert area.text == clean_text(
            HOSTILE, multiline=True
        )  # the escape never reaches the screen
        assert address.value == "[b]Lorong[/b] [/"
        await pilot.press("ctrl+s")
        await settle(pilot)
        [report] = reports_in(db)
        assert report["description"].startswith("[bold]api[/] [@click=app.quit]x[/]")
        assert "\x1b" not in report["description"]
        assert report["address"] == "[b]Lorong[/b] [/"
        assert app.is_running


async def test_a_huge_paste_is_cut_to_the_limit_with_a_warning(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await fill(pilot, screen, description="")
        area = screen.query_one(BoundedTextArea)
        area.focus()
        area.post_message(events.Paste("[x] " * 2_500_000))  # 10 MB: cut before it is inserted
        address = screen.query_one("#address", Input)
        address.post_message(events.Paste("J" * 100_000))
        await settle(pilot)
        assert len(area.text) == FIELD_LIMITS["description"]
        assert len(address.value) == FIELD_LIMITS["address"]
        assert str(FIELD_LIMITS["description"]) in error_text(screen, "description")
        assert screen.query_one("#description-error").has_class("-warning")
        assert any(str(FIELD_LIMITS["address"]) in message for message in notices(app))
        await pilot.press("ctrl+s")
        await settle(pilot)
        [report] = reports_in(db)
        assert len(report["description"]) <= FIELD_LIMITS["description"]


async def test_the_entry_screen_speaks_english(db: Database, clock: MutableClock) -> None:
    app = console(db, clock, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        descriptions = {
            b.binding.action: b.binding.description for b in screen.active_bindings.values()
        }
        assert descriptions["save"] == "Save"
        assert descriptions["log_call('iseng')"] == "Prank"
        assert "Press one key" in str(screen.query_one(CategoryPicker).render())


def test_a_draft_survives_a_round_trip_through_plain_data() -> None:
    draft = EntryDraft(
        opened_at=FROZEN_NOW,
        category="kebakaran",
        phone=PHONE,
        kelurahan="Tikala",
        address="[b]x[/b]",
        description="baris 1\nbaris 2",
    )
    assert EntryDraft.from_dict(draft.to_dict()) == draft
    assert EntryDraft.from_dict({**draft.to_dict(), "unknown": 1}) == draft
    empty = EntryDraft(opened_at=FROZEN_NOW)
    assert empty.is_empty and not draft.is_empty
    assert replace(empty, phone="  ").is_empty
    assert draft.to_report().answered_at == FROZEN_NOW
    assert EntryDraft.from_dict(draft.to_dict()).opened_at + timedelta(0) == FROZEN_NOW


def test_last_call_id_moves_with_each_logged_call(db: Database, clock: MutableClock) -> None:
    calls = CallService(db, operator="ani", clock=clock)
    assert calls.last_call_id() == 0
    first = calls.log_call("hening")
    assert calls.last_call_id() == first
    ReportService(db, operator="ani", clock=clock).create_report(
        NewReport(category="kebakaran", kelurahan="Tikala Baru", description="Api")
    )
    assert calls.last_call_id() > first


async def test_coming_back_to_an_untouched_form_restarts_the_call_timer(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("f3")
        await settle(pilot)
        clock.advance(minutes=5)
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen is screen or isinstance(app.screen, EntryScreen)
        assert app.screen.opened_at == clock()  # type: ignore[attr-defined]


async def test_a_fast_typist_puts_the_number_after_the_category_key_in_the_phone(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        # Keys queued at once, as a burst: the category key must move focus before the rest.
        for key in ("3", "0", "8", "1", "2"):
            app.post_message(events.Key(key, key))
        await settle(pilot)
        assert screen.query_one(CategoryPicker).selected == "kebakaran"
        assert field_value(screen, "phone") == "0812"


async def test_keeping_the_draft_while_the_form_is_being_built_does_not_crash(
    db: Database, clock: MutableClock
) -> None:
    """The draft timer can fire between the form screen's mount and its fields' mount."""
    app = console(db, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        await screen.query_one(CategoryPicker).remove()  # as when the form is half built
        app.keep_draft()
        await settle(pilot)
        assert app.is_running
