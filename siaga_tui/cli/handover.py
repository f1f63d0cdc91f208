"""``siaga112 handover``: the shift handover, shown, recorded, accepted, listed.

``show`` (also the bare ``handover``) previews the outgoing shift; ``create --notes``
records it; ``ack ID`` is the incoming operator accepting it; ``show ID`` and ``list``
read recorded ones. Once accounts exist, every one of them acts for the signed-in
operator (``cli/identity.py``), so the names on a handover are the people who gave
and took it. Every
output ends with the audit log's head hash, to be noted on the paper shift log.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from siaga_tui.cli.base import app, print_json, settings, t
from siaga_tui.cli.identity import signed_in
from siaga_tui.cli.json_output import HandoverOutput, HandoverPreview
from siaga_tui.core.catalogue import load_catalogue
from siaga_tui.core.i18n import current_language
from siaga_tui.core.text import safe_cell
from siaga_tui.core.timeutil import Clock, format_local, system_clock
from siaga_tui.services.audit import audit_head, audit_head_line
from siaga_tui.services.handover import (
    HandoverService,
    HandoverView,
    ShiftSummary,
    overdue_text,
    summary_lines,
)

handover_app = typer.Typer(
    help="Shift handover: what is open, overdue and waiting, the shift's figures, the notes.",
    invoke_without_command=True,
)
app.add_typer(handover_app, name="handover")

JSON_OPTION = typer.Option(False, "--json", help="Output as JSON.")

#: The clock the outgoing shift is found from (tests freeze it).
clock: Clock = system_clock


def _service() -> HandoverService:
    return HandoverService(settings.database(), operator=settings.operator_name, clock=clock)


@handover_app.callback()
def handover_default(ctx: typer.Context) -> None:
    """Without a command: the preview of the outgoing shift (as `handover show`)."""
    if ctx.invoked_subcommand is None:
        handover_show(None, as_json=False)


@handover_app.command("show")
@signed_in
def handover_show(
    handover_id: int | None = typer.Argument(
        None, min=1, max=2**63 - 1, help="A recorded handover; none: preview the outgoing shift."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Preview the outgoing shift, or show a recorded handover again."""
    service = _service()
    if handover_id is None:
        summary = service.preview()
        if as_json:
            head = audit_head(service.db).hash
            preview = HandoverPreview.model_validate({"summary": summary, "audit_head": head})
            print_json(preview.model_dump())
            return
        _print_summary(
            summary, title=t("handover_title", start=_time(summary.start), end=_time(summary.end))
        )
        print(t("handover_preview_note"))
    else:
        view = service.get(handover_id)
        if as_json:
            print_json(HandoverOutput.model_validate(view).model_dump())
            return
        _print_view(view)
    print(audit_head_line(service.db))


@handover_app.command("create")
@signed_in
def handover_create(
    notes: str = typer.Option("", "--notes", "-n", help="What the next shift must know."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record the handover of the outgoing shift, with your notes."""
    service = _service()
    earlier = service.for_shift()
    view = service.create(notes)
    if as_json:
        print_json(HandoverOutput.model_validate(view).model_dump())
        return
    _print_view(view)
    print(t("handover_created", id=view.id))
    if earlier:
        # A second handover of one shift is allowed (a correction), but never silent.
        last = earlier[-1]
        print(
            t(
                "handover_already",
                count=len(earlier),
                id=last.id,
                at=format_local(last.created_at, "%H:%M"),
                outgoing=last.outgoing,
            )
        )
    print(audit_head_line(service.db))


@handover_app.command("ack")
@signed_in
def handover_ack(
    handover_id: int = typer.Argument(..., min=1, max=2**63 - 1, help="The handover to accept."),
) -> None:
    """Accept a handover as the incoming operator."""
    service = _service()
    view = service.acknowledge(handover_id)
    print(t("handover_acknowledged", id=view.id, incoming=safe_cell(view.incoming, width=64)))
    print(audit_head_line(service.db))


@handover_app.command("list")
@signed_in
def handover_list(
    limit: int = typer.Option(20, "--limit", min=1, max=1000, help="How many, newest first."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The recorded handovers, newest first."""
    views = _service().latest(limit)
    if as_json:
        print_json([HandoverOutput.model_validate(v).model_dump() for v in views])
        return
    if not views:
        print(t("handover_list_empty"))
        return
    table = Table(title=t("handover_list_title"))
    table.add_column("#", justify="right")
    for column in ("shift", "outgoing", "incoming", "open", "overdue"):
        table.add_column(
            t(f"handover_col_{column}"),
            justify="right" if column in ("open", "overdue") else "left",
        )
    for v in views:
        table.add_row(
            str(v.id),
            f"{_time(v.summary.start)} – {format_local(v.summary.end, '%H:%M')}",
            Text(f"{safe_cell(v.outgoing, width=24)} {format_local(v.created_at, '%H:%M')}"),
            Text(
                f"{safe_cell(v.incoming, width=24)} {format_local(v.acknowledged_at, '%H:%M')}"
                if v.incoming
                else "–"
            ),
            str(v.summary.open_total),
            str(len(v.summary.overdue)),
        )
    Console().print(table)


# --- Output ---------------------------------------------------------------------------


def _time(moment: object) -> str:
    return format_local(moment, "%Y-%m-%d %H:%M")  # type: ignore[arg-type]


def _print_view(view: HandoverView) -> None:
    summary = view.summary
    _print_summary(
        summary,
        title=t(
            "handover_title_stored", id=view.id, start=_time(summary.start), end=_time(summary.end)
        ),
    )
    console = Console()
    console.print(Text(t("handover_notes"), style="bold"))
    console.print(Text(view.notes or t("handover_no_notes")))
    console.print(
        Text(
            t("handover_by", outgoing=safe_cell(view.outgoing, width=64), at=_time(view.created_at))
        )
    )
    if view.acknowledged_at is not None:
        console.print(
            Text(
                t(
                    "handover_acknowledged_by",
                    incoming=safe_cell(view.incoming, width=64),
                    at=_time(view.acknowledged_at),
                )
            )
        )
    else:
        console.print(Text(t("handover_not_acknowledged")))


def _print_summary(summary: ShiftSummary, *, title: str) -> None:
    catalogue = load_catalogue()
    lang = current_language()
    console = Console()
    console.print(Text(title, style="bold"))

    console.print(Text(t("handover_open", count=summary.open_total), style="bold"))
    if summary.open_items:
        table = Table(show_header=True)
        for column in ("number", "time", "category", "place", "status", "agencies"):
            table.add_column(t(f"cli_col_{column}"))
        table.add_column(t("handover_col_overdue"))
        for item in summary.open_items:
            category = catalogue.category(item.category)
            table.add_row(
                item.number,
                format_local(item.created_at),
                Text(("! " if category.is_emergency else "  ") + category.label(lang)),
                Text(catalogue.kelurahan_by_code(item.kelurahan_code).display),
                t(f"status_{item.status}"),
                ", ".join(item.agencies),
                Text(overdue_text(item, lang), style="bold red" if item.overdue else ""),
            )
        console.print(table)
        hidden = summary.open_total - len(summary.open_items)
        if hidden > 0:
            console.print(Text(t("handover_open_more", count=hidden)))

    for heading, line in summary_lines(summary, lang, catalogue):
        console.print(Text(line, style="bold" if heading else ""))
