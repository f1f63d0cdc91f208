"""``siaga112 audit``: list the audit log with filters, and verify its hash chain."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from siaga_tui.cli.base import app, fail, print_json, settings, t
from siaga_tui.cli.identity import require_operator
from siaga_tui.cli.json_output import AuditEntry, AuditHeadOutput, VerificationOutput
from siaga_tui.core.text import safe_cell
from siaga_tui.core.timeutil import display_zone, format_local
from siaga_tui.services import audit

audit_app = typer.Typer(
    help="The audit log: who did what and when; `verify` checks its hash chain.",
    invoke_without_command=True,
)
app.add_typer(audit_app, name="audit")


def parse_local_time(value: str | None, *, end_of_day: bool = False) -> datetime | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM`` in WITA, as an aware datetime.

    A bare date given as an upper bound means the end of that day (the next midnight).
    """
    if value is None or not value.strip():
        return None
    text = value.strip().replace("T", " ")
    try:
        if len(text) <= 10:
            day = datetime.strptime(text, "%Y-%m-%d").date()
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise ValueError(text)
            moment = datetime.combine(day, time(0), display_zone())
            if end_of_day:
                moment = datetime.combine(day + timedelta(days=1), time(0), display_zone())
            return moment
        parsed = datetime.fromisoformat(text)
        moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=display_zone())
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise ValueError(text)
        moment.astimezone(UTC)  # raises for moments UTC cannot hold
    except (ValueError, OverflowError):
        raise fail(t("audit_bad_time", value=safe_cell(value, width=40))) from None
    return moment


#: The years a time given on the command line may fall in (Python's datetime holds
#: 1–9999, but a moment in year 1 or 9999 cannot always be moved between zones).
FIRST_YEAR = 1900
LAST_YEAR = 2999


@audit_app.callback()
def audit_list(
    ctx: typer.Context,
    operator: str | None = typer.Option(
        None, "--operator", "-o", help="Only this operator's entries."
    ),
    action: str | None = typer.Option(
        None,
        "--action",
        "-a",
        help="Only this action (signin, signin.failed, permission.refused, …); "
        "a prefix ending in a dot (report.) for all of a kind.",
    ),
    date_from: str | None = typer.Option(
        None, "--from", help="From this WITA date/time (YYYY-MM-DD[ HH:MM])."
    ),
    date_to: str | None = typer.Option(
        None, "--to", help="Up to this WITA date/time (a date: the whole day)."
    ),
    limit: int = typer.Option(
        200, "--limit", min=1, max=100_000, help="At most this many (the newest)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Output as JSON."),
) -> None:
    """List the audit log, oldest first (the newest --limit entries matching the filters)."""
    if ctx.invoked_subcommand is not None:
        return
    require_operator()  # the log names people and reports: the signed-in operator only
    entries = audit.list_entries(
        settings.database(),
        operator=operator,
        action=action,
        since=parse_local_time(date_from),
        until=parse_local_time(date_to, end_of_day=True),
        limit=limit,
    )
    if as_json:
        print_json([AuditEntry.model_validate(entry).model_dump() for entry in entries])
        return
    if not entries:
        print(t("audit_empty"))
        return
    console = Console()
    if console.width < WIDE_AUDIT:
        _print_entries_narrow(console, entries)
        return
    table = Table(title=t("audit_title"))
    table.add_column("#", justify="right")
    for column in ("at", "operator", "action", "subject", "details"):
        table.add_column(t(f"audit_col_{column}"), no_wrap=column in ("at", "action"))
    for entry in entries:
        table.add_row(
            str(entry.id),
            format_local(entry.at, "%Y-%m-%d %H:%M:%S"),
            Text(safe_cell(entry.operator, width=64)),
            entry.action,
            Text(safe_cell(entry.subject, width=40)),
            Text(safe_cell(json.dumps(entry.details, ensure_ascii=False), width=80)),
        )
    console.print(table)


#: Below this many columns the log is printed as two lines per entry, not a table
#: whose details column would wrap one word per line.
WIDE_AUDIT = 120


