"""Filing and working reports from the command line: add, call, show, list, forward, …

Caller text is printed as Rich ``Text`` (never markup), so whatever a caller said
reaches the terminal as plain characters.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from siaga_tui.cli.base import app, fail, print_json, settings, t
from siaga_tui.cli.identity import signed_in
from siaga_tui.cli.json_output import (
    CategoryOutput,
    LoggedCall,
    ReportDetailOutput,
    ReportList,
    SavedReportOutput,
)
from siaga_tui.core.catalogue import load_catalogue
from siaga_tui.core.i18n import current_language
from siaga_tui.core.models import Channel, Status
from siaga_tui.core.phones import format_phone
from siaga_tui.core.text import clean_text, safe_cell
from siaga_tui.core.timeutil import format_local
from siaga_tui.services.calls import CallService
from siaga_tui.services.export import BULK_READ_ROWS, record_bulk_read
from siaga_tui.services.queue import QueueFilter, QueueService
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.services.views import ReportDetail, ReportSummary

JSON_OPTION = typer.Option(False, "--json", help="Output as JSON.")


def _reports() -> ReportService:
    return ReportService(settings.database(), operator=settings.operator_name, role=settings.role)


def _category_help() -> str:
    return "Category code, e.g. kebakaran, kecelakaan, pohon-tumbang (see `siaga112 categories`)."


@app.command("categories")
def categories(as_json: bool = JSON_OPTION) -> None:
    """List the report categories with their codes and console hotkeys."""
    catalogue = load_catalogue()
    lang = current_language()
    if as_json:
        print_json(
            [CategoryOutput.from_category(c, lang).model_dump() for c in catalogue.categories]
        )
        return
    table = Table(title=t("cli_categories_title"))
    for column in ("key", "code", "label", "kind", "agencies"):
        # The code is what people type: never cut (the label and agencies wrap instead).
        table.add_column(t(f"cli_col_{column}"), no_wrap=column in ("key", "code", "kind"))
    for c in catalogue.categories:
        table.add_row(
            c.hotkey, c.code, c.label(lang), t(f"kind_{c.kind}"), ", ".join(c.primary_agencies)
        )
    Console().print(table)


@app.command("add")
@signed_in
def add(
    category: str = typer.Option(..., "--category", "-c", help=_category_help()),
    kelurahan: str = typer.Option(
        ..., "--kelurahan", "-k", help="Kelurahan by name, alias (Paal 4) or code (71.71.05.1010)."
    ),
    description: str = typer.Option(..., "--description", "-d", help="What happened."),
    phone: str | None = typer.Option(None, "--phone", "-p", help="Caller's number (optional)."),
    address: str = typer.Option("", "--address", "-a", help="Address or landmark."),
    name: str | None = typer.Option(None, "--name", help="Caller's name (optional)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """File a report; prints its number."""
    saved = _reports().create_report(
        NewReport(
            category=category,
            kelurahan=kelurahan,
            description=description,
            phone=phone,
            address=address,
            caller_name=name,
        )
    )
    if as_json:
        print_json(SavedReportOutput.model_validate(saved).model_dump())
    else:
        print(saved.number)


@app.command("call")
@signed_in
def call(
    disposition: str = typer.Argument(
        ...,
        help="iseng (prank), hening (silent), informasi (information), salah_sambung (wrong number).",
    ),
    phone: str | None = typer.Option(None, "--phone", "-p", help="Caller's number (optional)."),
    note: str | None = typer.Option(None, "--note", "-n", help="Short note."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Log an answered call that is no report."""
    call_id = CallService(settings.database(), operator=settings.operator_name).log_call(
        disposition, phone=phone, note=note
    )
    if as_json:
        print_json(LoggedCall(call_id=call_id).model_dump())
    else:
        print(t("cli_call_logged", id=call_id))


