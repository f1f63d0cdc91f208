"""Hostile input through the service layer and the command line, and out again.

Every case in ``cases.toml`` is either filed and shown exactly as ``clean_text`` leaves
it, or refused with a message that names the field; never a traceback, never an escape
sequence or a control character sent back to the terminal, never a message that grows
with the size of the paste.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from siaga_tui.core.db import Database
from siaga_tui.core.errors import InvalidInput
from siaga_tui.core.i18n import translate
from siaga_tui.core.models import EVENT, REPORT
from siaga_tui.services.events import replay
from siaga_tui.services.reports import NewReport, ReportService
from tests.reliability.conftest import (
    CASES,
    Case,
    assert_no_traceback,
    assert_terminal_safe,
    case_params,
    unsafe_characters,
)

#: A message quoting what was typed stays short, whatever was pasted.
LONGEST_MESSAGE = 1000

BASE: dict[str, str] = {
    "category": "kebakaran",
    "kelurahan": "Paal IV",
    "description": "Rumah terbakar dekat pasar",
    "phone": "0812-3456-7890",
    "address": "Jl. Babe Palar",
    "caller_name": "Budi",
}

#: The CLI option of each report field.
OPTIONS = {
    "category": "--category",
    "kelurahan": "--kelurahan",
    "description": "--description",
    "phone": "--phone",
    "address": "--address",
    "caller_name": "--name",
}

#: The column (or detail attribute) each field is stored in.
COLUMNS = {"phone": "caller_phone", "kelurahan": "kelurahan_code"}

#: Cases that go into a report or a note (the others are dates, files, ...).
REPORT_CASES = [c for c in CASES if c.field in (*OPTIONS, "note")]
DATE_CASES = [c for c in CASES if c.field == "date"]


def report_values(case: Case) -> dict[str, str]:
    values = dict(BASE)
    if case.field in values:
        values[case.field] = case.text
    return values


def stored_value(row: Any, case: Case) -> str:
    value = row[COLUMNS.get(case.field, case.field)]
    return value or ""


def table_rows(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {
            "reports": conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar_one(),
            "events": conn.execute(sa.select(sa.func.count()).select_from(EVENT)).scalar_one(),
        }


def assert_replay_matches(db: Database) -> None:
    with db.read() as conn:
        for row in conn.execute(sa.select(REPORT)).mappings():
            events = conn.execute(
                sa.select(EVENT.c.kind, EVENT.c.at, EVENT.c.details)
                .where(EVENT.c.report_id == row["id"])
                .order_by(EVENT.c.id)
            ).all()
            state = replay([tuple(e) for e in events])
            assert (state.status, state.version) == (row["status"], row["version"])


def assert_refusal_names_field(error: InvalidInput, case: Case) -> None:
    assert case.field in error.fields
    for lang in ("id", "en"):
        message = error.message(lang)
        assert translate(f"field_{case.field}", lang) in message
        assert_terminal_safe(message)
        assert len(message) < LONGEST_MESSAGE, f"{len(message)} characters"


# --- Service layer -------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params(REPORT_CASES))
def test_service_layer(case: Case, db: Database, clock: Any) -> None:
    desk = ReportService(db, operator="rel", clock=clock)
    if case.field == "note":
        saved = desk.create_report(NewReport(**BASE))
        before = table_rows(db)
        try:
            desk.add_note(saved.id, case.text)
        except InvalidInput as error:
            assert not case.accepted, error.message("en")
            assert_refusal_names_field(error, case)
            assert table_rows(db) == before
        else:
            assert case.accepted
            notes = [e.details.get("note") for e in desk.get_report(saved.id).events]
            assert notes[-1] == case.expected
        assert_replay_matches(db)
        return

    try:
        saved = desk.create_report(NewReport(**report_values(case)))
    except InvalidInput as error:
        assert not case.accepted, f"refused: {error.message('en')[:300]}"
        assert_refusal_names_field(error, case)
        assert table_rows(db) == {"reports": 0, "events": 0}
        return
    assert case.accepted, "accepted what must be refused"
    with db.read() as conn:
        row = conn.execute(sa.select(REPORT).where(REPORT.c.id == saved.id)).mappings().one()
    assert stored_value(row, case) == case.expected
    assert_replay_matches(db)


# --- Command line, in this process ---------------------------------------------------


@pytest.mark.parametrize("case", case_params(REPORT_CASES))
def test_command_line(case: Case, cli: Any) -> None:
    if case.field == "note":
        code, out, err = cli("add", *(f"{OPTIONS[k]}={v}" for k, v in BASE.items()))
        assert code == 0, err
        number = out.strip()
        code, out, err = cli("note", number, "--", case.text)
    else:
        values = report_values(case)
        code, out, err = cli("add", "--json", *(f"{OPTIONS[k]}={v}" for k, v in values.items()))
        number = json.loads(out)["number"] if code == 0 else None
    assert_no_traceback(err)
    assert_terminal_safe(out + err)
    if not case.accepted:
        assert code == 2, (code, err[:300])
        assert len(err.strip().splitlines()) == 1, err[:300]
        assert translate(f"field_{case.field}") in err
        assert len(err) < LONGEST_MESSAGE
        return

    assert code == 0, err[:300]
    code, out, err = cli("show", number, "--json")
    assert code == 0, err
    detail = json.loads(out)
    if case.field == "note":
        assert detail["events"][-1]["details"]["note"] == case.expected
    else:
        shown = detail.get(COLUMNS.get(case.field, case.field)) or ""
        assert shown == case.expected

    # What people read: the detail and the queue, as text on a terminal.
    for command in (("show", number),):  # the queue: test_every_output_with_every_accepted_case
        code, out, err = cli(*command)
        assert code == 0, err
        assert_no_traceback(err)
        assert_terminal_safe(out + err)
        shown_whole = len(case.expected) < 40  # shorter than a line: shown exactly as stored
        shown_field = case.field in ("description", "address", "caller_name")
        if command[0] == "show" and shown_field and shown_whole:
            first_line = case.expected.splitlines()[0] if case.expected else ""
            assert first_line.strip() in out


# --- Command line, as its own process ------------------------------------------------

SUBPROCESS_CASES = [c for c in CASES if c.id in {"osc52-clipboard", "kelurahan-escape-echo"}]


@pytest.mark.parametrize("case", case_params(SUBPROCESS_CASES))
def test_command_line_process(case: Case, db_path: Path) -> None:
    values = report_values(case)
    args = [f"{OPTIONS[k]}={v}" for k, v in values.items()]
    result = subprocess.run(
        [sys.executable, "-m", "siaga_tui", "--db", str(db_path), "add", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_no_traceback(result.stderr)
    assert_terminal_safe(result.stdout + result.stderr)
    assert result.returncode == (0 if case.accepted else 2), result.stderr[:300]
    if not case.accepted:
        assert len(result.stderr.strip().splitlines()) == 1


# --- Dates, through the statistics' period ---------------------------------------------


@pytest.mark.parametrize("case", case_params(DATE_CASES))
def test_statistics_period(case: Case, cli: Any) -> None:
    code, out, err = cli("stats", "--from", case.text, "--to", "2020-12-31")
    assert_no_traceback(err)
    assert_terminal_safe(out + err)
    if case.accepted:
        assert code == 0, err
    else:
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1
        assert "--from" in err


# --- Every accepted case at once, out through every output ----------------------------


def test_every_output_with_every_accepted_case(
    db: Database, cli: Any, figures: dict[str, Any]
) -> None:
    desk = ReportService(db, operator="rel")
    numbers = []
    for case in REPORT_CASES:
        if not case.accepted:
            continue
        saved = desk.create_report(
            NewReport(**report_values(case) if case.field != "note" else BASE)
        )
        if case.field == "note":
            desk.add_note(saved.id, case.text)
        desk.forward(
            saved.id, "damkar", agency_ref=case.text[:100] if case.field == "note" else None
        )
        numbers.append(saved.number)
    outputs = [
        ("list", "--limit", "500"),
        ("list", "--json", "--limit", "500"),
        ("stats",),
        ("stats", "--format", "json"),
        ("stats", "--format", "csv"),
        *(("show", number) for number in numbers),
    ]
    for command in outputs:
        code, out, err = cli(*command)
        assert code == 0, (command, err)
        assert_no_traceback(err)
        assert_terminal_safe(out + err)
        if "csv" in command:
            assert_no_formula_cells(out)
    figures.update(reports=len(numbers), outputs=len(outputs))


def assert_no_formula_cells(text: str) -> None:
    """No CSV cell a spreadsheet would run: none starts with = + - @ TAB or CR."""
    import csv
    import io

    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r") or _is_number(cell), repr(cell)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


# --- Every case as a search in the queue -----------------------------------------------


@pytest.mark.parametrize("case", case_params())
def test_queue_search(case: Case, db: Database, cli: Any) -> None:
    from siaga_tui.core.errors import SiagaError
    from siaga_tui.services.queue import QueueFilter, QueueService

    desk = ReportService(db, operator="rel")
    desk.create_report(NewReport(**BASE))
    queue = QueueService(db)
    for run in (
        lambda: queue.open_reports(QueueFilter(search=case.text)),
        lambda: queue.search(case.text),
    ):
        try:
            run()
        except SiagaError as error:  # a refusal is fine, if it can be said safely
            assert_terminal_safe(error.message())
            assert len(error.message()) < LONGEST_MESSAGE
    if not case.big and unsafe_characters(case.text):
        code, out, err = cli("list", "--search", case.text)
        assert code in (0, 2), err
        assert_no_traceback(err)
        assert_terminal_safe(out + err)
