"""The keys of the quick entry form (F2), as data: its key line, footer and help read them.

The keys that move or open something are priority keys: they act in the order typed,
before the keys after them are read (a dialog they open gets those; see the entry
screen's docstring). F5-F8 log a call that is no report; they wait for the keys typed
before them in their action.
"""

from __future__ import annotations

from typing import Final

from siaga_tui.core.models import NON_REPORT_DISPOSITIONS
from siaga_tui.screens.localised import Key

#: The key of each call that is no report.
DISPOSITION_KEYS: Final = dict(
    zip(("f5", "f6", "f7", "f8"), (d.value for d in NON_REPORT_DISPOSITIONS), strict=True)
)

ENTRY_KEYS: Final = (
    Key("ctrl+s", "save", "entry_key_save", priority=True),
    Key("ctrl+g", "attach", "entry_key_attach", show=False, priority=True),
    *(
        Key(key, f"log_call('{name}')", f"entry_key_{name}")
        for key, name in DISPOSITION_KEYS.items()
    ),
    Key("f9", "pick_category", "entry_key_category", show=False),
    Key("escape", "leave", "entry_key_leave", priority=True),
    Key("tab", "next_field('tab')", "entry_key_next", show=False, priority=True),
    Key("enter", "next_field('enter')", "entry_key_next", show=False, priority=True),
    Key("shift+tab", "previous_field", "entry_key_previous", show=False, priority=True),
)
