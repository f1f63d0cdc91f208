"""The crash list: bad input that once ended in "unexpected error" gets one clear line.

Each case runs the real command (in this process) and expects exit 2 with one line on
stderr and no traceback, or, for an unusable language, a warning and the command done.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import CliRunner, assert_no_traceback, assert_terminal_safe

ADD = ("add", "--category", "kebakaran", "--kelurahan", "Bahu", "--description", "Api")
BAD_UTF8 = b"Api \xff\xfe besar".decode("utf-8", "surrogateescape")  # as Python hands it over


def one_line(code: int, err: str, expected_code: int = 2) -> None:
    assert code == expected_code, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert_no_traceback(err)
    assert "unexpected" not in err and "tak terduga" not in err


CASES: list[tuple[str, tuple[str, ...]]] = [
    (
        "invalid-utf8-argument",
        ("add", "--category", "kebakaran", "--kelurahan", "Bahu", "--description", BAD_UTF8),
    ),
    ("audit-from-year-1", ("audit", "--from", "0001-01-01")),
    ("audit-to-year-9999", ("audit", "--to", "9999-12-31")),
    ("audit-from-time-year-1", ("audit", "--from", "0001-01-01 00:00")),
    ("stats-from-year-1", ("stats", "--from", "0001-01-01", "--to", "0001-12-31")),
    ("handover-show-huge-id", ("handover", "show", "999999999999999999999")),
    ("handover-ack-huge-id", ("handover", "ack", "999999999999999999999")),
    ("show-huge-id", ("show", "999999999999999999999")),
]


@pytest.mark.parametrize(("name", "args"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line(
    name: str, args: tuple[str, ...], cli: CliRunner, figures: dict[str, Any]
) -> None:
    assert cli(*ADD)[0] == 0
    code, out, err = cli(*args)
    assert_no_traceback(out + err)
    if name.startswith("handover"):
        assert code == 2 and "Traceback" not in err  # Typer's own usage error
    else:
        one_line(code, err)
    figures.update(tried=1, caught=1)


def test_invalid_utf8_in_the_password_variable(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIAGA112_PASSWORD", b"\xffrahasia".decode("utf-8", "surrogateescape"))
    code, _, err = cli(*ADD)
    one_line(code, err)
    assert "SIAGA112_PASSWORD" in err


@pytest.mark.parametrize("how", ["option", "environment", "undecodable-environment"])
def test_an_unknown_language_warns_and_falls_back(
    how: str, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    args: tuple[str, ...] = ("categories",)
    if how == "option":
        args = ("--lang", "xx", *args)
    elif how == "environment":
        monkeypatch.setenv("SIAGA112_LANG", "klingon")
    else:
        monkeypatch.setenv("SIAGA112_LANG", b"\xff".decode("utf-8", "surrogateescape"))
    code, out, err = cli(*args)
    assert code == 0 and out.strip(), err
    one_line(0, err, expected_code=0)


def test_the_console_starts_with_an_unknown_language_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from siaga_tui.cli.base import _language
    from siaga_tui.core.i18n import current_language

    monkeypatch.setenv("SIAGA112_LANG", "xx")
    assert _language(None) == "id" == current_language()
    assert _language("zz") == "id"


def test_an_import_row_dated_year_1_is_refused_by_field(cli: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "old.csv"
    source.write_text(
        "date,category,kelurahan,description,status\n0001-01-01,kebakaran,Bahu,Api,selesai\n",
        encoding="utf-8",
    )
    code, out, err = cli("import", str(source))
    assert code == 2, (out, err)
    assert "baris 2" in out + err and "0001-01-01" in out + err  # the line and the value
    assert_no_traceback(out + err)


def test_closed_pipe_on_export_exits_0(cli: CliRunner, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    # Far more than a pipe holds (64 KiB), so the export is still writing when head
    # leaves: with 30 short rows it finished first and the closed pipe was never met.
    long_text = "Api " * 1000
    for _ in range(30):
        assert cli("add", "-c", "kebakaran", "-k", "Bahu", "-d", long_text)[0] == 0
    command = f'"{sys.executable}" -m siaga_tui --db "{cli.db_path}" --operator rel export - | head -c 100 > /dev/null; echo "${{PIPESTATUS[0]}}"'
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=120, env=os.environ
    )
    assert done.stdout.strip() == "0", done.stderr
    assert_no_traceback(done.stderr)
    assert done.stderr.strip() == ""


def test_text_written_by_another_tool_is_safe_on_every_output(
    cli: CliRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(*ADD)[0] == 0
    hostile = "Api\x1b]0;DIRETAS\x07 \x1b[2J\u202egnp.exe\u0085"
    conn = sqlite3.connect(cli.db_path)
    conn.execute(
        "UPDATE report SET description = ?, address = ?, caller_name = ?",
        (hostile, hostile, hostile),
    )
    conn.commit()
    conn.close()
    for args in (
        ("show", "112-2026-000001", "--json"),
        ("list", "--json"),
        ("export", "-"),
        ("show", "112-2026-000001"),
    ):
        code, out, err = cli(*args)
        assert code == 0, (args, err)
        assert_terminal_safe(out.replace("\r\n", "\n"))  # CSV rows end in CRLF
        if args[-1] == "--json" and args[0] == "show":
            assert json.loads(out)["description"] == hostile  # the value itself, exact


def test_db_path_with_escape_characters_is_printed_visibly(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "\x1b[31mred\u202e.db"
    code, out, _ = cli.at(path, "db", "path")
    assert code == 0
    assert_terminal_safe(out)
    assert "\\u001b[31mred\\u202e.db" in out


def test_too_long_database_path_is_one_line(cli: CliRunner, tmp_path: Path) -> None:
    code, _, err = cli.at(tmp_path / ("a" * 300) / "x.db", *ADD)
    one_line(code, err)
    code, _, err = cli.at(tmp_path / ("b" * 300 + ".db"), *ADD)
    one_line(code, err)


def test_unwritable_default_data_folder_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.reliability.test_files import _run_default

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocked))
    code, _, err = _run_default(*ADD)
    one_line(code, err)


def _damaged_copy(cli: CliRunner, kind: str) -> Path:
    """A database of 200 reports with its middle pages or its free-page list damaged."""
    import random

    for index in range(200):
        assert cli(*ADD[:-1], f"Rumah terbakar, laporan panjang nomor {index} " * 8)[0] == 0
    conn = sqlite3.connect(cli.db_path)
    conn.execute("CREATE TABLE scratch (x)")
    conn.executemany("INSERT INTO scratch VALUES (?)", [("x" * 500,)] * 400)
    conn.commit()
    conn.execute("DROP TABLE scratch")  # leaves free pages
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(cli.db_path.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    if kind == "middle":
        start = (len(data) // size // 3) * size
        data[start : start + 2 * size] = random.Random(112).randbytes(2 * size)
    else:
        trunk = int.from_bytes(data[32:36], "big")
        assert trunk, "no free pages to damage"
        start = (trunk - 1) * size
        data[start : start + 8] = (2).to_bytes(4, "big") + (999_999).to_bytes(4, "big")
    cli.db_path.write_bytes(bytes(data))
    return cli.db_path


@pytest.mark.parametrize("kind", ["middle", "freelist"])
def test_a_damaged_database_is_reported_and_not_written(
    kind: str, cli: CliRunner, figures: dict[str, Any]
) -> None:
    from siaga_tui.core.db import damage_marker

    path = _damaged_copy(cli, kind)
    if kind == "freelist":
        # Before any check: the write that meets the damage stops in one line.
        code, out, err = cli(*ADD)
        one_line(code, err)
        assert damage_marker(path).exists()
    code, out, err = cli("db", "check")
    assert code == 1, (out, err)
    assert_no_traceback(out + err)
    assert "!" in out  # the problem, in words
    code, out, err = cli(*ADD)
    one_line(code, err)
    assert "db check" in err
    for args in (("list",), ("stats", "--all"), ("audit", "verify")):
        code, out, err = cli(*args)
        assert_no_traceback(out + err)
        assert "unexpected" not in err and "tak terduga" not in err
    figures.update(tried=1, caught=1)


def test_export_onto_a_full_disk_is_one_line(cli: CliRunner, tmp_path: Path) -> None:
    """The export's file may not grow past 16 KiB (RLIMIT_FSIZE: as a full disk would
    refuse it, without needing one); the database itself is left alone."""
    import os
    import resource
    import signal
    import subprocess
    import sys

    for index in range(60):
        assert cli(*ADD[:-1], f"Rumah terbakar di lorong nomor {index} " * 4)[0] == 0

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (16_384, 16_384))

    target = tmp_path / "out" / "laporan.csv"
    target.parent.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "siaga_tui", "--db", str(cli.db_path), "--operator", "rel", "export", str(target)],
        capture_output=True, text=True, timeout=120, env=os.environ, preexec_fn=small_files,
    )  # fmt: skip
    one_line(done.returncode, done.stderr)
    assert list(target.parent.iterdir()) == []  # no half-written file left behind


def test_import_that_fills_the_disk_says_how_many_were_saved(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: dict[str, Any]
) -> None:
    import sqlalchemy as sa
    from sqlalchemy import event

    from siaga_tui.core.db import open_database
    from siaga_tui.core.errors import SiagaError
    from siaga_tui.services import importer
    from siaga_tui.services.importer import Importer

    monkeypatch.setattr(importer, "CHUNK", 10)
    source = tmp_path / "history.csv"
    rows = [
        f"2019-03-{day % 28 + 1:02d},kebakaran,Bahu,{'Rumah terbakar di lorong ' * 40}{day},selesai"
        for day in range(60)
    ]
    source.write_text(
        "date,category,kelurahan,description,status\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    db = open_database(db_path)
    writes = {"n": 0}

    def after_two_chunks(conn: Any) -> None:
        writes["n"] += 1
        if writes["n"] == 3:  # the third chunk's transaction: the disk is full from now on
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
            conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")

    event.listen(db.engine, "begin", after_two_chunks)
    with pytest.raises(SiagaError) as refused:
        Importer(db, operator="rel").run(source)
    event.remove(db.engine, "begin", after_two_chunks)
    assert refused.value.key == "import_partly_saved"
    text = refused.value.message("en")
    with db.read() as conn:
        saved = conn.execute(sa.text("SELECT count(*) FROM report")).scalar_one()
    assert saved == 20 and "20 of 60" in text, text
    figures.update(written=saved, found=saved, lost=0)
    db.dispose()
