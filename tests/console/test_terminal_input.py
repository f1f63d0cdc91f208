"""A hostile paste keeps its order: escape sequences inside a bracketed paste.

Textual's parser read ``\\x1b[31mBBB CCC`` inside a paste as key presses sent ahead of
the paste: ``AAA \\x1b[31mBBB CCC`` was stored as ``^[31mBBB CCCAAA ``. These tests
fail when Textual changes the parser or the driver's use of it.
"""

from __future__ import annotations

import pytest
from textual.drivers import linux_driver

from siaga_tui.core.db import Database
from siaga_tui.terminal_input import PasteSafeParser, install
from tests.conftest import MutableClock
from tests.console.conftest import settle
from tests.console.test_entry import SIZE, console, open_entry, reports_in

HOSTILE = "\x1b[200~AAA \x1b[31mBBB CCC\x1b[201~"


def tokens(parser_class: type, *reads: str) -> list[tuple[str, str]]:
    parser = parser_class()
    found = [token for read in reads for token in parser.feed(read)]
    return [(type(t).__name__, getattr(t, "text", None) or t.key) for t in found]


def test_a_paste_with_escapes_arrives_whole_and_in_order() -> None:
    assert tokens(PasteSafeParser, "x" + HOSTILE + "y") == [
        ("Key", "x"), ("Paste", "AAA BBB CCC"), ("Key", "y"),
    ]  # fmt: skip


@pytest.mark.parametrize("cut", range(1, len(HOSTILE)))
def test_a_paste_split_between_reads_arrives_the_same(cut: int) -> None:
    assert tokens(PasteSafeParser, HOSTILE[:cut], HOSTILE[cut:]) == [("Paste", "AAA BBB CCC")]


def test_keys_outside_a_paste_are_read_as_before() -> None:
    typed = "ab\x1b[A\t"  # letters, the Up arrow, Tab
    assert tokens(PasteSafeParser, typed) == [
        ("Key", "a"),
        ("Key", "b"),
        ("Key", "up"),
        ("Key", "tab"),
    ]


def test_the_console_installs_it_in_the_linux_driver() -> None:
    assert install()
    assert linux_driver.XTermParser is PasteSafeParser


async def test_a_hostile_paste_is_stored_in_the_order_pasted(
    db: Database, clock: MutableClock
) -> None:
    """What the terminal sends, read by the parser the console's driver uses."""
    app = console(db, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_entry(pilot)
        await pilot.press("3", *"081234567890", "tab", *"Bahu", "tab", "tab")
        assert app.focused is screen.query_one("#description")
        for token in linux_driver.XTermParser().feed(HOSTILE):
            app.post_message(token)
        await settle(pilot)
        assert screen.draft.description == "AAA BBB CCC"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert reports_in(db)[-1]["description"] == "AAA BBB CCC"
