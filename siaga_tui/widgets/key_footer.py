"""The footer of keys, rebuilt once per refresh however often the keys change."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

from siaga_tui.textual_private import footer_bindings_ready


class KeyFooter(Footer):
    """Textual's footer, coalescing binding changes into one rebuild.

    Textual's footer rebuilds every key after each announcement that the bindings
    changed. A screen opening announces it several times in one go (its keys in the
    operator's language, the focus moving to the table, the screen stack changing),
    and each rebuild mounts and styles every key again: at start-up that was a good
    share of the time to the first paint (benchmarks, B1). Here the announcements
    that arrive before the next refresh share one rebuild, which reads the bindings
    as they are by then.
    """

    _rebuild_pending = False

    def bindings_changed(self, screen: Screen[object]) -> None:
        footer_bindings_ready(self)
        if not screen.app.app_focus:
            return  # as Textual's footer: the keys are shown again when focus returns
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        await self.recompose()
