"""Footer keys whose descriptions follow the console's language."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

from siaga_tui.core.i18n import translate


@dataclass(frozen=True)
class Key:
    """A binding whose footer text is the message ``label`` in the current language."""

    key: str
    action: str
    label: str
    show: bool = True
    priority: bool = False

    def binding(self, lang: str) -> Binding:
        return Binding(
            self.key,
            self.action,
            translate(self.label, lang),
            show=self.show,
            priority=self.priority,
            id=self.action,
        )


def localise_bindings(node: DOMNode, keys: Iterable[Key], lang: str) -> None:
    """Give ``node`` the bindings of ``keys``, described in ``lang``, and refresh the footer."""
    own = BindingsMap(key.binding(lang) for key in keys)
    node._bindings = BindingsMap.merge([type(node)._merge_bindings(), own])
    node.refresh_bindings()
