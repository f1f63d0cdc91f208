"""Keys: footer bindings whose descriptions follow the console's language, the keys that
work on every screen, and how keys are written for people (help, palette)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from textual.binding import Binding, BindingsMap
from textual.content import Content
from textual.dom import DOMNode

from siaga_tui.core.i18n import translate
from siaga_tui.textual_private import class_bindings, set_node_bindings


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


#: Keys that work on every screen.
GLOBAL_KEYS: Final = (
    Key("f1", "app.help", "console_key_help"),
    # A priority key: the form is up before the next key is read, so "F2 0812…" typed
    # at once puts the number in the form (not into the queue's keys).
    Key("f2", "app.new_report", "console_key_new_report", priority=True),
    Key("f3", "app.queue", "console_key_queue"),
    Key("f4", "app.board", "console_key_board"),
)

#: The phone's keys, on every screen: answer the call ringing here, choose which one of
#: several, the call-back list. Shown in the footer when the console has a softphone
#: (``--phone``).
PHONE_KEYS: Final = (
    Key("f12", "app.answer_call", "console_key_answer"),
    Key("f11", "app.choose_call", "console_key_choose_call"),
    Key("f10", "app.callbacks", "console_key_callbacks"),
)


def phone_keys(shown: bool) -> tuple[Key, ...]:
    """``PHONE_KEYS``, in the footer or not."""
    return tuple(Key(k.key, k.action, k.label, show=shown, priority=k.priority) for k in PHONE_KEYS)


#: How keys are written for people.
KEY_NAMES: Final = {
    "slash": "/",
    "escape": "Esc",
    "enter": "Enter",
    "ctrl+p": "Ctrl+P",
    "ctrl+s": "Ctrl+S",
    "ctrl+q": "Ctrl+Q",
}


def key_name(key: str) -> str:
    return KEY_NAMES.get(key, key.upper() if key.startswith("f") and key[1:].isdigit() else key)


def localise_bindings(node: DOMNode, keys: Iterable[Key], lang: str) -> None:
    """Give ``node`` the bindings of ``keys``, described in ``lang``, and refresh the footer."""
    own = BindingsMap(key.binding(lang) for key in keys)
    set_node_bindings(node, BindingsMap.merge([class_bindings(node), own]))


def key_hints(
    node: DOMNode, keys: Iterable[Key], lang: str, *, current: str | None = None
) -> Content:
    """One line naming ``keys`` (``^s Simpan  f5 Iseng …``) for a screen's own key bar.

    At 80 columns the footer has room for the global keys only; a screen whose keys an
    operator needs at a glance (entry, board) shows them on this line too. The key whose
    action is ``current`` is shown selected.
    """
    parts: list[Content] = []
    for key in keys:
        if not key.show:
            continue
        binding = key.binding(lang)
        selected = key.action == current
        shown = node.app.get_key_display(binding)
        if selected:
            parts.append(Content.styled(f" {shown} {binding.description} ", "reverse bold"))
        else:
            parts.append(Content.assemble((shown, "bold $accent"), " ", binding.description))
    return Content("  ").join(parts)
