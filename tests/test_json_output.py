"""The ``--json`` outputs: each command prints exactly the keys its model declares.

Scripts read these keys. Each test runs the real command and compares what it printed,
and what the model's JSON schema lists, with the keys written here, in order: a key
added to or dropped from the output, the model or this list fails.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from siaga_tui.cli import json_output as out
from siaga_tui.core.db import open_database
from siaga_tui.services.operators import OperatorService
from tests.test_cli import Cli, add_fire

REPORT_ROW = [
    "id",
    "number",
    "category",
    "kind",
    "priority",
    "status",
    "caller_phone",
    "kelurahan_code",
    "kecamatan_code",
    "address",
    "description",
    "operator",
    "created_at",
    "updated_at",
    "version",
    "duplicate_of",
    "first_forwarded_at",
    "closed_at",
    "agencies",
    "awaiting_ack_since",
]
DETAIL_OWN = [
    "caller_name",
    "call_answered_at",
    "first_acknowledged_at",
    "duplicate_of_number",
    "referrals",
    "calls",
    "events",
]
REFERRAL = [
    "id",
    "agency",
    "forwarded_at",
    "forwarded_by",
    "channel",
    "agency_ref",
    "acknowledged_at",
    "acknowledged_by",
    "outcome",
]
CALL = [
    "id",
    "answered_at",
    "caller_phone",
    "disposition",
    "operator",
    "note",
    "report_id",
    "caller_name",
    "address",
    "description",
    "report_number",
]
EVENT = ["id", "at", "operator", "kind", "details"]
AUDIT_HEAD = ["id", "hash"]
SHIFT_SUMMARY = [
    "start",
    "end",
    "generated_at",
    "open_total",
    "open_items",
    "overdue",
    "awaiting_ack",
    "calls_by_disposition",
    "reports_by_category",
    "reports_filed",
    "reports_closed",
    "phone",
]
OPEN_ITEM = [
    "number",
    "category",
    "kind",
    "status",
    "created_at",
    "kelurahan_code",
    "agencies",
    "overdue",
    "late_minutes",
]
AWAITING_ACK = ["number", "agency", "forwarded_at", "waiting_minutes"]
HANDOVER = [
    "id",
    "created_at",
    "outgoing",
    "notes",
    "summary",
    "audit_head",
    "acknowledged_at",
    "incoming",
    "audit_head_id",
]

#: A moment as ``datetime.isoformat()`` writes it.
ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00")
#: A moment of a shift summary, as the handover row stores it.
STORED_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(db_path, capsys)


def assert_keys(printed: dict[str, Any], model: type[BaseModel], keys: list[str]) -> None:
    assert list(printed) == keys
    assert list(model.model_json_schema()["properties"]) == keys


def printed_json(cli: Cli, *args: str) -> Any:
    code, text, err = cli(*args)
    assert code == 0, err
    return json.loads(text)


def test_categories(cli: Cli) -> None:
    first = printed_json(cli, "categories", "--json")[0]
    keys = ["code", "label", "kind", "hotkey", "priority", "agencies"]
    assert_keys(first, out.CategoryOutput, keys)


def test_add_and_call(cli: Cli) -> None:
    saved = json.loads(add_fire(cli, "--json"))
    assert_keys(saved, out.SavedReportOutput, ["id", "number", "call_id"])
    logged = printed_json(cli, "call", "iseng", "--json")
    assert_keys(logged, out.LoggedCall, ["call_id"])


def test_list(cli: Cli) -> None:
    add_fire(cli)
    page = printed_json(cli, "list", "--json")
    assert_keys(page, out.ReportList, ["total", "reports"])
    assert_keys(page["reports"][0], out.ReportRow, REPORT_ROW)
    assert ISO_MOMENT.fullmatch(page["reports"][0]["created_at"])


def test_show_puts_the_report_row_after_the_details_own_keys(cli: Cli) -> None:
    number = add_fire(cli, "--name", "Budi")
    cli.ok("forward", number, "damkar")
    shown = printed_json(cli, "show", number, "--json")
    assert_keys(shown, out.ReportDetailOutput, DETAIL_OWN + REPORT_ROW)
    assert_keys(shown["referrals"][0], out.ReferralOutput, REFERRAL)
    assert_keys(shown["calls"][0], out.CallOutput, CALL)
    assert_keys(shown["events"][0], out.EventOutput, EVENT)


def test_audit_list_and_head(cli: Cli) -> None:
    add_fire(cli)
    entry = printed_json(cli, "audit", "--json")[0]
    keys = ["id", "at", "operator", "action", "subject", "details", "prev_hash", "hash"]
    assert_keys(entry, out.AuditEntry, keys)
    assert_keys(printed_json(cli, "audit", "head", "--json"), out.AuditHeadOutput, AUDIT_HEAD)


def test_audit_verify_with_a_finding(cli: Cli) -> None:
    add_fire(cli)
    with sqlite3.connect(cli.db_path) as conn:  # changed outside the program
        conn.execute("UPDATE report SET description = 'lain' WHERE id = 1")
    code, text, _ = cli("audit", "verify", "--json")
    assert code == 1
    result = json.loads(text)
    keys = [
        "ok",
        "checked",
        "signed",
        "rows_checked",
        "key_id",
        "head",
        "paper_head",
        "broken_id",
        "problem",
        "findings",
    ]
    assert_keys(result, out.VerificationOutput, keys)
    assert_keys(result["head"], out.AuditHeadOutput, AUDIT_HEAD)
    finding = ["problem", "entry", "table", "row", "detail", "message"]
    assert_keys(result["findings"][0], out.FindingOutput, finding)


def test_handover_preview_and_record(cli: Cli) -> None:
    number = add_fire(cli)
    cli.ok("forward", number, "damkar")
    preview = printed_json(cli, "handover", "show", "--json")
    assert_keys(preview, out.HandoverPreview, ["summary", "audit_head"])
    summary = preview["summary"]
    assert_keys(summary, out.ShiftSummaryOutput, SHIFT_SUMMARY)
    assert_keys(summary["open_items"][0], out.OpenItemOutput, OPEN_ITEM)
    assert_keys(summary["awaiting_ack"][0], out.AwaitingAckOutput, AWAITING_ACK)
    # The summary's moments are written as the handover row stores them.
    assert STORED_MOMENT.fullmatch(summary["start"])
    assert STORED_MOMENT.fullmatch(summary["open_items"][0]["created_at"])

    created = printed_json(cli, "handover", "create", "--notes", "awas", "--json")
    assert_keys(created, out.HandoverOutput, HANDOVER)
    assert ISO_MOMENT.fullmatch(created["created_at"])
    assert printed_json(cli, "handover", "show", str(created["id"]), "--json") == created
    assert printed_json(cli, "handover", "list", "--json") == [created]


@pytest.fixture
def signed_in_supervisor(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli`` acting as ani, now a supervisor's account, signed in for the shift."""
    monkeypatch.setenv("SIAGA112_PASSWORD_HASH", "fast")
    monkeypatch.setenv("SIAGA112_PASSWORD", "kata-sandi-rahasia")
    db = open_database(str(cli.db_path))
    OperatorService(db).add("ani", "Ani", "supervisor", "kata-sandi-rahasia")
    db.dispose()
    cli.ok("login")
    return cli


