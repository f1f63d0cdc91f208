"""B11: the keys an operator presses, beyond the words, from F2 to a saved report.

Each path is typed into the real console (headless, Pilot) on a fresh database and
counts only if it files a report with the phone, kelurahan, address and description
typed: the count is of the keys that path pressed that are not text (F2, the category
key, Tab, Ctrl+S). The figure is the shortest path; its baseline, from the same run, is
the plain one that leaves every field with Tab. Before issue 13 the form took 7 (F2,
the category, then Tab four times, the kelurahan's Tab keeping focus, and Ctrl+S).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Final

from benchmarks.measure import Figure, Plan

#: A step: ("key", name) is a key that is not text; ("type", text) is typed words.
Step = tuple[str, str]

PHONE: Final = "0812 3456 7890"
PLACE: Final = "tikala b"
ADDRESS: Final = "Jl. Sam Ratulangi"
WHAT: Final = "Rumah terbakar"

#: The category key, the number, and a letter that starts the kelurahan by itself.
SHORTEST: Final[tuple[Step, ...]] = (
    ("key", "f2"), ("key", "3"), ("type", PHONE), ("type", PLACE), ("key", "tab"),
    ("type", ADDRESS), ("key", "tab"), ("type", WHAT), ("key", "ctrl+s"),
)  # fmt: skip
#: Every field left with Tab.
WITH_TABS: Final[tuple[Step, ...]] = (
    ("key", "f2"), ("key", "3"), ("type", PHONE), ("key", "tab"), ("type", PLACE),
    ("key", "tab"), ("type", ADDRESS), ("key", "tab"), ("type", WHAT), ("key", "ctrl+s"),
)  # fmt: skip
#: The caller's number typed first, the category after it.
NUMBER_FIRST: Final[tuple[Step, ...]] = (
    ("key", "f2"), ("type", PHONE), ("key", "tab"), ("key", "3"), ("type", PLACE),
    ("key", "tab"), ("type", ADDRESS), ("key", "tab"), ("type", WHAT), ("key", "ctrl+s"),
)  # fmt: skip

KEY_NAMES: Final = {" ": "space", "-": "minus", ".": "full_stop"}


def keys_of(path: tuple[Step, ...]) -> int:
    return sum(1 for kind, _ in path if kind == "key")


async def _file(path: tuple[Step, ...], folder: Path) -> None:
    """Type ``path`` into the console; raise unless it filed the report as typed."""
    from siaga_tui.app import make_app
    from siaga_tui.core.db import open_database
    from siaga_tui.services.queue import QueueService

    db = open_database(folder / "keys.db")
    app = make_app(db, operator="bench", lang="id")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        for kind, value in path:
            keys = [value] if kind == "key" else [KEY_NAMES.get(c, c) for c in value]
            await pilot.press(*keys)
            if value == "f2":
                for _ in range(200):
                    await pilot.pause(0.01)
                    if app.screen.query("#phone"):
                        break
        for _ in range(200):
            await pilot.pause(0.02)
            if not any(worker.is_running for worker in app.workers):
                break
    [row] = QueueService(db).first_window()[1].rows
    detail = app.reports.get_report(row.id)
    typed = (detail.summary.caller_phone, detail.summary.address, detail.summary.description)
    if typed != ("+6281234567890", ADDRESS, WHAT) or row.kelurahan_code != "71.71.05.1008":
        raise RuntimeError(
            f"the path did not file the report as typed: {typed}, {row.kelurahan_code}"
        )


def b11_entry_keys(plan: Plan) -> list[Figure]:
    counts = {}
    for name, path in (("shortest", SHORTEST), ("tabs", WITH_TABS), ("number first", NUMBER_FIRST)):
        with tempfile.TemporaryDirectory(prefix="siaga-keys-") as folder:
            asyncio.run(_file(path, Path(folder)))
        counts[name] = keys_of(path)
    value = counts["shortest"]
    return [
        Figure(
            "B11",
            "keys beyond the words from F2 to a saved report (phone, kelurahan, address, "
            "description): F2, category, number, kelurahan + Tab, address + Tab, "
            "description, Ctrl+S",
            value,
            counts["tabs"],
            "keys",
            "≤ 5 keys",
            value <= 5,
            note=(
                f"baseline: every field left with Tab ({counts['tabs']}); number first "
                f"{counts['number first']}; 7 before issue 13"
            ),
        )
    ]
