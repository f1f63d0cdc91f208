"""The footer shows every key, and rebuilds once for a burst of binding changes."""

from __future__ import annotations

from textual.app import ComposeResult

from siaga_tui.app import SiagaApp
from siaga_tui.screens.localised import GLOBAL_KEYS, localise_bindings
from siaga_tui.screens.queue import QueueScreen
from siaga_tui.widgets.key_footer import KeyFooter
from tests.console.conftest import settle


def footer_keys(app: SiagaApp) -> list[str]:
    return [key.key for key in app.screen.query_one(KeyFooter).query("FooterKey")]  # type: ignore[attr-defined]


def footer_texts(app: SiagaApp) -> list[str]:
    return [key.description for key in app.screen.query_one(KeyFooter).query("FooterKey")]  # type: ignore[attr-defined]


async def test_queue_footer_shows_the_function_keys_and_the_screen_keys(
    console_app: SiagaApp,
) -> None:
    async with console_app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        keys = footer_keys(console_app)
        assert keys[:4] == ["f1", "f2", "f3", "f4"]
        assert {"e", "n", "k", "s", "slash", "b", "escape"} <= set(keys)
        assert "ctrl+p" not in keys  # the palette is named in Help, not in the footer


def counting_recompose(footer: KeyFooter) -> list[int]:
    """Count the footer's rebuilds (one item per rebuild)."""
    rebuilds: list[int] = []
    recompose = footer.recompose

    async def counted() -> None:
        rebuilds.append(1)
        await recompose()

    footer.recompose = counted  # type: ignore[method-assign]
    return rebuilds


def describe_keys_in(app: SiagaApp, lang: str) -> None:
    """The queue's keys described in ``lang``: a change of every key the footer shows."""
    screen = app.screen
    localise_bindings(screen, (*GLOBAL_KEYS, *QueueScreen.KEYS), lang)


async def test_a_burst_of_binding_changes_rebuilds_the_footer_once(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        footer = console_app.screen.query_one(KeyFooter)
        rebuilds = counting_recompose(footer)
        for _ in range(5):
            describe_keys_in(console_app, "en")
        await settle(pilot)
        assert len(rebuilds) == 1
        assert footer_keys(console_app)[:4] == ["f1", "f2", "f3", "f4"]
        assert "Help" in footer_texts(console_app)
        # A later change still rebuilds it.
        describe_keys_in(console_app, "id")
        await settle(pilot)
        assert len(rebuilds) == 2
        assert "Help" not in footer_texts(console_app)


async def test_bindings_announced_without_a_change_leave_the_footer_as_it_is(
    console_app: SiagaApp,
) -> None:
    """Focus moving announces the same keys again: composing them again held the queue's
    first paint back (B1)."""
    async with console_app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        footer = console_app.screen.query_one(KeyFooter)
        rebuilds = counting_recompose(footer)
        keys = footer_keys(console_app)
        for _ in range(3):
            console_app.screen.refresh_bindings()
        await settle(pilot)
        assert rebuilds == []
        assert footer_keys(console_app) == keys


async def test_the_queue_footer_is_composed_once_as_the_console_starts(
    console_app: SiagaApp,
) -> None:
    """Its keys are there from the first composition (B1), and Enter, which the focused
    table answers itself, is not among them."""
    composed: list[int] = []
    compose = KeyFooter.compose

    def counted(self: KeyFooter) -> ComposeResult:
        composed.append(1)
        return compose(self)

    KeyFooter.compose = counted  # type: ignore[method-assign]
    try:
        async with console_app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            assert len(composed) == 1
            assert "enter" not in footer_keys(console_app)
            assert footer_keys(console_app)[:4] == ["f1", "f2", "f3", "f4"]
    finally:
        KeyFooter.compose = compose  # type: ignore[method-assign]
