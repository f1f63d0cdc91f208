"""Typing a call as an operator does: in any order, fast, with nothing lost or misplaced.

Issue 13: a number typed first became a category; a kelurahan suggestion taken with
Tab kept focus, so the address went into the kelurahan; a long description typed in a
burst was saved without its end (Ctrl+S ran before the keys were in) while the screen
drew nothing; a second caller could only be joined at the very end.
"""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input

from siaga_tui.core.db import Database
from siaga_tui.screens.entry import EntryScreen
from siaga_tui.widgets.bounded_text_area import BoundedTextArea
from siaga_tui.widgets.category_picker import CategoryPicker
from siaga_tui.widgets.duplicate_offer import DuplicateOffer
from siaga_tui.widgets.possible_duplicates import PossibleDuplicates
from tests.conftest import MutableClock
from tests.console.conftest import settle
from tests.console.test_entry import (
    SIZE,
    _existing_report,
    calls_in,
    console,
    field_value,
    open_entry,
    reports_in,
)

NUMBER = "0857-1234-0000"
E164 = "+6285712340000"


def burst(app, keys: str) -> None:  # type: ignore[no-untyped-def]
    """Queue every key at once, as a terminal delivers a fast typist's or a paste's keys."""
    names = {" ": "space", "-": "minus", "\t": "tab", ".": "full_stop"}
    for character in keys:
        name = names.get(character, character)
        app.post_message(events.Key(name, None if character == "\t" else character))


async def test_the_number_typed_first_stays_the_phone(db: Database, clock: MutableClock) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press(*NUMBER)
        assert field_value(screen, "phone") == NUMBER
        assert screen.query_one(CategoryPicker).selected is None
        # Tab goes back to the category, still one key, then on to the kelurahan.
        await pilot.press("tab")
        assert app.focused is screen.query_one(CategoryPicker)
        await pilot.press("3")
        assert screen.query_one(CategoryPicker).selected == "kebakaran"
        assert app.focused is screen.query_one("#kelurahan")
        assert field_value(screen, "phone") == NUMBER


@pytest.mark.parametrize(
    "keys",
    [
        "3" + NUMBER + "\tTikala Baru\tJl. Sam Ratulangi\tApi besar",  # category first
        NUMBER + "\t3Tikala Baru\tJl. Sam Ratulangi\tApi besar",  # number first
        "3" + NUMBER + "Tikala Baru\tJl. Sam Ratulangi\tApi besar",  # no Tab after the number
    ],
    ids=["category-first", "number-first", "letter-after-number"],
)
@pytest.mark.parametrize("how", ["pressed", "burst"])
async def test_every_order_of_typing_files_the_same_report(
    db: Database, clock: MutableClock, keys: str, how: str
) -> None:
    """Pilot presses (each key read before the next) and one burst of keys at once."""
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        if how == "burst":
            burst(app, keys)
            app.post_message(events.Key("ctrl+s", None))
        else:
            names = {" ": "space", "-": "minus", "\t": "tab", ".": "full_stop"}
            await pilot.press(*(names.get(c, c) for c in keys), "ctrl+s")
        await settle(pilot)
        [report] = reports_in(db)
        assert report["category"] == "kebakaran"
        assert report["caller_phone"] == E164
        assert report["kelurahan_code"] == app.catalogue.resolve_kelurahan("Tikala Baru").code
        assert report["address"] == "Jl. Sam Ratulangi"
        assert report["description"] == "Api besar"
        assert screen.draft.is_empty


