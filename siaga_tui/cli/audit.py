"""``siaga112 audit``: list the audit log with filters, and verify its hash chain."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, time, timedelta

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from siaga_tui.cli.base import app, fail, print_json, settings, t
from siaga_tui.cli.identity import require_operator
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
            moment = datetime.combine(day, time(0), display_zone())
            if end_of_day:
                moment = datetime.combine(day + timedelta(days=1), time(0), display_zone())
            return moment
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise fail(t("audit_bad_time", value=safe_cell(value, width=40))) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=display_zone())


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
        print_json([asdict(entry) for entry in entries])
        return
    if not entries:
        print(t("audit_empty"))
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
    Console().print(table)


@audit_app.command("verify")
def audit_verify(as_json: bool = typer.Option(False, "--json", help="Output as JSON.")) -> None:
    """Check the whole hash chain; exit 1 naming the first broken entry."""
    result = audit.verify(settings.database())
    if as_json:
        print_json(
            {
                "ok": result.ok,
                "checked": result.checked,
                "head": {"id": result.head.id, "hash": result.head.hash},
                "broken_id": result.broken_id,
                "problem": result.problem,
            }
        )
    elif result.ok:
        print(t("audit_verify_ok", count=result.checked))
        print(t("audit_head_line", id=result.head.id, hash=result.head.hash))
    else:
        print(t("audit_verify_broken", id=result.broken_id, problem=t(result.problem or "")))
    if not result.ok:
        raise typer.Exit(1)
