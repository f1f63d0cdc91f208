"""The operator console: one Textual app holding the services, language and clock.

``make_app`` is the one factory: ``siaga112 tui`` and every console test build the app
through it, so tests run exactly what operators run (with a frozen clock injected).
The app opens on the live queue; F1-F4 and the command palette reach every screen.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
from collections.abc import Iterable
from contextlib import suppress
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Final

from textual import on
from textual.app import App, SystemCommand
from textual.binding import BindingsMap
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from siaga_tui.commands import ConsoleCommands
from siaga_tui.core.catalogue import Catalogue, load_catalogue
from siaga_tui.core.db import Database
from siaga_tui.core.errors import SiagaError, ValidationError
from siaga_tui.core.i18n import current_language, normalise_language, translate
from siaga_tui.core.timeutil import Clock, format_local, system_clock
from siaga_tui.drafts import DraftStore
from siaga_tui.phone_desk import PHONE_WATCH_INTERVAL, PhoneDesk
from siaga_tui.screens.localised import GLOBAL_KEYS, PHONE_KEYS
from siaga_tui.services.operators import Actor, has_accounts
from siaga_tui.services.queue import BACKLOG_DAYS, QueueFilter, QueueService, backlog_cutoff
from siaga_tui.textual_private import node_bindings, set_node_bindings
from siaga_tui.theme import CONTROL_ROOM

STYLES: Final = Path(__file__).parent / "styles"
#: How often the open entry form is written to disk (it is also written on hang-up).
DRAFT_SAVE_SECONDS: Final = 2.0
#: After a hang-up, how long the console may take to end on its own.
HANG_UP_GRACE_SECONDS: Final = 3.0
#: Textual's own palette entries, by their English title: the message keys naming them.
SYSTEM_COMMANDS: Final = {
    "Theme": "palette_theme",
    "Quit": "palette_quit",
    "Keys": "palette_keys",
    "Maximize": "palette_maximize",
    "Minimize": "palette_minimize",
    "Screenshot": "palette_screenshot",
}

if TYPE_CHECKING:
    from siaga_tui.live import LiveWatch
    from siaga_tui.screens.entry import EntryScreen
    from siaga_tui.services.baresip import PhoneAddress
    from siaga_tui.services.calls import CallService
    from siaga_tui.services.reports import ReportService
    from siaga_tui.services.telephony import CallbackItem, PhoneCallView


class SiagaApp(App[None]):
    """Call Center Manado Siaga 112: queue, quick entry, status board, report detail."""

    TITLE = "SIAGA 112"
    CSS_PATH = STYLES / "app.tcss"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        db: Database,
        *,
        operator: str,
        lang: str,
        clock: Clock = system_clock,
        theme: str | None = None,
        sign_in: bool = False,
        backlog_days: int = BACKLOG_DAYS,
        bell: bool = True,
        phone: PhoneAddress | None = None,
    ) -> None:
        super().__init__()
        self.db = db
        #: Calls ringing at the center, this position's softphone (``phone``), call-backs.
        self.phone_desk = PhoneDesk(self, phone)
        #: Open reports filed more than this many days ago form the backlog (key ``b``).
        self.backlog_days = backlog_days
        #: Ring the terminal bell once for each report that becomes alarmed (``!!``).
        self.ring_bell = bell
        self.lang = lang
        self.clock = clock
        self.catalogue: Catalogue = load_catalogue()
        #: Accounts exist: the console opens on the sign-in screen.
        self.sign_in_required = sign_in
        self.act_as(operator, None)
        self.queue = QueueService(db, catalogue=self.catalogue)
        #: The queue's first rows, when read before the console started (make_app).
        #: The one watch on the database, started when a screen first follows changes.
        self._live: LiveWatch | None = None
        self._not_live = False
        self.register_theme(CONTROL_ROOM)
        if theme:
            self.theme = theme

    def on_mount(self) -> None:
        self._textual_bindings = node_bindings(self)
        self._localise_keys()
        self._keeping_drafts = False
        #: A draft may be on disk (one left by a closed terminal, or saved since).
        self._draft_on_disk = True
        with suppress(NotImplementedError, RuntimeError, ValueError):  # no SIGHUP on this OS
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hang_up)
        if self.sign_in_required:
            from siaga_tui.screens.signin import SignInScreen

            self.push_screen(SignInScreen(), callback=self._signed_in)
            return
        from siaga_tui.screens.queue import QueueScreen

        # The queue starts the phone and the live watch once its first rows are on screen
        # (start_phone): started here, their threads ran while it painted (B1).
        self.push_screen(QueueScreen())
        self.call_later(self._offer_draft)

    def start_phone(self) -> None:
        """The softphone's link and the calls ringing at the center (once), and the live
        watch: called by the queue once it shows, or could not read its rows."""
        if not self._phone_started:
            self._phone_started = True
            self.phone_desk.start()
            self.follow_changes()

    _phone_started = False

    #: Set by ``siaga112 tui``, for a console that runs a whole shift (tests leave it off:
    #: what is frozen is never collected, and one test process runs many consoles).
    freeze_after_start = False
    _frozen = False

    def start_up_over(self) -> None:
        """The start-up's last work is done. What it built (screens, styles, caches, the
        phone-number rules) lives as long as the console: collected once, then kept out
        of the collector's full passes. Such a pass walked all of it, 31 ms on the UI
        thread at 1 M reports, at random moments of the shift: when one fell in the
        idle benchmarks' 30 s it read 0.10-0.13 % of a core (B6, B13), and when one
        fell on a key the operator waited for it."""
        if self.freeze_after_start and not self._frozen:
            self._frozen = True
            gc.collect()
            gc.freeze()

    def todays_work(self) -> QueueFilter:
        """The queue's default view: open reports filed since the backlog's line."""
        return QueueFilter(cutoff=backlog_cutoff(self.clock(), self.backlog_days))

    def act_as(self, operator: str, role: str | None) -> None:
        """Work as ``operator`` with ``role`` (None: single-user mode, no accounts)."""
        self.operator = operator
        self.role = role
        self._reports: ReportService | None = None
        self._calls: CallService | None = None

    # The services that file and change reports are built (and imported) when first
    # used: the queue does not need them, and its first paint should not wait (B1).

    @property
    def reports(self) -> ReportService:
        """Filing and changing reports, as the operator at work."""
        if self._reports is None:
            from siaga_tui.services.reports import ReportService

            self._reports = ReportService(
                self.db,
                operator=self.operator,
                clock=self.clock,
                catalogue=self.catalogue,
                role=self.role,
            )
        return self._reports

    @property
    def calls(self) -> CallService:
        """Logging calls and a caller's history, as the operator at work."""
        if self._calls is None:
            from siaga_tui.services.calls import CallService

            self._calls = CallService(self.db, operator=self.operator, clock=self.clock)
        return self._calls

    def _signed_in(self, actor: Actor | None) -> None:
        if actor is None:
            return
        self.act_as(actor.username, actor.role)
        from siaga_tui.screens.queue import QueueScreen

        if self.sign_in_required:
            self.sign_in_required = False
            self.push_screen(QueueScreen())  # which starts the phone once it shows
            self.call_later(self._offer_draft)
        else:  # the first supervisor was just created: the header shows the new name
            self.switch_screen(QueueScreen())

    def _localise_keys(self) -> None:
        # Added to (not in place of) the app's own keys: Ctrl+P and Ctrl+Q stay.
        own = BindingsMap(key.binding(self.lang) for key in (*GLOBAL_KEYS, *PHONE_KEYS))
        set_node_bindings(self, BindingsMap.merge([self._textual_bindings, own]))

    # --- Global actions -------------------------------------------------------------

    def action_switch_language(self) -> None:
        """Indonesian ⇄ English for everything, reopening on the queue.

        Refused while a call is being taken, so a half-typed report is never lost.
        """
        from siaga_tui.screens.queue import QueueScreen

        if any(type(screen).__name__ == "EntryScreen" for screen in self.screen_stack):
            self.notify(
                translate("console_language_busy", self.lang), severity="warning", markup=False
            )
            return
        self.lang = "en" if self.lang == "id" else "id"
        self._localise_keys()
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(QueueScreen())
        self.notify(translate("console_language_switched", self.lang), markup=False)

    def action_help(self) -> None:
        from siaga_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_new_report(self) -> None:
        if isinstance(self.screen, ModalScreen):
            return  # a dialog is answered first, as before F2 was a priority key
        self._open("siaga_tui.screens.entry", "EntryScreen", "console_entry_missing")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Before sign-in the global keys and the palette do nothing; only quitting works."""
        return not (self.sign_in_required and action != "quit")

    def action_handover(self) -> None:
        self._open("siaga_tui.screens.handover", "HandoverScreen", "console_entry_missing")

    def action_create_supervisor(self) -> None:
        """First run: create the first supervisor account and sign it in."""
        if self.role is not None:
            self.notify(translate("signin_accounts_exist", self.lang), markup=False)
            return
        from siaga_tui.screens.signin import SignInScreen

        self.push_screen(SignInScreen(create_first=True), callback=self._signed_in)

    def action_board(self) -> None:
        self._open("siaga_tui.screens.board", "BoardScreen", "console_board_missing")

    def action_queue(self) -> None:
        """Back to the queue, closing whatever is open above it."""
        from siaga_tui.screens.queue import QueueScreen

        for index, screen in enumerate(self.screen_stack):
            if isinstance(screen, QueueScreen):
                self._back_to(index)
                return

    def _back_to(self, index: int) -> None:
        """Close the screens above ``screen_stack[index]``, unless one holds a call being typed."""
        above = self.screen_stack[index + 1 :]
        if any(not getattr(getattr(screen, "draft", None), "is_empty", True) for screen in above):
            self.notify(
                translate("console_call_in_progress", self.lang), severity="warning", markup=False
            )
            return
        while len(self.screen_stack) > index + 1:
            self.pop_screen()

    def _open(self, module: str, name: str, missing_key: str) -> None:
        """Show the screen ``name``: bring it forward if open, else push a new one."""
        try:
            screen_class: type[Screen[None]] = getattr(import_module(module), name)
        except (ImportError, AttributeError):
            self.notify(translate(missing_key, self.lang), severity="warning", markup=False)
            return
        if isinstance(self.screen, screen_class):
            return
        for index, screen in enumerate(self.screen_stack):
            if isinstance(screen, screen_class):
                self._back_to(index)
                return
        self.push_screen(screen_class())

    # --- Drafts: a closed terminal loses no call ----------------------------------------

    @property
    def drafts(self) -> DraftStore:
        return DraftStore.for_entry(self.db.describe(), self.operator)

    def _entry_screen(self) -> EntryScreen | None:
        entry = sys.modules.get("siaga_tui.screens.entry")
        if entry is None:  # no form was ever opened (and the timer imports nothing to find out)
            return None
        return next(
            (s for s in reversed(self.screen_stack) if isinstance(s, entry.EntryScreen)), None
        )

    async def _offer_draft(self) -> None:
        """Put back the form a closed terminal left behind, then keep the form on disk."""
        stored = self.drafts.load()
        if stored is not None:
            # Imported only when there is a draft: the entry form is not needed to start.
            from siaga_tui.screens.entry import EntryScreen
            from siaga_tui.screens.entry_draft import EntryDraft

            try:
                draft = EntryDraft.from_dict(stored)
            except (KeyError, TypeError, ValueError):
                draft = None
            if draft is not None and not draft.is_empty:
                entry = EntryScreen()
                await self.push_screen(entry)
                entry.load_draft(draft)
                when = format_local(draft.opened_at, "%H:%M")
                self.notify(
                    translate("draft_restored", self.lang, time=when), markup=False, timeout=10
                )
        self._keeping_drafts = True
        self.set_interval(DRAFT_SAVE_SECONDS, self.keep_draft)

    def keep_draft(self, *, sync: bool = False) -> None:
        """Write the open entry form to disk; forget the draft once there is none."""
        entry = self._entry_screen()
        try:
            draft = entry.draft if entry is not None and entry.is_mounted else None
        except NoMatches:
            # The form is being built or taken down right now: look again next round,
            # rather than let a timer take the whole console down.
            return
        try:
            if draft is not None and not draft.is_empty:
                self.drafts.save(draft.to_dict(), sync=sync)
                self._draft_on_disk = True
            elif self._keeping_drafts and self._draft_on_disk:
                self.drafts.clear()
                self._draft_on_disk = False
        except OSError as error:  # the form itself is still on screen
            self.log.warning(f"draft not kept: {error}")

    def _hang_up(self) -> None:
        """The terminal closed (SIGHUP): keep the form, then leave.

        Leaving normally restores a terminal that is gone and can stall; the form is
        on disk by then, so the process ends anyway after a few seconds.
        """
        self.keep_draft(sync=True)
        stop = threading.Timer(HANG_UP_GRACE_SECONDS, os._exit, args=(128 + signal.SIGHUP,))
        stop.daemon = True
        stop.start()
        self.exit()

    async def action_quit(self) -> None:
        """Quit; with a call half typed, ask first (the draft is kept either way)."""
        self.keep_draft()
        entry = self._entry_screen()
        try:
            typing = entry is not None and entry.is_mounted and not entry.draft.is_empty
        except NoMatches:  # the form is being built or taken down
            typing = False
        if not typing:
            await super().action_quit()
            return
        from siaga_tui.widgets.leave_confirm import LeaveConfirm

        if isinstance(self.screen, LeaveConfirm):
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.keep_draft()
                self.exit()

        self.push_screen(LeaveConfirm(self.lang, about="quit"), callback=answered)

    # --- Live: one watch on the database for every screen --------------------------

    class DatabaseMoved(Message):
        """From the live watch's thread: the database moved, or (``error``) cannot be read."""

        def __init__(self, error: SiagaError | None) -> None:
            super().__init__()
            self.error = error

    def follow_changes(self) -> None:
        """Start the live watch (once): screens that follow changes look when it wakes them."""
        if self._live is None and self.is_running:
            from siaga_tui.live import LiveWatch

            # Five looks a second while anything is written: a call ringing at another
            # position shows here within half a second. On SQLite the file's writes wake
            # the watch, so an idle console does not look five times a second (B6).
            from siaga_tui.services.phone_signal import PhoneChangeSignal

            signal = PhoneChangeSignal(self.db, self.queue.change_signal())
            self._live = LiveWatch(
                signal, self._wake, interval=PHONE_WATCH_INTERVAL, files=self.db.files()
            )
            self._live.start()

    def _wake(self, error: SiagaError | None) -> bool:
        """On the watch's thread: hand over to the UI thread, never waiting for it."""
        return self.post_message(self.DatabaseMoved(error))

    @on(DatabaseMoved)
    def _database_moved(self, message: DatabaseMoved) -> None:
        if message.error is not None:
            self.live_failed(message.error)
            return
        from siaga_tui.screens.base import ConsoleScreen

        self.phone_desk.database_moved()
        followers = [
            s for s in self.screen_stack if isinstance(s, ConsoleScreen) and s.following_changes
        ]
        for screen in followers:
            screen.database_moved()
        if not followers:
            self.live_again()

    def read_failure(self, error: SiagaError) -> str:
        """Why a read failed, as a clause (a lock met while reading saved nothing less)."""
        if error.key == "db_locked":
            return translate("console_reason_locked", self.lang)
        return error.message(self.lang).rstrip(".")

    def board_counted(self) -> None:
        """The status board is about to show figures it has just counted from the
        database. The console has nothing to do; the wall board takes its "file not
        found" line away in the same repaint."""

    def live_failed(self, error: SiagaError) -> None:
        """Say once that the screens are not live; the watch keeps trying, a little slower."""
        if not self._not_live:
            self._not_live = True
            self.notify(
                translate("console_not_live", self.lang, reason=self.read_failure(error)),
                severity="error",
                markup=False,
                timeout=10,
            )

    def live_again(self) -> None:
        """A look succeeded: if the screens were not live, say they are again."""
        if self._not_live:
            self._not_live = False
            self.notify(translate("console_live_again", self.lang), markup=False)

    def on_unmount(self) -> None:
        self.phone_desk.stop()
        if self._live is not None:
            self._live.stop()

    # --- The phone ---------------------------------------------------------------------

    def action_answer_call(self) -> None:
        """Answer the call ringing on this position's softphone (F12): the one chosen with
        F11, else the one ringing longest."""
        self.phone_desk.answer()

    def action_choose_call(self) -> None:
        """The next call ringing on this position's softphone is the one F12 answers (F11)."""
        self.phone_desk.choose_next()

    def action_callbacks(self) -> None:
        """The call-back list: abandoned and silent calls to call back (F10)."""
        self._open("siaga_tui.screens.callbacks", "CallbacksScreen", "console_entry_missing")

    async def take_phone_call(self, call: PhoneCallView, *, callback_id: int | None = None) -> None:
        """The call was answered here: the entry form, with the phone and its answer time."""
        from siaga_tui.screens.entry import EntryScreen

        entry = self._entry_screen()
        if entry is not None and not entry.draft.is_empty:
            self.notify(
                translate("phone_form_busy", self.lang, number=call.number_shown),
                severity="warning",
                markup=False,
                timeout=10,
            )
            return
        if entry is None:
            entry = EntryScreen()
            await self.push_screen(entry)
        else:
            self._open("siaga_tui.screens.entry", "EntryScreen", "console_entry_missing")
        # Its row may have been written while the form opened.
        entry.take_phone_call(self.phone_desk.with_id(call), callback_id=callback_id)
        ended = self.phone_desk.ended(call.system_call_id)
        if ended is not None:  # the caller hung up while the form was opening
            entry.caller_hung_up(ended)

    def phone_call_recorded(self, call: PhoneCallView) -> None:
        """The call is in the database now: a form open for it files it linked."""
        entry = self._entry_screen()
        if entry is not None:
            entry.phone_call_recorded(call)

    def phone_call_ended(self, call: PhoneCallView) -> None:
        """The caller hung up: a form open for the call stays open, marked so."""
        entry = self._entry_screen()
        if entry is not None:
            entry.caller_hung_up(call)

    def callback_done(self, key: str, outcome: str, callback_id: int) -> None:
        """A call-back dialled here came to ``outcome``; reached: the form for its report."""
        item = self.phone_desk.dialled(key)
        if outcome == "reached" and item is not None:
            self.call_later(self.take_callback, item, callback_id)

    async def take_callback(self, item: CallbackItem, callback_id: int) -> None:
        """A call-back reached the caller: the entry form, linked to the call-back."""
        from siaga_tui.screens.entry import EntryScreen

        entry = self._entry_screen()
        if entry is not None and not entry.draft.is_empty:
            return
        if entry is None:
            entry = EntryScreen()
            await self.push_screen(entry)
        else:
            self._open("siaga_tui.screens.entry", "EntryScreen", "console_entry_missing")
        entry.take_callback(item, callback_id)

    # --- The command palette: Textual's own entries in the operator's language -----------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's palette entries (Theme, Quit, Keys, Maximize, Screenshot), translated;
        an entry a later Textual adds shows as Textual words it until it has a message."""
        for command in super().get_system_commands(screen):
            key = SYSTEM_COMMANDS.get(command.title)
            if key is None:
                yield command
                continue
            help_key = f"{key}_hide" if command.help.startswith("Hide") else key
            yield SystemCommand(
                translate(f"{key}_title", self.lang),
                translate(f"{help_key}_help", self.lang),
                command.callback,
            )

    # --- Notices: under the header, over nothing ----------------------------------------

    class Noticed(Message):
        """A notice to show on the screen at work (posted: ``notify`` is called from threads)."""

        def __init__(self, message: Content, severity: str, timeout: float) -> None:
            super().__init__()
            self.message, self.severity, self.timeout = message, severity, timeout

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's notification (kept in the app's list), shown on a console screen in
        its notice line under the header instead of a toast over the queue's rows."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
        content = Content.from_markup(message) if markup else Content(message)
        self.post_message(
            self.Noticed(
                content, severity, self.NOTIFICATION_TIMEOUT if timeout is None else timeout
            )
        )

    @on(Noticed)
    def _noticed(self, notice: Noticed) -> None:
        from siaga_tui.screens.base import ConsoleScreen
        from siaga_tui.widgets.notice_line import NoticeLine

        screen = next(
            (s for s in reversed(self.screen_stack) if isinstance(s, ConsoleScreen)), None
        )
        if screen is not None:
            with suppress(NoMatches):
                screen.query_one(NoticeLine).add(notice.message, notice.severity, notice.timeout)

    # --- Failures -------------------------------------------------------------------

    def show_error(self, error: BaseException | None) -> None:
        """Tell the operator, in one calm line, why something did not happen."""
        if isinstance(error, ValidationError):
            message = error.describe(self.lang)
        elif isinstance(error, SiagaError):
            message = error.message(self.lang)
        else:
            # A bug, not the operator's doing: its traceback for whoever mends it.
            from siaga_tui.core.errorlog import log_unexpected

            if error is not None:
                log_unexpected(error)
            message = translate("console_unexpected", self.lang)
        self.notify(message, severity="error", markup=False, timeout=10)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.show_error(event.worker.error)


def make_app(
    db: Database,
    *,
    operator: str,
    lang: str | None = None,
    clock: Clock = system_clock,
    theme: str | None = None,
    backlog_days: int = BACKLOG_DAYS,
    bell: bool = True,
    phone: PhoneAddress | None = None,
) -> SiagaApp:
    """The console for ``operator`` on ``db``, in ``lang`` (default: SIAGA112_LANG or id).

    ``backlog_days``: open reports older than that form the backlog; ``bell``: ring the
    terminal bell when a report becomes alarmed.
    """
    from siaga_tui import terminal_input

    terminal_input.install()  # pasted text reaches the fields whole and in order
    language = normalise_language(lang) if lang else current_language()
    app = SiagaApp(
        db,
        operator=operator,
        lang=language,
        clock=clock,
        theme=theme,
        sign_in=has_accounts(db),
        backlog_days=backlog_days,
        bell=bell,
        phone=phone,
    )
    return app
