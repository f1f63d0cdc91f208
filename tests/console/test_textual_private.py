"""What ``siaga_tui/textual_private.py`` relies on in Textual still works as it did.

Each test fails when a Textual release renames or changes the private state one of
its functions reaches into, so the change is found here and not on an operator's screen.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap, BindingType
from textual.widgets import DataTable, Footer, Static

from siaga_tui import textual_private


class Probe(Static):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "noop", "Class key")]

    def action_noop(self) -> None:
        pass


class ProbeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Probe("probe", id="probe")
        yield DataTable(id="table")
        yield Footer()


def descriptions(bindings: BindingsMap) -> dict[str, str]:
    return {key: b[0].description for key, b in bindings.key_to_bindings.items()}


async def test_bindings_set_at_run_time_are_the_ones_that_answer_keys() -> None:
    app = ProbeApp()
    async with app.run_test() as pilot:
        probe = app.query_one(Probe)
        probe.can_focus = True
        probe.focus()
        await pilot.pause()
        assert descriptions(textual_private.class_bindings(probe)) == {"x": "Class key"}
        textual_private.set_node_bindings(
            probe,
            BindingsMap.merge(
                [
                    textual_private.class_bindings(probe),
                    BindingsMap([Binding("z", "noop", "Tombol bahasa")]),
                ]
            ),
        )
        textual_private.add_node_bindings(probe, BindingsMap([Binding("y", "noop", "Tambahan")]))
        assert descriptions(textual_private.node_bindings(probe)) == {
            "x": "Class key",
            "z": "Tombol bahasa",
            "y": "Tambahan",
        }
        await pilot.pause()
        active = {key: active.binding.description for key, active in app.active_bindings.items()}
        assert (active["x"], active["z"], active["y"]) == ("Class key", "Tombol bahasa", "Tambahan")


async def test_a_column_made_wider_is_drawn_at_its_new_width() -> None:
    app = ProbeApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(DataTable)
        key = table.add_column("kolom", width=5)
        table.add_row("isi")
        await pilot.pause()
        before = table.virtual_size.width
        table.columns[key].width = 40
        textual_private.column_width_changed(table)
        await pilot.pause()
        assert table.virtual_size.width == before + 40 - 5


async def test_the_footer_reads_the_flag_that_its_bindings_are_ready() -> None:
    app = ProbeApp()
    async with app.run_test() as pilot:
        footer = app.query_one(Footer)
        await pilot.pause()
        textual_private.footer_bindings_ready(footer)
        assert footer._bindings_ready is True
        assert textual_private.footer_has_bindings(footer) is True
        assert "_bindings_ready" in type(footer)._reactives  # still the reactive it reads


async def test_a_footer_key_takes_the_footer_style_before_it_mounts() -> None:
    """Textual's footer keys start compact and follow the footer once mounted: each such
    change restyles the key. One given the footer's style first is styled once."""
    from textual.widgets._footer import FooterKey

    assert FooterKey.compact._default is True  # what footer_key_styled_as works around
    styled: list[str] = []

    class Counted(FooterKey):
        def update_node_styles(self, animate: bool = True) -> None:
            styled.append(self.key)
            super().update_node_styles(animate)

    class FooterApp(App[None]):
        def compose(self) -> ComposeResult:
            key = Counted("f1", "F1", "Bantuan", "app.bell")
            textual_private.footer_key_styled_as(key, compact=False)
            yield key

    app = FooterApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        key = app.query_one(Counted)
        assert key.compact is False
        assert not key.has_class("-compact")
        assert styled == []