@app.command("show")
@signed_in
def show(
    number: str = typer.Argument(..., help="Report number, e.g. 112-2026-000123."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a report with its referrals, calls and full history."""
    detail = _reports().get_report(number)
    if as_json:
        print_json(ReportDetailOutput.from_detail(detail).model_dump())
        return
    _print_detail(detail)


@app.command("list")
@signed_in
def list_reports(
    kind: str | None = typer.Option(None, "--kind", help="darurat or non_darurat."),
    category: str | None = typer.Option(None, "--category", "-c", help="Category code."),
    status: str | None = typer.Option(None, "--status", "-s", help="menunggu or ditangani."),
    search: str = typer.Option("", "--search", "-q", help="Number, phone, place or words."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=10000, help="How many rows."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List open reports, most urgent first (emergencies waiting, then oldest)."""
    if kind and kind not in ("darurat", "non_darurat"):
        raise fail(t("choice_unknown", value=kind, field="--kind", allowed="darurat, non_darurat"))
    if status and status not in (Status.MENUNGGU, Status.DITANGANI):
        raise fail(
            t("choice_unknown", value=status, field="--status", allowed="menunggu, ditangani")
        )
    if category and category not in {c.code for c in load_catalogue().categories}:
        raise fail(t("category_unknown", value=category))
    filters = QueueFilter(kind=kind, category=category, status=status, search=search)
    page = QueueService(settings.database()).open_reports(filters, limit=limit)
    if len(page.rows) > BULK_READ_ROWS:  # callers' numbers in bulk: on record, like an export
        record_bulk_read(
            settings.database(),
            operator=settings.operator_name,
            via="list",
            subject="list --json" if as_json else "list",
            rows=len(page.rows),
            details={"filters": asdict(filters)},
        )
    if as_json:
        print_json(
            ReportList.model_validate({"total": page.total, "reports": page.rows}).model_dump()
        )
        return
    _print_summaries(page.rows, title=t("cli_list_title", shown=len(page.rows), total=page.total))


@app.command("forward")
@signed_in
def forward(
    number: str = typer.Argument(..., help="Report number."),
    agency: str = typer.Argument(..., help="Agency code, e.g. damkar, polresta, bpbd, pln."),
    channel: str = typer.Option(
        Channel.TELEPON.value, "--channel", help="telepon, radio, whatsapp, aplikasi, langsung."
    ),
    ref: str | None = typer.Option(None, "--ref", help="The agency's own reference."),
) -> None:
    """Forward a report to an agency (a waiting report becomes 'ditangani')."""
    service = _reports()
    detail = service.get_report(number)
    service.forward(detail.id, agency, channel=channel, agency_ref=ref)
    print(t("cli_forwarded", number=detail.number, agency=agency))


@app.command("ack")
@signed_in
def ack(
    number: str = typer.Argument(..., help="Report number."),
    agency: str = typer.Argument(..., help="Agency code of the referral being acknowledged."),
    by: str | None = typer.Option(None, "--by", help="Who at the agency confirmed."),
    ref: str | None = typer.Option(None, "--ref", help="The agency's reference."),
) -> None:
    """Record that an agency acknowledged a forwarded report."""
    service = _reports()
    detail = service.get_report(number)
    pending = [
        r
        for r in detail.referrals
        if r.agency == agency.strip().lower() and r.acknowledged_at is None
    ]
    if not pending:
        raise fail(t("cli_no_pending_referral", number=detail.number, agency=agency))
    service.acknowledge(detail.id, pending[0].id, acknowledged_by=by, agency_ref=ref)
    print(t("cli_acknowledged", number=detail.number, agency=agency))


@app.command("status")
@signed_in
def status_(
    number: str = typer.Argument(..., help="Report number."),
    status: str = typer.Argument(..., help="menunggu, ditangani or selesai."),
    note: str | None = typer.Option(
        None, "--note", "-n", help="Closing note (needed for selesai)."
    ),
) -> None:
    """Change a report's status (the lifecycle rules explain any refusal)."""
    service = _reports()
    detail = service.get_report(number)
    service.change_status(detail.id, status, note=note)
    print(t("cli_status_changed", number=detail.number, status=status))


@app.command("note")
@signed_in
def note(
    number: str = typer.Argument(..., help="Report number."),
    text: str = typer.Argument(..., help="The note."),
) -> None:
    """Add a note to a report's history."""
    service = _reports()
    detail = service.get_report(number)
    service.add_note(detail.id, text)
    print(t("cli_note_added", number=detail.number))


@app.command("duplicate")
@signed_in
def duplicate(
    number: str = typer.Argument(..., help="The report that repeats another."),
    original: str = typer.Argument(..., help="The original report's number."),
) -> None:
    """Close a report as a duplicate of another."""
    service = _reports()
    detail = service.get_report(number)
    root = service.mark_duplicate(detail.id, original)
    print(t("cli_duplicate_marked", number=detail.number, original=root))


@app.command("reopen")
@signed_in
def reopen(
    number: str = typer.Argument(..., help="Report number."),
    reason: str = typer.Option(..., "--reason", "-r", help="Why it is reopened."),
) -> None:
    """Reopen a closed report (needs a reason; a supervisor once accounts exist)."""
    service = _reports()
    detail = service.get_report(number)
    status = service.reopen(detail.id, reason)
    print(t("cli_reopened", number=detail.number, status=status))


# --- Output ---------------------------------------------------------------------------


#: Below this many columns ``list`` puts the time under the number and leaves the
#: caller's number out (it is in ``show``), so numbers and times are never cut.
WIDE_LIST = 110


def _print_summaries(rows: tuple[ReportSummary, ...] | list[ReportSummary], *, title: str) -> None:
    catalogue = load_catalogue()
    lang = current_language()
    console = Console()
    narrow = console.width < WIDE_LIST
    table = Table(title=title)
    if narrow:
        names: tuple[str, ...] = ("number", "category", "place", "status", "agencies")
    else:
        names = ("number", "time", "category", "place", "caller", "status", "agencies")
    for column in names:
        whole = column in ("number", "time", "status")  # never cut: "112-2019…" helps no one
        table.add_column(t(f"cli_col_{column}"), no_wrap=whole)
    for row in rows:
        category = catalogue.category(row.category)
        marker = "!" if category.is_emergency else " "
        agencies = ", ".join(catalogue.agency(code).short_name for code in row.agencies)
        when = format_local(row.created_at)
        cells = [
            Text(f"{row.number}\n{when}" if narrow else row.number),
            *([] if narrow else [Text(when)]),
            Text(f"{marker} {category.label(lang)}"),
            Text(catalogue.kelurahan_by_code(row.kelurahan_code).display),
            *([] if narrow else [Text(format_phone(row.caller_phone))]),
            Text(t(f"status_{row.status}")),
            Text(agencies),
        ]
        table.add_row(*cells)
    console.print(table)


def _print_detail(detail: ReportDetail) -> None:
    catalogue = load_catalogue()
    lang = current_language()
    s = detail.summary
    console = Console()
    lines = [
        (t("cli_col_number"), s.number),
        (
            t("cli_col_category"),
            f"{catalogue.category(s.category).label(lang)} ({t('kind_' + s.kind)})",
        ),
        (t("cli_col_status"), t(f"status_{s.status}")),
        (t("cli_col_place"), catalogue.kelurahan_by_code(s.kelurahan_code).display),
        (t("field_address"), s.address),
        (
            t("cli_col_caller"),
            " ".join(filter(None, [format_phone(s.caller_phone), detail.caller_name or ""])),
        ),
        (t("cli_col_time"), format_local(s.created_at, "%Y-%m-%d %H:%M:%S %Z")),
        (t("cli_col_operator"), s.operator),
    ]
    if detail.duplicate_of_number:
        lines.append((t("cli_col_duplicate_of"), detail.duplicate_of_number))
    # Stored text is cleaned again when shown: rows from older versions or other tools.
    for label, value in lines:
        console.print(Text(f"{label:<18} ", style="bold") + Text(clean_text(value)))
    console.print(
        Text(f"{t('field_description'):<18} ", style="bold")
        + Text(clean_text(s.description, multiline=True))
    )
    if detail.referrals:
        console.print(Text(t("cli_referrals"), style="bold underline"))
        for r in detail.referrals:
            ack = format_local(r.acknowledged_at) if r.acknowledged_at else "-"
            ref = clean_text(r.agency_ref)
            console.print(
                Text(
                    f"  {r.agency:<12} {format_local(r.forwarded_at)}  {r.channel:<9} ack {ack}  {ref}"
                )
            )
    console.print(Text(t("cli_history"), style="bold underline"))
    for event in detail.events:
        console.print(
            Text(
                f"  {format_local(event.at, '%Y-%m-%d %H:%M:%S')}  {safe_cell(event.operator, width=24):<12} "
            )
            + Text(f"{t('event_' + event.kind)}  ")
            + Text(safe_cell(_event_summary(event.details), width=80))
        )


def _event_summary(details: dict[str, Any]) -> str:
    for key in ("note", "reason", "agency", "original_number", "to", "description"):
        if details.get(key):
            return str(details[key])
    return ""