def _print_entries_narrow(console: Console, entries: list[audit.AuditView]) -> None:
    """Each entry on a line (number, time, operator, action, subject) and its details
    below it, indented and cut to the width: readable at 80 columns."""
    console.print(Text(t("audit_title"), style="bold"))
    width = max(20, console.width - 4)
    for entry in entries:
        head = " ".join(
            [
                f"#{entry.id}",
                format_local(entry.at, "%Y-%m-%d %H:%M:%S"),
                safe_cell(entry.operator, width=24),
                entry.action,
                safe_cell(entry.subject, width=40),
            ]
        )
        console.print(Text(head), overflow="fold")
        details = safe_cell(json.dumps(entry.details, ensure_ascii=False), width=width)
        console.print(Text("    " + details, style="dim"), no_wrap=True, overflow="ellipsis")


@audit_app.command("verify")
def audit_verify(
    head: str | None = typer.Option(
        None,
        "--head",
        help="A head hash noted on paper (a handover or statistics sheet; 12+ hex digits): "
        "prove that the log still holds it.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Output as JSON."),
) -> None:
    """Check the log and the tables it covers; exit 1 listing every finding."""
    wanted = _paper_head(head)
    result = audit.verify(settings.database(), head=wanted)
    if as_json:
        messages = [finding_text(f) for f in result.findings]
        output = VerificationOutput.from_verification(result, paper_head=wanted, messages=messages)
        print_json(output.model_dump())
    elif result.ok:
        print(
            t(
                "audit_verify_ok",
                count=result.checked,
                signed=result.signed,
                key_id=result.key_id or "-",
                rows=result.rows_checked,
            )
        )
        if result.signed < result.checked:
            print(t("audit_verify_unsigned", count=result.checked - result.signed))
        if wanted:
            print(t("audit_head_ok", head=wanted))
        print(t("audit_head_line", id=result.head.id, hash=result.head.hash))
    else:
        print(t("audit_verify_broken", count=len(result.findings)))
        for finding in result.findings[:SHOWN_FINDINGS]:
            print(finding_text(finding))
        if len(result.findings) > SHOWN_FINDINGS:
            print(t("audit_findings_more", count=len(result.findings) - SHOWN_FINDINGS))
    if not result.ok:
        raise typer.Exit(1)


#: Findings printed as text (``--json`` gives them all).
SHOWN_FINDINGS = 50


def _paper_head(value: str | None) -> str | None:
    """The hash part of a head as noted on paper (``#123 3f2a…``, ``3f2a…``)."""
    if value is None:
        return None
    text = value.strip().split()[-1] if value.strip() else ""
    text = text.rstrip("….").lower()
    if len(text) < 12 or any(c not in "0123456789abcdef" for c in text):
        raise fail(t("audit_head_too_short", value=safe_cell(value, width=80)))
    return text


def finding_text(finding: audit.Finding) -> str:
    """One line naming the entry or row a finding concerns, and what is wrong."""
    from siaga_tui.services.audit_key import key_path, load_key

    key = load_key(create=False)
    problem = t(
        finding.problem,
        detail=finding.detail,
        id=finding.entry or 0,
        path=str(key_path()),
        key_id=key.id if key else "-",
    )
    if finding.row is not None and finding.table is not None and finding.entry is not None:
        return t(
            "audit_finding_entry_row",
            id=finding.entry,
            table=finding.table,
            row=finding.row,
            problem=problem,
        )
    if finding.row is not None and finding.table is not None:
        return t("audit_finding_row", table=finding.table, row=finding.row, problem=problem)
    if finding.entry is not None:
        return t("audit_finding_entry", id=finding.entry, problem=problem)
    return t("audit_finding_log", problem=problem)


@audit_app.command("head")
def audit_head(as_json: bool = typer.Option(False, "--json", help="Output as JSON.")) -> None:
    """Print the log's current head, to note on paper (check it later with verify --head)."""
    head = audit.audit_head(settings.database())
    if as_json:
        print_json(AuditHeadOutput.model_validate(head).model_dump())
    else:
        print(t("audit_head_line", id=head.id, hash=head.hash))
