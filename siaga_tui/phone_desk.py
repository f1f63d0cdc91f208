"""The console's phone: calls ringing at the center, this position's softphone, call-backs.

One ``PhoneDesk`` per console. It knows

- the calls ringing at the center (every position's), read from the database when the
  live watch says it moved, and at once for calls ringing on this position's own
  softphone (baresip, ``--phone``): the number straight from baresip's event, before
  and independently of the database write; the caller's history and the repeat prank
  warning as soon as they are read, before anyone answers. A call the database cannot
  take yet still rings and is answered here; the console says once that it is not
  recorded yet, and again when it is;
- the state of the link to the softphone (the header says when it is down; the console
  keeps working and the link comes back by itself);
- how many calls wait for a call-back.

Widgets subscribe to ``changed`` (a Textual ``Signal``) and draw ``PhoneDesk.state``;
the app's keys call ``answer`` (F12: the call chosen with F11, else the one ringing
longest, and exactly that call, whatever else rings on the softphone), ``choose_next``
and ``call_back``. The softphone's events arrive on its
own thread and are handed to the UI thread here; nothing here blocks the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from textual.signal import Signal

from siaga_tui.core.errors import SiagaError
from siaga_tui.core.i18n import translate
from siaga_tui.services.baresip import CallGone, CommandFailed, PhoneAddress

if TYPE_CHECKING:
    from textual.screen import Screen

    from siaga_tui.app import SiagaApp
    from siaga_tui.services.softphone import Softphone
    from siaga_tui.services.telephony import CallbackItem, PhoneCallView, TelephonyService
    from siaga_tui.services.views import CallerHistory

#: How often the live watch looks at the database while the console shows calls ringing.
PHONE_WATCH_INTERVAL: Final = 0.2
#: How many ended calls of this softphone are remembered (``PhoneDesk.ended``).
ENDED_KEPT: Final = 32


@dataclass(frozen=True)
class RingingCall:
    call: PhoneCallView
    #: Ringing on this position's softphone (one key answers it here).
    here: bool
    history: CallerHistory | None = None


@dataclass(frozen=True)
class PhoneState:
    """What the header and the ringing bar show."""

    #: None: no softphone at this position; else whether the link is up, and why not.
    link: bool | None = None
    reason: str | None = None
    address: str = ""
    ringing: tuple[RingingCall, ...] = ()
    callbacks: int | None = None
    #: The call answered here and still going on (its form is open).
    on_call: PhoneCallView | None = None
    histories: dict[str, CallerHistory | None] = field(default_factory=dict)
    #: baresip's id of the call the operator chose with F11 (None: none chosen).
    chosen: str | None = None

    def ringing_here(self) -> list[PhoneCallView]:
        """The calls ringing on this position's softphone, the one ringing longest first."""
        calls = [r.call for r in self.ringing if r.here]
        return sorted(
            calls,
            key=lambda c: (c.offered_at.timestamp() if c.offered_at else 0.0, c.id or 0),
        )

    def to_answer(self) -> PhoneCallView | None:
        """The call F12 answers: the one chosen (F11) while it rings here, else the one
        ringing here longest."""
        here = self.ringing_here()
        chosen = next((c for c in here if c.system_call_id == self.chosen), None)
        return chosen or (here[0] if here else None)


