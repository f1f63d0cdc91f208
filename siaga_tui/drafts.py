"""Drafts of the entry form kept on disk, so a closed terminal loses no call.

The console writes the form's draft here while the operator types, and once more when
the terminal hangs up (SIGHUP) or the console exits with the form open; the next start
offers it again. A draft belongs to one operator on one database: another database's
draft is never offered.

Writes are atomic (a temporary file renamed over the old one), so a crash in the middle
of a write leaves the previous draft, never half a file. Imports nothing from Textual.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Final

from siaga_tui.core.private import make_private_folder

DRAFT_VERSION: Final = 1


def drafts_folder() -> Path:
    """Where drafts live: the user's state folder (XDG_STATE_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_state_dir("siaga112", appauthor=False)) / "drafts"


class DraftStore:
    """One draft slot (one form, one operator, one database), as a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_entry(cls, database: str, operator: str, folder: Path | None = None) -> DraftStore:
        """The entry form's slot for ``operator`` on ``database`` (its file or URL)."""
        key = hashlib.sha256(f"{database}\n{operator}".encode()).hexdigest()[:16]
        return cls((folder or drafts_folder()) / f"entry-{key}.json")

    def save(self, data: dict[str, Any], *, sync: bool = False) -> None:
        """Replace the draft with ``data``; ``sync`` also waits for the disk (on hang-up)."""
        make_private_folder(self.path.parent)  # a draft holds the caller's number
        payload = json.dumps({"version": DRAFT_VERSION, "draft": data}, ensure_ascii=False)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".draft-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(payload)
                if sync:
                    file.flush()
                    os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def load(self) -> dict[str, Any] | None:
        """The saved draft, or None when there is none or it cannot be read."""
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("version") != DRAFT_VERSION:
            return None
        draft = stored.get("draft")
        return draft if isinstance(draft, dict) else None

    def clear(self) -> None:
        """Forget the draft (it was saved as a report, or the operator discarded it)."""
        self.path.unlink(missing_ok=True)
