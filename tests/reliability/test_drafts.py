"""The draft store: what the console keeps of a form when the terminal goes away."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from siaga_tui.drafts import DraftStore, drafts_folder

DRAFT = {
    "category": "kebakaran",
    "phone": "0812",
    "description": "Api [/] \u202e besar",
    "opened_at": "2026-11-28T02:00:00+00:00",
}


def test_a_saved_draft_comes_back_and_is_gone_once_cleared(tmp_path: Path) -> None:
    store = DraftStore.for_entry("/data/siaga112.db", "budi", folder=tmp_path)
    assert store.load() is None
    store.save(DRAFT, sync=True)
    assert store.load() == DRAFT
    store.clear()
    assert store.load() is None
    store.clear()  # clearing twice is fine


def test_drafts_live_in_the_user_state_folder_per_operator_and_database() -> None:
    mine = DraftStore.for_entry("/data/siaga112.db", "budi")
    assert mine.path.parent == drafts_folder()
    assert str(drafts_folder()).startswith(os.environ["XDG_STATE_HOME"])
    assert mine.path != DraftStore.for_entry("/data/siaga112.db", "ani").path
    assert mine.path != DraftStore.for_entry("/other/siaga112.db", "budi").path


def test_an_unreadable_draft_is_no_draft(tmp_path: Path) -> None:
    store = DraftStore(tmp_path / "entry.json")
    for content in (
        "",
        "{not json",
        "[1, 2]",
        '{"version": 99, "draft": {}}',
        '{"version": 1, "draft": 5}',
    ):
        store.path.write_text(content, encoding="utf-8")
        assert store.load() is None


def test_a_failed_write_keeps_the_previous_draft(tmp_path: Path, monkeypatch) -> None:
    store = DraftStore(tmp_path / "entry.json")
    store.save(DRAFT)

    def broken_replace(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with contextlib.suppress(OSError):
        store.save({"description": "new"})
    assert store.load() == DRAFT
    assert [p.name for p in tmp_path.iterdir()] == ["entry.json"]  # no temporary left behind
