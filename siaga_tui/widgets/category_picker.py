"""The category picker: one key picks the category of a new report."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.binding import Binding, BindingsMap
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input

from siaga_tui.core.catalogue import Category
from siaga_tui.core.i18n import translate
from siaga_tui.textual_private import add_node_bindings

#: The keys that start a phone number, by key name.
NUMBER_STARTS: dict[str, str] = {"0": "0", "plus": "+"}


class CategoryPicker(Widget, can_focus=True):
    """Every category beside its key; emergencies first and marked.

    Focused, it lists them all (emergencies in the left column); once one is picked
    and focus moves on, it folds to one line with the choice. Posts ``Picked``.
    """

    DEFAULT_CSS = """
    CategoryPicker {
        height: auto;
        padding: 0 1;
        &:focus { background: $boost; }
    }
    """

    selected: reactive[str | None] = reactive(None, layout=True)
    lang: reactive[str] = reactive("id", layout=True)

    class Missed(Message):
        """A key that picks no category and starts no number was typed on the picker."""

        def __init__(self, picker: CategoryPicker, character: str) -> None:
            super().__init__()
            self.picker = picker
            self.character = character

        @property
        def control(self) -> CategoryPicker:
            return self.picker

    class Picked(Message):
        """A category was picked with its key."""

        def __init__(self, picker: CategoryPicker, category: Category) -> None:
            super().__init__()
            self.picker = picker
            self.category = category

        @property
        def control(self) -> CategoryPicker:
            return self.picker

    def __init__(self, categories: Sequence[Category], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.categories = tuple(categories)
        # Priority bindings run in the app's own key handling, before the next key is
        # read: "3" then a fast "0812…" puts the digits in the phone, not the picker.
        # A letter key picks with Caps Lock on too.
        hotkeys = [(c.hotkey, c) for c in self.categories]
        hotkeys += [(c.hotkey.upper(), c) for c in self.categories if c.hotkey.isalpha()]
        keys = [Binding(key, f"pick('{c.code}')", show=False, priority=True) for key, c in hotkeys]
        # No hotkey is 0 or +, and every phone number typed in full starts with one of
        # them: the number can be typed first, and its first key is not lost.
        keys += [
            Binding(key, f"start_number('{character}')", show=False, priority=True)
            for key, character in NUMBER_STARTS.items()
        ]
        add_node_bindings(self, BindingsMap(keys))

    @property
    def category(self) -> Category | None:
        return next((c for c in self.categories if c.code == self.selected), None)

    def action_pick(self, code: str) -> None:
        """Pick the category and move on to the next field at once."""
        category = next(c for c in self.categories if c.code == code)
        self.selected = category.code
        self.post_message(self.Picked(self, category))
        self.screen.focus_next()

    def action_start_number(self, character: str) -> None:
        """The caller's number is typed first: on to the next field, with this key in it.

        Done here, in the app's key handling, so the keys after it follow it there.
        """
        self.screen.focus_next()
        target = self.screen.focused
        if isinstance(target, Input):
            target.insert_text_at_cursor(character)

    def on_key(self, event: events.Key) -> None:
        """A key that picks nothing is not dropped silently: the form says what the keys do."""
        if event.is_printable and event.character:
            event.stop()
            self.post_message(self.Missed(self, event.character))

    def on_focus(self, event: events.Focus) -> None:
        self.refresh(layout=True)

    def on_blur(self, event: events.Blur) -> None:
        self.refresh(layout=True)

    def render(self) -> Content:
        chosen = self.category
        if chosen is not None and not self.has_focus:
            return Content.assemble(
                (f"{translate('field_category', self.lang)}: ", "bold"),
                self._entry(chosen),
            )
        left = [c for c in self.categories if c.is_emergency]
        right = [c for c in self.categories if not c.is_emergency]
        width = max((self._entry(c).cell_length for c in left), default=0) + 2
        lines = [Content.styled(translate("entry_pick_category", self.lang), "bold")]
        for index in range(max(len(left), len(right))):
            cell = self._entry(left[index]) if index < len(left) else Content("")
            line = cell.pad_right(width - cell.cell_length)
            if index < len(right):
                line = line + self._entry(right[index])
            lines.append(line)
        return Content("\n").join(lines)

    def _entry(self, category: Category) -> Content:
        marker = "\u25cf " if category.is_emergency else "  "  # ●
        picked = category.code == self.selected
        return Content.assemble(
            (f" {category.hotkey} ", "reverse bold" if picked else "bold $accent"),
            " ",
            (marker, "$error"),
            (category.label(self.lang), "bold" if picked else ""),
        )
