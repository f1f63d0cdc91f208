"""Every CLI command of the foundation, with its error paths (exit 2, one clear line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from siaga_tui.cli import main


class Cli:
    def __init__(self, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db_path = db_path
        self.capsys = capsys

    def __call__(self, *args: str, lang: str = "en") -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            main(["--db", str(self.db_path), "--lang", lang, "--operator", "ani", *args])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, err
        return out


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(db_path, capsys)


def add_fire(cli: Cli, *extra: str) -> str:
    return cli.ok(
        "add",
        "-c",
        "kebakaran",
        "-k",
        "paal 4",
        "-d",
        "Rumah terbakar",
        "-p",
        "0812-3456-7890",
        *extra,
    ).strip()


def test_add_prints_the_number_and_json(cli: Cli) -> None:
    assert add_fire(cli) == "112-2026-000001" or add_fire(cli).startswith("112-")
    data = json.loads(add_fire(cli, "--json"))
    assert data["number"].startswith("112-") and data["id"] > 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["-c", "gempa", "-k", "Bahu", "-d", "x"], "Category"),
        (["-c", "kebakaran", "-k", "Atlantis", "-d", "x"], "Kelurahan"),
        (["-c", "kebakaran", "-k", "Bunaken", "-d", "x"], "Kelurahan"),
        (["-c", "kebakaran", "-k", "Bahu", "-d", "   "], "What happened"),
        (["-c", "kebakaran", "-k", "Bahu", "-d", "x", "-p", "0812-ABC"], "Phone"),
    ],
)
def test_add_refuses_bad_input_with_one_line_naming_the_field(
    cli: Cli, args: list[str], field: str
) -> None:
    code, out, err = cli("add", *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and field in err
    assert "Traceback" not in err


def test_add_without_required_option_is_a_usage_error(cli: Cli) -> None:
    code, _, err = cli("add", "-c", "kebakaran")
    assert code == 2 and "Traceback" not in err


def test_kelurahan_by_alias_and_code(cli: Cli) -> None:
    for place in ("Paal IV", "paal 4", "71.71.05.1010", "Tumumpa I"):
        number = cli.ok("add", "-c", "kebakaran", "-k", place, "-d", "Asap tebal").strip()
        assert number.startswith("112-")


def test_lifecycle_through_the_cli(cli: Cli) -> None:
    number = add_fire(cli)
    assert "damkar" in cli.ok("forward", number, "damkar", "--channel", "radio", "--ref", "DK-1")
    assert cli.ok("ack", number, "damkar", "--by", "Pos Tikala")
    code, _, err = cli("ack", number, "damkar")
    assert code == 2 and "damkar" in err
    code, _, err = cli("status", number, "selesai")
    assert code == 2 and "closing note" in err
    cli.ok("status", number, "selesai", "--note", "Api padam")
    cli.ok("reopen", number, "--reason", "Menyala lagi")
    cli.ok("note", number, "Unit kedua dikirim")
    shown = json.loads(cli.ok("show", number, "--json"))
    kinds = [e["kind"] for e in shown["events"]]
    assert kinds == [
        "created",
        "forwarded",
        "acknowledged",
        "status_changed",
        "reopened",
        "note_added",
    ]
    assert shown["status"] == "ditangani"
    text = cli.ok("show", number)
    assert number in text and "Paal IV (Tikala)" in text


def test_status_refusals(cli: Cli) -> None:
    number = add_fire(cli)
    code, _, err = cli("status", number, "ditangani")
    assert code == 2 and "forward" in err
    code, _, err = cli("status", number, "beres")
    assert code == 2 and "menunggu" in err
    code, _, err = cli("forward", number, "nasa")
    assert code == 2 and "nasa" in err


def test_duplicate_and_missing_reports(cli: Cli) -> None:
    first = add_fire(cli)
    second = add_fire(cli)
    assert first in cli.ok("duplicate", second, first)
    code, _, err = cli("show", "112-2026-999999")
    assert code == 2 and "999999" in err
    code, _, err = cli("reopen", first, "--reason", "x")
    assert code == 2


def test_list_filters_and_json(cli: Cli) -> None:
    add_fire(cli)
    cli.ok("add", "-c", "pohon-tumbang", "-k", "Bahu", "-d", "Pohon tumbang")
    listed = json.loads(cli.ok("list", "--json"))
    assert listed["total"] == 2
    assert [r["category"] for r in listed["reports"]] == ["kebakaran", "pohon-tumbang"]
    only_trees = json.loads(cli.ok("list", "--kind", "non_darurat", "--json"))
    assert [r["category"] for r in only_trees["reports"]] == ["pohon-tumbang"]
    assert "2" in cli.ok("list")
    for bad in (["--kind", "x"], ["--status", "selesai"], ["--category", "gempa"]):
        code, _, err = cli("list", *bad)
        assert code == 2 and err.strip()


def test_call_logs_non_report_calls(cli: Cli) -> None:
    data = json.loads(cli.ok("call", "iseng", "--phone", "0812 3456 7890", "--json"))
    assert data["call_id"] == 1
    assert cli.ok("call", "hening")
    code, _, err = cli("call", "laporan")
    assert code == 2 and "iseng" in err


def test_categories_lists_the_sixteen(cli: Cli) -> None:
    data = json.loads(cli.ok("categories", "--json"))
    assert len(data) == 16
    assert [c["hotkey"] for c in data[:3]] == ["1", "2", "3"]


def test_db_commands(cli: Cli, db_path: Path) -> None:
    assert cli.ok("db", "path").strip() == str(db_path.resolve())
    assert "0001" in cli.ok("db", "upgrade") or cli.ok("db", "upgrade")
    check = json.loads(cli.ok("db", "check", "--json"))
    assert check["integrity"] == "ok" and check["problems"] == []


def test_db_check_reports_a_corrupt_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"not a database at all" * 50)
    code, _, err = Cli(path, capsys)("db", "check")
    assert code == 2 and "not a Siaga 112 database" in err


def test_indonesian_is_the_default_language(cli: Cli) -> None:
    code, _, err = cli("add", "-c", "kebakaran", "-k", "Bahu", "-d", " ", lang="id")
    assert code == 2 and "Wajib diisi" in err


def test_python_dash_m_runs_the_same_command(db_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "siaga_tui", "--db", str(db_path), "categories", "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 16


def test_help_for_every_command(cli: Cli) -> None:
    for command in ("add", "call", "show", "list", "forward", "ack", "status", "note", "db", "tui"):
        code, out, _ = cli(command, "--help")
        assert code == 0 and "Usage" in out


def test_every_command_is_mapped_to_the_module_that_registers_it() -> None:
    from siaga_tui.cli import COMMAND_MODULES, app, load_commands

    load_commands()
    registered = {
        command.name or command.callback.__name__.replace("_", "-")
        for command in app.registered_commands
    } | {group.name for group in app.registered_groups}
    assert registered == set(COMMAND_MODULES)


def test_console_start_loads_only_what_it_needs() -> None:
    """`siaga112 tui` must not pay for exports, accounts or statistics at start (B1)."""
    from tests.test_import_hygiene import loaded_in_fresh_interpreter

    setup = (
        "from siaga_tui.cli import load_commands, requested_command\n"
        "load_commands(requested_command(['--db', 'x.db', '--lang', 'en', 'tui']))"
    )
    heavy = (
        "siaga_tui.cli.export",
        "siaga_tui.services.export",
        "argon2",
        "siaga_tui.services.stats",
        "xlsxwriter",
    )
    assert loaded_in_fresh_interpreter(setup, heavy) == []


def test_the_console_runs_with_what_it_loaded_kept_out_of_full_collections(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`siaga112 tui` freezes the objects loaded before the console runs, so the
    collector's full passes do not scan them again during the first paint (B1)."""
    import gc

    import siaga_tui.app as console

    frozen_when_run: list[int] = []

    class Ran:
        def run(self) -> None:
            frozen_when_run.append(gc.get_freeze_count())

    monkeypatch.setattr(console, "make_app", lambda *args, **kwargs: Ran())
    before = gc.get_freeze_count()
    try:
        cli.ok("tui")
    finally:
        gc.unfreeze()
    assert before == 0
    assert frozen_when_run and frozen_when_run[0] > 0
