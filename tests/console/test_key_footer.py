"""The footer shows every key, and rebuilds once for a burst of binding changes."""

from __future__ import annotations

from siaga_tui.app import SiagaApp
from siaga_tui.widgets.key_footer import KeyFooter
from tests.console.conftest import settle


def footer_keys(app: SiagaApp) -> list[str]:
    return [key.key for key in app.screen.query_one(KeyFooter).query("FooterKey")]  # type: ignore[attr-defined]


async def test_queue_footer_shows_the_function_keys_and_the_screen_keys(
    console_app: SiagaApp,
) -> None:
    async with console_app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        keys = footer_keys(console_app)
        assert keys[:4] == ["f1", "f2", "f3", "f4"]
        assert {"e", "n", "k", "s", "slash", "b", "escape"} <= set(keys)
        assert "ctrl+p" not in keys  # the palette is named in Help, not in the footer


async def test_a_burst_of_binding_changes_rebuilds_the_footer_once(console_app: SiagaApp) -> None:
    async with console_app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        footer = console_app.screen.query_one(KeyFooter)
        rebuilds = 0
        recompose = footer.recompose

        async def counted() -> None:
            nonlocal rebuilds
            rebuilds += 1
            await recompose()

        footer.recompose = counted  # type: ignore[method-assign]
        for _ in range(5):
            console_app.screen.refresh_bindings()
        await settle(pilot)
        assert rebuilds == 1
        assert footer_keys(console_app)[:4] == ["f1", "f2", "f3", "f4"]
        # A later change still rebuilds it.
        console_app.screen.refresh_bindings()
        await settle(pilot)
        assert rebuilds == 2
