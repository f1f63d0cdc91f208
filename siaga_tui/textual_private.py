"""Every use of Textual's private state, in one module (Textual is pinned: 8.2.8).

Textual has no public way for what these do, so they live here, each behind a small
function, and ``tests/console/test_textual_private.py`` fails as soon as a Textual
release changes one of them:

- bindings of one widget or screen, set at run time: descriptions in the operator's
  language, keys made from the catalogue (``DOMNode._bindings``,
  ``DOMNode._merge_bindings``); the help screen reads a screen's bindings too;
- a DataTable column whose width changed after its rows were rendered: the table's
  render caches and virtual size (``DataTable._clear_caches``,
  ``DataTable._require_update_dimensions``);
- Textual's footer told that the screen's bindings are ready (``Footer._bindings_ready``),
  for the footer that coalesces rebuilds (``widgets/key_footer.py``);
- a footer key given the footer's compact style before it mounts (``FooterKey`` is not
  exported, and its ``compact`` starts True whatever the footer's), so it is styled
  once, not three times.
"""

from __future__ import annotations

from typing import Any

from textual.binding import BindingsMap
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import DataTable, Footer
from textual.widgets._footer import FooterKey


def node_bindings(node: DOMNode) -> BindingsMap:
    """The bindings ``node`` has now (its class's, and any set at run time)."""
    return node._bindings


def class_bindings(node: DOMNode) -> BindingsMap:
    """The bindings ``node``'s class declares (``BINDINGS`` of it and its bases)."""
    return type(node)._merge_bindings()


def set_node_bindings(node: DOMNode, bindings: BindingsMap) -> None:
    """Give ``node`` these bindings instead of the ones it has; refresh the footer."""
    node._bindings = bindings
    node.refresh_bindings()


def add_node_bindings(node: DOMNode, bindings: BindingsMap) -> None:
    """Add ``bindings`` to those ``node`` has (a later key wins)."""
    node._bindings = BindingsMap.merge([node._bindings, bindings])


def column_width_changed(table: DataTable[Any]) -> None:
    """Redraw ``table`` after a column's ``width`` was set: its cached lines and its
    virtual size were worked out for the old width."""
    table._clear_caches()
    table._require_update_dimensions = True
    table.refresh()


def footer_bindings_ready(footer: Footer) -> None:
    """Tell Textual's footer the screen's bindings are there to be shown."""
    footer._bindings_ready = True


def footer_has_bindings(footer: Footer) -> bool:
    """Whether Textual's footer has been told the screen's bindings are there."""
    return bool(footer._bindings_ready)


def footer_key_styled_as(key: Widget, *, compact: bool) -> None:
    """Give a key that Textual's footer composed the footer's ``compact`` before it
    mounts (anything else the footer composed is left as it is)."""
    if isinstance(key, FooterKey):
        key.set_reactive(FooterKey.compact, compact)
        key.set_class(compact, "-compact", update=False)