async def test_a_key_that_picks_nothing_says_so(db: Database, clock: MutableClock) -> None:
    app = console(db, clock, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("x")
        assert "'x' picks no category" in str(screen.query_one("#category-error").render())
        assert app.focused is screen.query_one(CategoryPicker)
        await pilot.press("G")  # Caps Lock on: still the category's key
        assert (
            screen.query_one(CategoryPicker).selected == app.catalogue.category_by_hotkey("g").code
        )


async def test_taking_a_kelurahan_suggestion_moves_on(db: Database, clock: MutableClock) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("3", *"0812 3456 7890", "tab", *"calaca", "tab")
        assert field_value(screen, "kelurahan") == "Calaca (Wenang)"
        assert app.focused is screen.query_one("#address")
        await pilot.press(*"Jl. Sudirman")
        assert field_value(screen, "address") == "Jl. Sudirman"
        assert field_value(screen, "kelurahan") == "Calaca (Wenang)"
        # Enter takes it as well.
        await pilot.press("shift+tab")
        screen.query_one("#kelurahan", Input).value = "sario tum"
        await pilot.press("enter")
        assert field_value(screen, "kelurahan") == "Sario Tumpaan (Sario)"
        assert app.focused is screen.query_one("#address")


async def test_the_alternatives_offered_are_picked_with_a_key(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("3", "tab", *"tikala")
        hint = str(screen.query_one("#kelurahan-hint").render())
        assert "Tab/Enter: Tikala Kumaraka (Wenang)" in hint
        assert "also: Tikala Baru, Tikala Ares" in hint
        await pilot.press("down")
        assert "Tab/Enter: Tikala Baru (Tikala)" in str(
            screen.query_one("#kelurahan-hint").render()
        )
        await pilot.press("down", "tab")
        assert field_value(screen, "kelurahan") == "Tikala Ares (Tikala)"
        assert app.focused is screen.query_one("#address")


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("tikla baru", ["Tikala Baru (Tikala)", "Tikala Ares (Tikala)"]),
        ("ternate tj", ["Ternate Tanjung (Singkil)", "Ternate Baru (Singkil)"]),
    ],
)
async def test_near_misses_are_offered_closest_first_never_taken_alone(
    db: Database, clock: MutableClock, typed: str, offered: list[str]
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("3", "tab", *typed)
        field = screen.query_one("#kelurahan")
        assert [k.display for k in field.candidates] == offered  # type: ignore[attr-defined]
        assert field_value(screen, "kelurahan") == typed  # nothing taken without a key
        await pilot.press("tab")
        assert field_value(screen, "kelurahan") == offered[0]


async def test_a_long_description_typed_in_a_burst_is_saved_whole_and_the_offer_drawn(
    db: Database, clock: MutableClock
) -> None:
    """The frozen screen after Ctrl+S, reproduced: 5,000 keys queued, then Ctrl+S.

    Ctrl+S used to run before the description had read its keys: the form was checked
    without them, and the keys then took the event loop for most of a minute, so the
    duplicate offer was pushed but never drawn. Queued at once, this happens every time.
    """
    _existing_report(db, clock)
    clock.advance(minutes=5)
    app = console(db, clock)
    typed = ("Api besar di rumah kayu, dua orang masih di dalam. " * 100)[:5000]
    changes: list[object] = []
    async with app.run_test(size=SIZE, message_hook=changes.append) as pilot:
        screen = await open_entry(pilot)
        await pilot.press(
            "3", *"0812 3456 7890", "tab", *"Tikala Baru", "tab", *"Jl. Sam Ratulangi", "tab"
        )
        assert app.focused is screen.query_one(BoundedTextArea)
        changes.clear()
        burst(app, typed)
        app.post_message(events.Key("ctrl+s", None))
        await settle(pilot)
        assert isinstance(app.screen, DuplicateOffer)
        # The burst went in as a few edits, not 5,000 (each one re-wraps the text).
        edits = [m for m in changes if isinstance(m, BoundedTextArea.Changed)]
        assert 1 <= len(edits) <= 5
        await pilot.press("b")
        await settle(pilot)
        filed = reports_in(db)[-1]
        assert filed["description"] == typed.rstrip()


async def test_possible_duplicates_show_beside_the_form_and_join_early(
    db: Database, clock: MutableClock
) -> None:
    number = _existing_report(db, clock)
    clock.advance(minutes=3)
    app = console(db, clock, lang="en")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_entry(pilot)
        panel = screen.query_one(PossibleDuplicates)
        await pilot.press("3")
        await settle(pilot)
        assert not panel.has_class("-found")  # the category alone tells nothing yet
        await pilot.press(*"0813 1111 2222", "tab", *"tikala baru", "tab")
        await settle(pilot)
        assert panel.has_class("-found")
        shown = str(panel.render())
        assert number in shown and "Asap tebal" in shown and "^g" in shown
        # The caller says more; the operator joins the call before typing the whole form.
        await pilot.press(*"Gang 3", "tab", *"Dua orang terjebak", "ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, DuplicateOffer)
        await pilot.press("1")
        await settle(pilot)
        assert len(reports_in(db)) == 1
        joined = calls_in(db)[-1]
        assert joined["description"] == "Dua orang terjebak" and joined["address"] == "Gang 3"
        assert app.screen is screen and screen.draft.is_empty


async def test_ctrl_q_with_a_half_typed_call_asks_first_and_keeps_the_draft(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("3", *"0812")
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert app.is_running and app.screen is not screen
        assert app.drafts.load() is not None  # kept whatever the answer
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen and field_value(screen, "phone") == "0812"
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    assert not app.is_running
    kept = app.drafts.load()
    assert kept is not None and kept["phone"] == "0812" and kept["category"] == "kebakaran"


async def test_a_restored_draft_keeps_its_category(db: Database, clock: MutableClock) -> None:
    first = console(db, clock)
    async with first.run_test(size=SIZE) as pilot:
        await open_entry(pilot)
        await pilot.press("3", *"0812 3456 7890")
        first.keep_draft()
    second = console(db, clock)
    async with second.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = second.screen
        assert isinstance(screen, EntryScreen)
        assert screen.query_one(CategoryPicker).selected == "kebakaran"
        # Shown as chosen: the picker folded to its choice, typing goes on where it stopped.
        assert str(screen.query_one(CategoryPicker).render()).startswith("Kategori: ")
        assert "Kebakaran" in str(screen.query_one(CategoryPicker).render())
        assert field_value(screen, "phone") == "0812 3456 7890"
        assert second.focused is screen.query_one("#kelurahan")


async def test_keys_typed_right_after_f2_reach_the_form(db: Database, clock: MutableClock) -> None:
    """F2 and straight on with the number: the form is still being built when they arrive."""
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.post_message(events.Key("f2", None))
        burst(app, NUMBER + "\t3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EntryScreen)
        assert field_value(screen, "phone") == NUMBER
        assert screen.query_one(CategoryPicker).selected == "kebakaran"
        assert app.focused is screen.query_one("#kelurahan")


async def test_keys_after_escape_go_to_the_leave_dialog(db: Database, clock: MutableClock) -> None:
    """Esc then a fast "y": the dialog answers, the "y" is not typed into the form."""
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("3", *"0812", "tab", "tab", "tab", *"Api")
        assert app.focused is screen.query_one(BoundedTextArea)
        app.post_message(events.Key("escape", None))
        app.post_message(events.Key("n", "n"))
        await settle(pilot)
        assert app.screen is screen and field_value(screen, "description") == "Api"


async def test_a_candidate_chosen_in_a_burst_is_the_one_taken(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("5", "tab")
        burst(app, "malalayng")
        app.post_message(events.Key("down", None))
        app.post_message(events.Key("tab", None))
        await settle(pilot)
        assert field_value(screen, "kelurahan") == "Malalayang Dua (Malalayang)"
        assert app.focused is screen.query_one("#address")


def burst_keys(app, *keys: str) -> None:  # type: ignore[no-untyped-def]
    """Queue named keys at once (``backspace``, ``left``…) and characters, in order."""
    for key in keys:
        if len(key) == 1:
            burst(app, key)
        else:
            app.post_message(events.Key(key, None))


@pytest.mark.parametrize("field", ["kelurahan", "address", "caller_name", "description"])
async def test_corrections_typed_fast_land_where_they_were_typed(
    db: Database, clock: MutableClock, field: str
) -> None:
    """Backspace, Delete and the cursor keys in a burst of letters: each acts at its turn
    (they were run after the letters typed behind them: "Atlantis⌫×8tikala b" gave
    "Atltikal")."""
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("3")
        screen.query_one(f"#{field}").focus()
        await settle(pilot)
        burst_keys(app, *"Atlantis", *["backspace"] * 8, *"tikala b")
        await settle(pilot)
        assert field_value(screen, field) == "tikala b"
        burst_keys(app, "home", "delete", "T", "end", "left", "left", "backspace", "-")
        await settle(pilot)
        assert field_value(screen, field) == "Tikal- b"


async def test_phone_corrections_typed_fast_land_where_they_were_typed(
    db: Database, clock: MutableClock
) -> None:
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("3")
        screen.query_one("#phone").focus()
        await settle(pilot)
        burst_keys(app, *"0813", "backspace", *"2 3456", "left", "left", "backspace", "backspace")
        await settle(pilot)
        assert field_value(screen, "phone") == "0812 56"
