"""Fixtures of the reliability suite: the hostile cases, a CLI runner, and the results log.

``python -m tests.reliability.report`` runs this suite with ``RELIABILITY_RESULTS`` set
to a file; every test's outcome and the figures tests record (``figures`` fixture:
reports written, found, lost, timings) are written there at the end of the session.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

from siaga_tui.core.text import clean_text
from tests.console.conftest import pytest_pyfunc_call  # noqa: F401  (runs async Pilot tests)

CASES_FILE: Final = Path(__file__).with_name("cases.toml")
RESULTS_ENV: Final = "RELIABILITY_RESULTS"
#: Fields whose text keeps its line breaks.
MULTILINE_FIELDS: Final = frozenset({"description", "note"})

# Characters no text sent to a terminal may hold: C0 controls but TAB and LF, DEL, C1,
# and the bidi embeddings, overrides and isolates.
_UNSAFE: Final = frozenset(
    [chr(c) for c in range(0x20) if chr(c) not in "\t\n"]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)


@dataclass(frozen=True)
class Case:
    """One hostile input and what must happen to it."""

    id: str
    field: str
    value: str
    expect: str
    why: str
    repeat: int = 1
    stored: str | None = None
    #: How a CSV import takes it, when that differs from ``expect`` (a NUL byte marks a
    #: file as UTF-16 or binary: the whole file is refused, in one line).
    expect_import: str | None = None

    @property
    def text(self) -> str:
        return self.value * self.repeat

    @property
    def accepted(self) -> bool:
        return self.expect == "accepted"

    @property
    def big(self) -> bool:
        return len(self.text) > 50_000

    @property
    def expected(self) -> str:
        """What is stored for an accepted case."""
        if self.stored is not None:
            return self.stored
        return clean_text(self.text, multiline=self.field in MULTILINE_FIELDS)


def load_cases() -> list[Case]:
    table = tomllib.loads(CASES_FILE.read_text(encoding="utf-8"))
    cases = [Case(**entry) for entry in table["case"]]
    ids = [case.id for case in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert all(case.expect in ("accepted", "refused") for case in cases)
    return cases


CASES: Final = load_cases()


def case_params(cases: list[Case] | None = None) -> list[Any]:
    return [pytest.param(case, id=case.id) for case in (CASES if cases is None else cases)]


def unsafe_characters(text: str) -> list[str]:
    """The characters in ``text`` a terminal would act on, by their names."""
    return sorted({unicodedata.name(ch, f"U+{ord(ch):04X}") for ch in set(text) if ch in _UNSAFE})


def assert_terminal_safe(text: str) -> None:
    assert not unsafe_characters(text), f"sent to the terminal: {unsafe_characters(text)}"


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text, text[-2000:]


# --- Results for the report ---------------------------------------------------------

_results: dict[str, Any] = {"tests": {}, "figures": {}}


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A dict a test fills with what it measured; it ends up in the reliability report."""
    found: dict[str, Any] = {}
    _results["figures"][request.node.nodeid] = found
    return found


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    entry = _results["tests"].setdefault(report.nodeid, {"outcome": "passed", "duration": 0.0})
    entry["duration"] += report.duration
    if report.failed:
        entry["outcome"] = "failed"
    elif report.skipped and entry["outcome"] == "passed":
        entry["outcome"] = "xfailed" if hasattr(report, "wasxfail") else "skipped"


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get(RESULTS_ENV)
    if target:
        Path(target).write_text(json.dumps(_results, indent=1, default=str), encoding="utf-8")


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database at the current schema, made once: copying it beats migrating."""
    from siaga_tui.core.db import open_database

    path = tmp_path_factory.mktemp("template") / "siaga112.db"
    open_database(path).dispose()  # closing the last connection folds the WAL in
    return path


@pytest.fixture
def db_path(tmp_path: Path, template_database: Path) -> Path:
    """The suite's database file: a copy of the empty template (overrides tests/conftest)."""
    path = tmp_path / "siaga112.db"
    shutil.copyfile(template_database, path)
    return path


class CliRunner:
    """Runs ``siaga112`` in this process: each call returns (exit code, stdout, stderr)."""

    def __init__(self, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db_path = db_path
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        return self.at(self.db_path, *args)

    def at(self, db_path: Path, *args: str) -> tuple[int, str, str]:
        """The same, on another database file."""
        from siaga_tui.cli import main
        from siaga_tui.cli.base import settings

        self.capsys.readouterr()
        try:
            main(["--db", str(db_path), "--operator", "rel", *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            settings.reset()
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]) -> CliRunner:
    return CliRunner(db_path, capsys)
