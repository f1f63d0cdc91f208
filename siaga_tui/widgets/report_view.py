"""Everything about one report as readable text: fields, referrals, calls, history.

Caller text (description, address, names, notes) is appended to ``rich.text.Text`` as
data, cleaned by ``clean_text``; it is never read as markup.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from siaga_tui.core.catalogue import Catalogue
from siaga_tui.core.errors import NotFound
from siaga_tui.core.i18n import translate
from siaga_tui.core.phones import format_phone
from siaga_tui.core.text import clean_text, safe_cell
from siaga_tui.core.timeutil import format_age, format_local
from siaga_tui.services.views import EventView, ReportDetail

#: The most characters of one text shown in the detail (old data may hold more).
SHOWN_TEXT: Final = 20_000
LABEL_WIDTH: Final = 21
WHEN: Final = "%d-%m %H:%M:%S"


class ReportView(VerticalScroll):
    """A scrolling page about one report; ``show`` replaces what it shows."""

    DEFAULT_CSS = """
    ReportView {
        padding: 0 1;
        & > .section { margin-top: 1; text-style: bold; color: $primary; }
        & > Static { height: auto; }
    }
    """

    def __init__(self, catalogue: Catalogue, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.catalogue = catalogue
        self.lang = lang

    def compose(self) -> ComposeResult:
        t = self.lang
        yield Static(Text(translate("detail_loading", t)), id="detail-fields")
        for name in ("referrals", "calls", "history"):
            yield Static(Text(translate(f"detail_section_{name}", t)), classes="section")
            yield Static(id=f"detail-{name}")

    def show(self, detail: ReportDetail, now: datetime) -> None:
        self.query_one("#detail-fields", Static).update(self._fields(detail, now))
        self.query_one("#detail-referrals", Static).update(self._referrals(detail))
        self.query_one("#detail-calls", Static).update(self._calls(detail))
        self.query_one("#detail-history", Static).update(self._history(detail))

    # --- Parts ------------------------------------------------------------------------

    def _fields(self, detail: ReportDetail, now: datetime) -> Text:
        t, s = self.lang, detail.summary
        category = self.catalogue.category(s.category)
        place = self.catalogue.kelurahan_by_code(s.kelurahan_code)
        caller = " · ".join(
            filter(None, [format_phone(s.caller_phone), clean_text(detail.caller_name)])
        )
        targets = translate(
            "detail_targets",
            t,
            forward=format_age(category.forward_target),
            finish=format_age(category.finish_target),
        )
        lines: list[tuple[str, Text | str]] = [
            ("number", s.number),
            ("status", translate(f"status_{s.status}", t)),
            (
                "category",
                self._category(
                    category.label(t), translate(f"kind_{s.kind}", t), category.is_emergency
                ),
            ),
            ("targets", targets),
            ("place", place.display),
            ("address", clean_text(s.address)),
            ("caller", caller),
            ("created", f"{format_local(s.created_at, WHEN)} ({format_age(now - s.created_at)})"),
            ("operator", clean_text(s.operator)),
        ]
        if s.first_forwarded_at:
            lines.append(("forwarded", format_local(s.first_forwarded_at, WHEN)))
        if detail.first_acknowledged_at:
            lines.append(("acknowledged", format_local(detail.first_acknowledged_at, WHEN)))
        if s.closed_at:
            lines.append(("closed", format_local(s.closed_at, WHEN)))
        if detail.duplicate_of_number:
            lines.append(("duplicate_of", detail.duplicate_of_number))
        text = Text()
        for name, value in lines:
            text.append(f"{translate(f'detail_field_{name}', t):<{LABEL_WIDTH}}", style="bold")
            text.append(value if isinstance(value, Text) else Text(value))
            text.append("\n")
        text.append(translate("detail_field_description", t), style="bold")
        text.append("\n")
        text.append(_long(s.description))
        return text

    def _referrals(self, detail: ReportDetail) -> Text:
        t = self.lang
        if not detail.referrals:
            return Text(translate("detail_none", t), style="italic")
        text = Text()
        for r in detail.referrals:
            agency = self.catalogue.agency(r.agency)
            text.append("• ")
            text.append(
                translate(
                    "detail_referral_line",
                    t,
                    agency=agency.short_name,
                    channel=translate(f"channel_{r.channel}", t),
                    at=format_local(r.forwarded_at, WHEN),
                    by=safe_cell(r.forwarded_by, width=40),
                )
            )
            if r.agency_ref:
                text.append(
                    " · "
                    + translate("detail_referral_ref", t, ref=safe_cell(r.agency_ref, width=100))
                )
            text.append(" · ")
            if r.acknowledged_at is None:
                text.append(translate("detail_referral_waiting", t), style="italic")
            elif r.acknowledged_by:
                at = format_local(r.acknowledged_at, WHEN)
                by = safe_cell(r.acknowledged_by, width=120)
                text.append(translate("detail_referral_acknowledged_by", t, at=at, by=by))
            else:
                text.append(
                    translate(
                        "detail_referral_acknowledged", t, at=format_local(r.acknowledged_at, WHEN)
                    )
                )
            text.append("\n")
        text.rstrip()
        return text

    def _calls(self, detail: ReportDetail) -> Text:
        """Every call about the report: who called, and what a joining caller said."""
        t = self.lang
        if not detail.calls:
            return Text(translate("detail_none", t), style="italic")
        text = Text()
        for call in detail.calls:
            caller = " · ".join(
                filter(None, [format_phone(call.caller_phone) or "–", clean_text(call.caller_name)])
            )
            text.append("• ")
            text.append(
                translate(
                    "detail_call_line",
                    t,
                    at=format_local(call.answered_at, WHEN),
                    disposition=translate(f"disposition_{call.disposition}", t),
                    phone=caller,
                    operator=safe_cell(call.operator, width=40),
                )
            )
            if call.note:
                text.append(f" · {safe_cell(call.note, width=200)}")
            if call.address:
                text.append("\n    ")
                text.append(translate("detail_call_address", t, address=clean_text(call.address)))
            if call.description:
                text.append("\n    ")
                text.append(_long(call.description))
            text.append("\n")
        text.rstrip()
        return text

    def _history(self, detail: ReportDetail) -> Text:
        text = Text()
        for event in detail.events:
            text.append(f"{format_local(event.at, WHEN)}  ", style="bold")
            text.append(translate(f"event_{event.kind}", self.lang), style="bold")
            text.append(f"  {safe_cell(event.operator, width=40)}", style="dim")
            said = self._event_details(event)
            if said:
                text.append("\n    ")
                text.append(said)
            text.append("\n")
        text.rstrip()
        return text

    def _event_details(self, event: EventView) -> str:
        t, d = self.lang, event.details
        parts: list[str] = []
        if d.get("agency"):
            parts.append(self._agency_name(d["agency"]))
        if d.get("channel"):
            parts.append(translate(f"channel_{d['channel']}", t))
        if d.get("from") and d.get("to"):
            parts.append(
                translate(
                    "detail_event_from_to", t, from_=_status(d["from"], t), to=_status(d["to"], t)
                )
            )
        elif d.get("to") or d.get("status_to"):
            parts.append(_status(d.get("to") or d["status_to"], t))
        if d.get("original_number"):
            parts.append(translate("detail_event_duplicate", t, number=d["original_number"]))
        if d.get("by"):
            parts.append(safe_cell(d["by"], width=120))
        if d.get("reason"):
            parts.append(
                translate("detail_event_reason", t, reason=safe_cell(d["reason"], width=2000))
            )
        if event.kind == "call_attached":
            caller = [
                format_phone(d.get("caller_phone")),
                safe_cell(d.get("caller_name") or "", width=120),
            ]
            parts.append(" ".join(filter(None, caller)) or "–")
            if d.get("address"):
                parts.append(
                    translate("detail_call_address", t, address=safe_cell(d["address"], width=300))
                )
            if d.get("description"):
                parts.append(f"\u201c{clean_text(str(d['description']), multiline=True)}\u201d")
        if d.get("note"):
            parts.append(safe_cell(d["note"], width=2000))
        return " · ".join(parts)

    def _category(self, label: str, kind: str, emergency: bool) -> Text:
        text = Text()
        if emergency:
            text.append("● ", style=f"bold {self.app.current_theme.error}")
        text.append(f"{label} ({kind})")
        return text

    def _agency_name(self, code: Any) -> str:
        try:
            return self.catalogue.agency(str(code)).short_name
        except NotFound:  # an agency since removed from the catalogue
            return safe_cell(code, width=40)


def _status(value: Any, lang: str) -> str:
    return translate(f"status_{value}", lang)


def _long(value: str) -> Text:
    """Caller text of any length, shown literally; past ``SHOWN_TEXT`` it ends with "…"."""
    text = clean_text(value, multiline=True)
    if len(text) > SHOWN_TEXT:
        text = text[:SHOWN_TEXT] + "…"
    return Text(text)
