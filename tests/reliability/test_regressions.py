"""Bugs the reliability suite found in shared code, each pinned by a direct test."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from siaga_tui.core.catalogue import load_catalogue
from siaga_tui.core.db import Database, open_database
from siaga_tui.core.errors import StorageError, ValidationError
from siaga_tui.core.i18n import QUOTED_LIMIT, translate
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import MutableClock
from tests.reliability.conftest import unsafe_characters


def test_messages_quote_parameters_without_escapes_or_controls() -> None:
    message = translate(
        "kelurahan_unknown", "en", value="\x1b]0;x\x07Tik\u202eala\x00", suggestions="-"
    )
    assert unsafe_characters(message) == []
    assert "Tikala" in message


def test_messages_cut_a_huge_quoted_paste() -> None:
    message = translate("category_unknown", "en", value="x" * 10_000_000)
    assert len(message) < QUOTED_LIMIT + 200
    assert message.count("x") == QUOTED_LIMIT - 1


def test_messages_keep_numbers_and_short_text_as_they_are() -> None:
    assert (
        translate("kelurahan_unknown", "en", value="Atlantis", suggestions="-").count("Atlantis")
        == 1
    )


def test_a_pasted_page_is_no_kelurahan_and_is_refused_at_once() -> None:
    catalogue = load_catalogue()
    paste = "Tikala " * 1_500_000
    try:
        catalogue.resolve_kelurahan(paste)
    except ValidationError as error:
        assert error.field == "kelurahan" and error.key == "kelurahan_no_match"
    else:  # pragma: no cover - the assertion explains
        raise AssertionError("a 10 MB paste resolved to a kelurahan")
    assert catalogue.complete_kelurahan(paste) == []
    # Ordinary long forms still resolve.
    assert (
        catalogue.resolve_kelurahan("Kelurahan Bunaken, Kecamatan Bunaken Kepulauan").code
        == "71.71.10.1001"
    )


def test_a_duplicate_closed_after_the_clock_stepped_back_is_not_closed_before_it_was_filed(
    db: Database, clock: MutableClock
) -> None:
    desk = ReportService(db, operator="rel", clock=clock)
    original = desk.create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="api")
    )
    clock.advance(minutes=5)
    again = desk.create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="api lagi")
    )
    clock.advance(minutes=-10)  # the workstation's clock is corrected backwards
    desk.mark_duplicate(again.id, original.id)
    detail = desk.get_report(again.id)
    assert detail.summary.closed_at is not None
    assert detail.summary.closed_at >= detail.summary.created_at


def test_another_programs_sqlite_file_is_refused_without_a_byte_changed(tmp_path: Path) -> None:
    target = tmp_path / "invoices.db"
    with closing(sqlite3.connect(target)) as conn, conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    before = target.read_bytes()
    with pytest.raises(StorageError) as refused:
        open_database(target)
    assert refused.value.key == "db_not_siaga"
    assert target.read_bytes() == before  # switching to WAL would have rewritten the header


def test_a_file_with_an_sqlite_header_but_garbage_inside_is_refused_as_no_database(
    tmp_path: Path,
) -> None:
    target = tmp_path / "damaged.db"
    target.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(StorageError) as refused:
        open_database(target)
    assert refused.value.key == "db_not_a_database"
    assert target.read_bytes() == b"SQLite format 3\x00" + b"\xff" * 4000


HOSTILE_OPERATOR = "bu\x1b]0;X\x07di\u202e[/]"


def test_operator_name_from_the_command_line_is_stored_clean(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from siaga_tui.cli import main
    from siaga_tui.cli.base import settings

    try:
        main(
            [
                "--db",
                str(db_path),
                "--operator",
                HOSTILE_OPERATOR,
                "add",
                "-c",
                "kebakaran",
                "-k",
                "Bahu",
                "-d",
                "x",
            ]
        )
    except SystemExit as exit_:
        assert not exit_.code
    finally:
        settings.reset()
    capsys.readouterr()
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT operator FROM report").fetchone()[0] == "budi[/]"


def test_show_cleans_what_it_prints_even_from_rows_written_raw(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from siaga_tui.cli import main
    from siaga_tui.cli.base import settings

    db = open_database(db_path)  # written by another tool, which did not clean the name
    saved = ReportService(db, operator=HOSTILE_OPERATOR).create_report(
        NewReport(category="kebakaran", kelurahan="Bahu", description="x")
    )
    db.dispose()
    with closing(sqlite3.connect(db_path)) as conn, conn:  # or by an older version
        conn.execute("UPDATE report SET address = ?", ("Jl.\x1b[2J A",))
    capsys.readouterr()
    try:
        main(["--db", str(db_path), "show", saved.number])
    except SystemExit as exit_:
        assert not exit_.code
    finally:
        settings.reset()
    out = capsys.readouterr().out
    assert unsafe_characters(out) == []
    assert "budi[/]" in out


def _import(db: Database, text: str, tmp_path: Path) -> Any:
    from siaga_tui.services.importer import Importer

    source = tmp_path / "laporan.csv"
    source.write_text(text, encoding="utf-8", newline="")
    return Importer(db, operator="rel").run(source)


MINIMAL_HEADER = "date,category,kelurahan,description,status\r\n"


def test_import_keeps_a_row_whole_when_its_text_holds_nel_or_a_line_separator(
    db: Database, tmp_path: Path
) -> None:
    result = _import(
        db,
        MINIMAL_HEADER + '2019-03-01,kebakaran,Bahu,"Jalan \x85rusak\u2028parah\x0c",menunggu\r\n',
        tmp_path,
    )
    assert not result.bad and result.added == 1
    with db.read() as conn:
        assert (
            conn.exec_driver_sql("SELECT description FROM report").scalar()
            == "Jalan rusak\u2028parah"
        )


def test_import_refuses_a_huge_cell_with_its_line_and_field(db: Database, tmp_path: Path) -> None:
    result = _import(
        db,
        MINIMAL_HEADER + "2019-03-01,kebakaran,Bahu," + "x" * 200_000 + ",menunggu\r\n",
        tmp_path,
    )
    assert not result.written
    (bad,) = result.bad
    assert bad.line == 2 and [error.field for error in bad.errors] == ["description"]


async def test_pasting_escapes_and_bidi_overrides_into_the_entry_form_leaves_them_out(
    db: Database,
) -> None:
    from textual import events

    from siaga_tui.app import make_app
    from siaga_tui.screens.entry import EntryScreen
    from tests.reliability.conftest import assert_terminal_safe

    app = make_app(db, operator="rel", lang="id")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EntryScreen)
        hostile = "Jl. \u202eBabe\u202c \x1b]0;judul\x07Palar\x00"
        for name in ("address", "description"):
            screen.query_one(f"#{name}").post_message(events.Paste(hostile))
        await pilot.pause()
        draft = screen.draft
        assert draft.address == draft.description == "Jl. Babe Palar"
        assert_terminal_safe("\n".join(s.text for s in app.screen._compositor.render_strips()))
