"""Detail laporan: one report in full, and the actions that move it along.

Every action passes the version the operator was looking at; if another workstation
changed the report meanwhile the service refuses (ConflictError), the operator is told
and the screen shows the fresh state, so no change is silently overwritten. The screen
also follows the change feed and refreshes when someone else changes this report.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Static

from siaga_tui.core.errors import ConflictError, SiagaError, ValidationError
from siaga_tui.core.fields import FIELD_LIMITS
from siaga_tui.core.i18n import translate
from siaga_tui.core.models import Channel, Status
from siaga_tui.core.text import safe_cell
from siaga_tui.core.timeutil import format_local, format_moment
from siaga_tui.screens.base import ConsoleScreen
from siaga_tui.screens.form_dialog import Answer, Choices, FormDialog
from siaga_tui.screens.localised import Key
from siaga_tui.services.reports import status_moves
from siaga_tui.services.views import ReportDetail, ReportSummary
from siaga_tui.widgets.key_footer import KeyFooter
from siaga_tui.widgets.report_view import ReportView

#: An action on the report: called in a worker with the version the operator saw;
#: returns the sentence that confirms it.
Action = Callable[[int], str]


class DetailScreen(ConsoleScreen[None]):
    """All about one report; t/k/s/c/d/o act on it, Esc goes back."""

    KEYS = (
        Key("t", "forward", "detail_key_forward"),
        Key("k", "acknowledge", "detail_key_acknowledge"),
        Key("s", "change_status", "detail_key_status"),
        Key("c", "note", "detail_key_note"),
        Key("d", "duplicate", "detail_key_duplicate"),
        Key("o", "reopen", "detail_key_reopen"),
        Key("escape", "back", "detail_key_back"),
    )

    def __init__(self, report_id: int) -> None:
        super().__init__()
        self.report_id = report_id
        self.detail: ReportDetail | None = None
        self.last_seq = 0
        #: The version this screen's own last action gives the report (one event each).
        self._own_version = -1

    def compose(self) -> ComposeResult:
        yield self.status_header()
        yield Static(id="detail-bar")
        yield ReportView(self.console.catalogue, self.lang, id="detail-view")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show_title(translate("detail_loading", self.lang))
        self.query_one(ReportView).focus()
        self._load(first=True)

    # --- Reading ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="detail-load", exit_on_error=False)
    def _load(self, first: bool = False, notice: str | None = None) -> None:
        seq = self.console.queue.last_change() if first else None
        detail = self.console.reports.get_report(self.report_id)
        self.app.call_from_thread(self._show, detail, seq, notice)

    def _show(self, detail: ReportDetail, seq: int | None, notice: str | None = None) -> None:
        self.detail = detail
        if seq is not None:
            self.last_seq = seq
            self.watch_changes()
        s, t = detail.summary, self.lang
        self.show_title(translate("detail_title", t, number=s.number))
        bar = Text(s.number, style="bold")
        bar.append(" · " + translate(f"status_{s.status}", t))
        bar.append(" · " + self.console.catalogue.category(s.category).label(t))
        self.query_one("#detail-bar", Static).update(bar)
        self.query_one(ReportView).show(detail, self.console.clock())
        if notice:
            self.notify(notice, severity="warning", markup=False, timeout=8)

    def look_for_changes(self) -> tuple[int, ReportDetail | None]:
        changes = self.console.queue.changes_since(self.last_seq)
        changed = changes.overflow or self.report_id in changes.report_ids
        return changes.last_seq, self.console.reports.get_report(
            self.report_id
        ) if changed else None

    def changes_seen(self, found: tuple[int, ReportDetail | None]) -> None:
        seq, detail = found
        self.last_seq = max(self.last_seq, seq)
        if detail is not None and (self.detail is None or detail.version != self.detail.version):
            elsewhere = detail.version != self._own_version
            notice = (
                translate("detail_updated_live", self.lang, number=detail.number)
                if elsewhere
                else None
            )
            self._show(detail, None, notice)

    # --- Acting -------------------------------------------------------------------------

    def _ask(self, dialog: FormDialog, act: Callable[[Answer, ReportDetail], Action]) -> None:
        """Open ``dialog``; it carries ``act`` out itself and stays open on a refusal."""
        if self.detail is None:
            return
        dialog.submit = self._submitter(act)

        def answered(done: Answer | str | None) -> None:
            if isinstance(done, str):
                self.notify(done, markup=False)
                self._reload(None)

        self.app.push_screen(dialog, answered)

    def _submitter(self, act: Callable[[Answer, ReportDetail], Action]) -> Callable[[Answer], str]:
        """In the dialog's worker: act on the report as this screen shows it now.

        The version is read at each attempt: after "changed elsewhere" the screen shows
        the fresh report and saving again acts on it, with what the operator typed.
        """

        def submit(answer: Answer) -> str:
            detail = self.detail
            assert detail is not None
            # Set before writing: the watcher may see this change before the action
            # returns, and the operator must not be told their own change came from elsewhere.
            self._own_version = detail.version + 1
            try:
                return act(answer, detail)(detail.version)
            except ConflictError:
                self._own_version = -1
                self.app.call_from_thread(self._reload, None)
                raise ConflictError("detail_changed_elsewhere", number=detail.number) from None
            except SiagaError:
                self._own_version = -1
                raise

        return submit

    def _reload(self, notice: str | None) -> None:
        self._load(notice=notice)

    def action_forward(self) -> None:
        if self.detail is None:
            return
        t, catalogue = self.lang, self.console.catalogue
        listed = catalogue.agencies_for(self.detail.summary.category)
        agencies = [(a.code, safe_cell(f"{a.short_name} · {a.name}", width=64)) for a in listed]
        unknown = translate("dialog_forward_unknown", t)
        contacts = {
            a.code: translate(
                "dialog_forward_contact",
                t,
                phone=a.phone or unknown,
                radio=a.radio or unknown,
                channel=translate(f"channel_{a.channel}", t) if a.channel else unknown,
            )
            for a in listed
        }
        presets = {a.code: a.channel for a in listed if a.channel}
        channels = [(c.value, translate(f"channel_{c.value}", t)) for c in Channel]
        dialog = FormDialog(
            translate("dialog_forward_title", t),
            t,
            choices=(
                Choices(
                    translate("dialog_forward_agency", t),
                    agencies,
                    details=contacts,
                    presets=presets,
                ),
                Choices(translate("dialog_forward_channel", t), channels),
            ),
            text_label=translate("dialog_forward_ref", t),
            max_length=FIELD_LIMITS["agency_ref"],
        )

        def act(answer: Answer, detail: ReportDetail) -> Action:
            agency, channel = answer.picked

            def forward(version: int) -> str:
                self.console.reports.forward(
                    detail.id,
                    agency,
                    channel=channel,
                    agency_ref=answer.text or None,
                    expected_version=version,
                )
                return translate(
                    "detail_done_forward", t, agency=catalogue.agency(agency).short_name
                )

            return forward

        self._ask(dialog, act)

    def action_acknowledge(self) -> None:
        if self.detail is None:
            return
        t, catalogue = self.lang, self.console.catalogue
        waiting = [r for r in self.detail.referrals if r.acknowledged_at is None]
        if not waiting:
            self.notify(
                translate("detail_nothing_to_acknowledge", t), severity="warning", markup=False
            )
            return
        options = [
            (str(r.id), f"{catalogue.agency(r.agency).short_name} · {_when(r.forwarded_at)}")
            for r in waiting
        ]
        dialog = FormDialog(
            translate("dialog_acknowledge_title", t),
            t,
            choices=(Choices(translate("dialog_acknowledge_referral", t), options),),
            text_label=translate("dialog_acknowledge_by", t),
            max_length=FIELD_LIMITS["caller_name"],
        )

        def act(answer: Answer, detail: ReportDetail) -> Action:
            referral = int(answer.picked[0])
            agency = next(r.agency for r in waiting if r.id == referral)

            def acknowledge(version: int) -> str:
                self.console.reports.acknowledge(
                    detail.id,
                    referral,
                    acknowledged_by=answer.text or None,
                    expected_version=version,
                )
                return translate(
                    "detail_done_acknowledge", t, agency=catalogue.agency(agency).short_name
                )

            return acknowledge

        self._ask(dialog, act)

    def action_change_status(self) -> None:
        """Only the moves the report's state allows; the usual next step first."""
        if self.detail is None:
            return
        t = self.lang
        moves = status_moves(self.detail.status, forwarded=bool(self.detail.referrals))
        if not moves:
            key = (
                "detail_status_closed"
                if self.detail.status == Status.SELESAI
                else "detail_status_none"
            )
            self.notify(translate(key, t), severity="warning", markup=False)
            return
        statuses = [(s, translate(f"status_{s}", t)) for s in moves]
        notice = None
        if self.detail.status == Status.MENUNGGU and not self.detail.referrals:
            notice = translate("detail_status_forward_first", t)
        dialog = FormDialog(
            translate("dialog_status_title", t),
            t,
            choices=(Choices(translate("detail_field_status", t), statuses),),
            text_label=translate("dialog_status_note", t),
            multiline=True,
            notice=notice,
        )

        def act(answer: Answer, detail: ReportDetail) -> Action:
            status = answer.picked[0]

            def change(version: int) -> str:
                self.console.reports.change_status(
                    detail.id, status, note=answer.text or None, expected_version=version
                )
                return translate("detail_done_status", t, status=translate(f"status_{status}", t))

            return change

        self._ask(dialog, act)

    def action_note(self) -> None:
        t = self.lang

        def act(answer: Answer, detail: ReportDetail) -> Action:
            def note(version: int) -> str:
                self.console.reports.add_note(detail.id, answer.text, expected_version=version)
                return translate("detail_done_note", t)

            return note

        self._ask(self._text_dialog("note", multiline=True), act)

    def action_duplicate(self) -> None:
        """Pick the original from the recent reports of the same category and place."""
        if self.detail is None:
            return
        self._duplicate_candidates(self.detail.id)

    @work(thread=True, exclusive=True, group="detail-candidates", exit_on_error=False)
    def _duplicate_candidates(self, report_id: int) -> None:
        candidates = self.console.reports.duplicate_candidates(report_id)
        self.app.call_from_thread(self._ask_duplicate, candidates)

    def _ask_duplicate(self, candidates: list[ReportSummary]) -> None:
        t, now = self.lang, self.console.clock()
        options = [
            (
                str(c.id),
                safe_cell(
                    f"{c.number} · {format_moment(c.created_at, now)} · {translate(f'status_{c.status}', t)}"
                    f" · {c.description}",
                    width=120,
                ),
            )
            for c in candidates
        ]
        dialog = FormDialog(
            translate("dialog_duplicate_title", t),
            t,
            choices=(
                Choices(
                    translate("dialog_duplicate_pick", t),
                    options,
                    empty=translate("dialog_duplicate_none", t),
                ),
            ),
            text_label=translate(
                "dialog_duplicate_or_number" if options else "dialog_duplicate_number_only", t
            ),
            max_length=FIELD_LIMITS["search"],
        )

        def act(answer: Answer, detail: ReportDetail) -> Action:
            typed = answer.text.strip()
            original: str | int = typed or (int(answer.picked[0]) if answer.picked[0] else "")

            def duplicate(version: int) -> str:
                if original == "":
                    raise ValidationError("original", "dialog_duplicate_needs_original")
                number = self.console.reports.mark_duplicate(
                    detail.id, original, expected_version=version
                )
                return translate("detail_done_duplicate", t, number=number)

            return duplicate

        self._ask(dialog, act)

    def action_reopen(self) -> None:
        t = self.lang

        def act(answer: Answer, detail: ReportDetail) -> Action:
            def reopen(version: int) -> str:
                status = self.console.reports.reopen(
                    detail.id, answer.text, expected_version=version
                )
                return translate("detail_done_reopen", t, status=translate(f"status_{status}", t))

            return reopen

        self._ask(self._text_dialog("reopen", multiline=True), act)

    def _text_dialog(self, name: str, *, multiline: bool) -> FormDialog:
        t = self.lang
        return FormDialog(
            translate(f"dialog_{name}_title", t),
            t,
            text_label=translate(f"dialog_{name}_label", t),
            multiline=multiline,
            max_length=FIELD_LIMITS["search"] if not multiline else 0,
        )

    def action_back(self) -> None:
        self.dismiss()


def _when(moment: datetime) -> str:
    return format_local(moment, "%d-%m %H:%M")