def test_operator_list_and_sessions(signed_in_supervisor: Cli) -> None:
    cli = signed_in_supervisor
    account = printed_json(cli, "operator", "list", "--json")[0]
    keys = ["username", "display_name", "role", "active", "locked_until", "created_at"]
    assert_keys(account, out.AccountOutput, keys)
    session = printed_json(cli, "operator", "sessions", "--json")[0]
    keys = ["id", "username", "scope", "label", "created_at", "expires_at", "ended_at", "ended_by"]
    assert_keys(session, out.SessionOutput, keys)


def test_db_check(cli: Cli) -> None:
    add_fire(cli)
    checked = printed_json(cli, "db", "check", "--json")
    keys = ["database", "revision", "expected_revision", "integrity", "problems"]
    assert_keys(checked, out.DatabaseCheck, keys)


def test_phone(cli: Cli) -> None:
    call = printed_json(cli, "phone", "ring", "--call-id", "1701.1", "--json")
    keys = [
        "call_id",
        "caller_id",
        "phone",
        "line",
        "offered_at",
        "answered_at",
        "ended_at",
        "position",
        "outcome",
    ]
    assert_keys(call, out.PhoneCallOutput, keys)


def test_every_output_model_is_tested() -> None:
    """A new model in ``json_output`` needs its keys pinned above."""
    source = Path(__file__).read_text(encoding="utf-8")
    models = {
        name
        for name, value in vars(out).items()
        if isinstance(value, type)
        and issubclass(value, out.Output)
        and value is not out.Output
        and not name.startswith("_")
    }
    assert {name for name in models if f"out.{name}," not in source} == set()