class PhoneDesk:
    """The phone at one console (UI thread, except the ``SoftphoneListener`` methods)."""

    def __init__(self, app: SiagaApp, address: PhoneAddress | None) -> None:
        self.app = app
        self.address = address
        self.state = PhoneState(
            link=None if address is None else False, address=address.describe() if address else ""
        )
        self.changed: Signal[PhoneState] = Signal(app, "phone")
        self._softphone: Softphone | None = None
        self._here: dict[str, PhoneCallView] = {}
        self._looking = False
        self._look_again = False
        self._warm = False
        self._lock = threading.Lock()
        #: Call-backs dialled here, by their list key, until their outcome is known.
        self._dialled: dict[str, CallbackItem] = {}
        #: The call F12 was pressed for, until baresip answers a call.
        self._answering: PhoneCallView | None = None
        #: Calls of this softphone that ended lately, by baresip's id (the form of one
        #: answered may still be opening when its caller hangs up).
        self._ended_here: dict[str, PhoneCallView] = {}
        #: Calls of this softphone answered or ended lately, by baresip's id: the
        #: database may still say they ring until their writes are in.
        self._left_here: dict[str, None] = {}
        #: Row ids of this softphone's calls as their writes came in, by baresip's id.
        self._ids: dict[str, int] = {}

    @property
    def telephony(self) -> TelephonyService:
        # Imported on first use: the phone-number rules are not needed for the first paint (B1).
        from siaga_tui.services.telephony import TelephonyService

        return TelephonyService(self.app.db, operator=self.app.operator, clock=self.app.clock)

    def start(self) -> None:
        """Connect the softphone (if any) and read what rings now."""
        if self.address is not None and self._softphone is None:
            from siaga_tui.services.softphone import Softphone

            self._softphone = Softphone(self.address, self.telephony, self, position=None)
            self._softphone.start()
        self.database_moved()

    def stop(self) -> None:
        if self._softphone is not None:
            self._softphone.stop()
            self._softphone = None

    @property
    def connected(self) -> bool:
        return self._softphone is not None and self._softphone.connected

    def show_on(self, screen: Screen[Any]) -> None:
        """Put the ringing bar on ``screen``, first below its header."""
        from siaga_tui.widgets.phone_bar import PhoneBar

        bar = PhoneBar(self)
        children = list(screen.children)
        if children:
            screen.mount(bar, before=children[0])
        else:
            screen.mount(bar)

    # --- What the operator does (UI thread) -------------------------------------------

    def ringing_here(self) -> PhoneCallView | None:
        """The call F12 answers (``PhoneState.to_answer``)."""
        return self.state.to_answer()

    def choose_next(self) -> None:
        """F11: the next call ringing here becomes the one F12 answers."""
        if self._softphone is None:
            self._say("phone_none", severity="warning")
            return
        here = self.state.ringing_here()
        if not here:
            self._say("phone_nothing_ringing")
            return
        current = self.state.to_answer()
        ids = [c.system_call_id for c in here]
        index = ids.index(current.system_call_id) if current is not None else -1
        self._publish(replace(self.state, chosen=ids[(index + 1) % len(ids)]))

    def answer(self) -> None:
        """Answer exactly the call F12 is for, whatever else rings on the softphone."""
        if self._softphone is None:
            self._say("phone_none", severity="warning")
            return
        call = self.ringing_here()
        if call is None:
            self._say("phone_nothing_ringing")
            return
        softphone = self._softphone
        self._answering = call
        self.app.run_worker(
            lambda: self._command(lambda: softphone.answer(call.system_call_id), call),
            thread=True,
            group="phone",
            exit_on_error=False,
        )

    def call_back(self, item: CallbackItem) -> None:
        """Dial ``item``'s caller through the softphone; the outcome comes back as an event."""
        if self._softphone is None or not self.connected:
            self._say("phone_none", severity="warning")
            return
        if item.dialable is None:
            self._say("callback_no_number", severity="warning")
            return
        softphone = self._softphone
        self._dialled[item.key] = item
        self.app.run_worker(
            lambda: self._command(lambda: softphone.call_back(item)),
            thread=True,
            group="phone",
            exit_on_error=False,
        )
        self.app.notify(
            translate("callback_dialling", self.app.lang, number=item.number_shown), markup=False
        )

    def dialled(self, key: str) -> CallbackItem | None:
        """The call-back entry dialled under ``key`` (forgotten once asked)."""
        return self._dialled.pop(key, None)

    def hang_up(self, call_id: str | None = None) -> None:
        """Hang up exactly ``call_id``; by default the call answered here, else the
        call-back being dialled."""
        softphone = self._softphone
        if softphone is None:
            return
        if call_id is None:
            on_call = self.state.on_call
            call_id = on_call.system_call_id if on_call else softphone.callback_call_id()
        if call_id is None:
            self._say("phone_nothing_to_hang_up")
            return
        target = call_id
        self.app.run_worker(
            lambda: self._command(lambda: softphone.hang_up(target), gone="phone_hangup_gone"),
            thread=True,
            group="phone",
            exit_on_error=False,
        )

    def _command(
        self,
        command: Callable[[], object],
        call: PhoneCallView | None = None,
        *,
        gone: str = "phone_call_gone",
    ) -> None:
        try:
            command()
        except CallGone:
            number = (call.number_shown if call else "") or translate(
                "phone_withheld", self.app.lang
            )
            self.app.call_from_thread(self._failed, call, gone, number=number)
        except CommandFailed as error:
            self.app.call_from_thread(self._failed, call, "phone_command_failed", reason=str(error))

    def _failed(self, call: PhoneCallView | None, key: str, **params: object) -> None:
        if call is not None and self._answering is call:
            self._answering = None
        severity = "error" if key == "phone_command_failed" else "warning"
        self._say(key, severity=severity, **params)

    def _say(self, key: str, *, severity: str = "information", **params: object) -> None:
        self.app.notify(translate(key, self.app.lang, **params), severity=severity, markup=False)  # type: ignore[arg-type]

    # --- The database moved (UI thread): look at what rings, in a worker -------------------

    def database_moved(self) -> None:
        if self._looking:
            self._look_again = True
            return
        self._looking = True
        self.app.run_worker(self._look, thread=True, group="phone-look", exit_on_error=False)

    def warm_up(self) -> None:
        """Load the phone-number rules' metadata (a tenth of a second of CPU) off the UI
        thread, so the first call that rings does not wait for it (B12). Called once the
        queue's first rows are on screen: loading it while the queue painted held the
        first paint back (B1). The last of the start-up's work: the console is told
        when it is done (``start_up_over``)."""
        if not self._warm:
            self._warm = True
            self.app.run_worker(self._warm_up, thread=True, group="phone-warm", exit_on_error=False)

    def _warm_up(self) -> None:
        from siaga_tui.services.telephony import parse_caller

        try:
            parse_caller("081234567890")
        finally:
            self.app.call_from_thread(self.app.start_up_over)

    def _look(self) -> None:
        try:
            telephony = self.telephony
            ringing = telephony.ringing()
            count = telephony.callback_count()
            histories = self._histories([c.caller_phone for c in ringing])
        except SiagaError:
            self.app.call_from_thread(self._looked, None, None, {})
            return
        self.app.call_from_thread(self._looked, ringing, count, histories)

    def _histories(self, phones: list[str | None]) -> dict[str, CallerHistory | None]:
        known = self.state.histories
        found: dict[str, CallerHistory | None] = {}
        for phone in phones:
            if phone and phone not in found:
                found[phone] = (
                    known[phone] if phone in known else self.app.calls.caller_history(phone)
                )
        return found

    def _looked(
        self,
        ringing: list[PhoneCallView] | None,
        count: int | None,
        histories: dict[str, CallerHistory | None],
    ) -> None:
        self._looking = False
        if ringing is not None:
            with self._lock:
                here = dict(self._here)
                left = set(self._left_here)
            # Answered or ended here, the database not yet told: no longer ringing.
            ringing = [c for c in ringing if c.system_call_id not in left]
            seen = {c.system_call_id for c in ringing}
            # A call ringing here but not yet read back is kept (it is being written now).
            extra = [c for cid, c in here.items() if cid not in seen]
            self._publish(
                replace(
                    self.state,
                    ringing=tuple(
                        RingingCall(
                            c, c.system_call_id in here, histories.get(c.caller_phone or "")
                        )
                        for c in [*ringing, *extra]
                    ),
                    callbacks=count,
                    histories=histories,
                )
            )
        if self._look_again:
            self._look_again = False
            self.database_moved()

    def _publish(self, state: PhoneState) -> None:
        self.state = state
        self.changed.publish(state)

    # --- From the softphone (its thread) -------------------------------------------------

    def phone_link(self, up: bool, reason: str | None) -> None:
        self.app.call_from_thread(self._link, up, reason)

    def _link(self, up: bool, reason: str | None) -> None:
        was = self.state.link
        self._publish(replace(self.state, link=up, reason=reason))
        if was is True and not up:
            self._say("phone_lost", severity="error", reason=reason or "")
        elif was is False and up and self.state.reason is None:
            pass

    def call_ringing(self, call: PhoneCallView) -> None:
        with self._lock:
            self._here[call.system_call_id] = call
            self._left_here.pop(call.system_call_id, None)
        self.app.call_from_thread(self._ring_here, call, None)

    def _ring_here(self, call: PhoneCallView, history: CallerHistory | None) -> None:
        with self._lock:
            if call.system_call_id not in self._here:
                return  # ended meanwhile
            call = self._here[call.system_call_id]  # recorded meanwhile: with its id
        others = [r for r in self.state.ringing if r.call.system_call_id != call.system_call_id]
        histories = dict(self.state.histories)
        if history is not None and call.caller_phone:
            histories[call.caller_phone] = history
        ring = RingingCall(call, True, history or histories.get(call.caller_phone or ""))
        self._publish(replace(self.state, ringing=(*others, ring), histories=histories))
        if history is None:
            if self.app.ring_bell:
                self.app.bell()
            if call.caller_phone:
                self.app.run_worker(
                    lambda: self._look_up_history(call),
                    thread=True,
                    group="phone-history",
                    exit_on_error=False,
                )

    def _look_up_history(self, call: PhoneCallView) -> None:
        """The caller's history, read after the number is on screen (a worker)."""
        try:
            history = self.app.calls.caller_history(call.caller_phone or "")
        except SiagaError:
            return
        if history is not None:  # None: not a full number, nothing to add
            self.app.call_from_thread(self._ring_here, call, history)

    def call_recorded(self, call: PhoneCallView, late: bool) -> None:
        self.app.call_from_thread(self._recorded, call, late)

    def _recorded(self, call: PhoneCallView, late: bool) -> None:
        """``call`` is in the database now: its row id wherever the call is shown (only
        the id: the events that came meanwhile are newer than this write)."""
        cid = call.system_call_id
        if call.id is not None:
            self._ids[cid] = call.id
            while len(self._ids) > ENDED_KEPT:
                del self._ids[next(iter(self._ids))]
        with self._lock:
            if cid in self._here:
                self._here[cid] = self.with_id(self._here[cid])
        ringing = tuple(replace(r, call=self.with_id(r.call)) for r in self.state.ringing)
        on_call = self.state.on_call
        if on_call is not None:
            on_call = self.with_id(on_call)
        if cid in self._ended_here:
            self._ended_here[cid] = self.with_id(self._ended_here[cid])
        self._publish(replace(self.state, ringing=ringing, on_call=on_call))
        self.app.phone_call_recorded(self.with_id(call))
        if late:
            self._say("phone_recorded_late", number=self._number(call))

    def with_id(self, call: PhoneCallView) -> PhoneCallView:
        """``call`` with its row id once this softphone's write of it is in (UI thread)."""
        if call.id is None and call.system_call_id in self._ids:
            return replace(call, id=self._ids[call.system_call_id])
        return call

    def call_unrecorded(self, call: PhoneCallView, error: SiagaError) -> None:
        self.app.call_from_thread(self._unrecorded, call, error)

    def _unrecorded(self, call: PhoneCallView, error: SiagaError) -> None:
        self._say(
            "phone_unrecorded",
            severity="warning",
            number=self._number(call),
            # Not the storage error's own text: it ends in "nothing was saved, try
            # again", which the softphone does by itself here.
            reason=translate(
                "phone_unrecorded_locked" if error.key == "db_locked" else "phone_unrecorded_other",
                self.app.lang,
            ),
        )

    def _number(self, call: PhoneCallView) -> str:
        return call.number_shown or translate("phone_withheld", self.app.lang)

    def _left(self, system_call_id: str) -> None:
        """(Lock held.) ``system_call_id`` no longer rings here."""
        self._here.pop(system_call_id, None)
        self._left_here[system_call_id] = None
        while len(self._left_here) > ENDED_KEPT:
            del self._left_here[next(iter(self._left_here))]

    def call_answered(self, call: PhoneCallView) -> None:
        with self._lock:
            self._left(call.system_call_id)
        self.app.call_from_thread(self._answered, call)

    def _answered(self, call: PhoneCallView) -> None:
        wanted, self._answering = self._answering, None
        if wanted is not None and wanted.system_call_id != call.system_call_id:
            # Only when the chosen call ended in the instant F12 was pressed (baresip
            # 1.0.0 then answers its own current call): the form is for this caller.
            self._say(
                "phone_answered_other",
                number=self._number(call),
                wanted=self._number(wanted),
                severity="warning",
            )
        others = tuple(
            r for r in self.state.ringing if r.call.system_call_id != call.system_call_id
        )
        self._publish(replace(self.state, ringing=others, on_call=call))
        self.app.call_later(self.app.take_phone_call, call)

    def call_ended(self, call: PhoneCallView) -> None:
        with self._lock:
            self._left(call.system_call_id)
        self.app.call_from_thread(self._ended, call)

    def ended(self, system_call_id: str) -> PhoneCallView | None:
        """The call ``system_call_id`` of this softphone, if it ended lately."""
        return self._ended_here.get(system_call_id)

    def _ended(self, call: PhoneCallView) -> None:
        self._ended_here[call.system_call_id] = call
        while len(self._ended_here) > ENDED_KEPT:
            del self._ended_here[next(iter(self._ended_here))]
        others = tuple(
            r for r in self.state.ringing if r.call.system_call_id != call.system_call_id
        )
        on_call = self.state.on_call
        if on_call is not None and on_call.system_call_id == call.system_call_id:
            on_call = None
            self.app.phone_call_ended(call)
        self._publish(replace(self.state, ringing=others, on_call=on_call))
        self.database_moved()

    def callback_done(self, key: str, outcome: str, callback_id: int) -> None:
        self.app.call_from_thread(self._callback_done, key, outcome, callback_id)

    def _callback_done(self, key: str, outcome: str, callback_id: int) -> None:
        self._say(
            "callback_recorded", outcome=translate(f"callback_outcome_{outcome}", self.app.lang)
        )
        self.app.callback_done(key, outcome, callback_id)
        self.database_moved()

    def phone_failed(self, error: SiagaError) -> None:
        self.app.call_from_thread(self.app.show_error, error)
