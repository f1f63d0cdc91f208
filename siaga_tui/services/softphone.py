"""The position's softphone (baresip) tied to the calls in the database.

baresip's events become the telephony events of ``TelephonyService`` (one row per
call id, so the other positions see them too), with the moment each event reached
this program as the phone's time: ``CALL_INCOMING`` rings, ``CALL_ESTABLISHED`` is the
answer, ``CALL_CLOSED`` the end. A call-back dialled from the call-back list is
recorded with its outcome: reached when baresip says the call is established, busy or
no answer from the reason baresip gives when it closes. If the link to baresip is
lost, calls on this phone end there: ringing ones abandoned (they go onto the
call-back list), answered ones dropped.

Answering and hanging up name the call: with two calls ringing on one softphone the
operator's choice is answered, never baresip's "current" call (``BaresipClient.answer``).

The listener (the console) is told of each call's events straight from baresip's
event, before and independently of the database: the ringing number is on screen at
once, and a call rings and can be answered while the database is slow or locked. The
writes follow on a thread of their own, one after another in the events' order
(``call_recorded`` once each is in, with the row's id); one the database refuses for
now (``StorageError``: locked, gone) is tried again every ``WRITE_RETRY`` seconds, the
listener told once per call (``call_unrecorded``), and the events after it wait their
turn. The listener is told on the client's or the writer's thread; it must hand
them over to its own thread itself.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Protocol

from siaga_tui.core.errors import SiagaError, StorageError
from siaga_tui.core.models import CallbackMethod, CallbackOutcome
from siaga_tui.services.baresip import (
    BaresipClient,
    BaresipEvent,
    CallGone,
    CommandFailed,
    PhoneAddress,
)
from siaga_tui.services.telephony import CallbackItem, PhoneCallView, TelephonyService

#: Seconds between two tries of a write the database refused for now.
WRITE_RETRY: Final = 1.0
#: How long stopping waits for the writes still queued.
STOP_WAIT: Final = 5.0
_BUSY: Final = ("486", "600", "busy")
_NO_ANSWER: Final = ("408", "480", "487", "timeout", "no answer", "not available", "terminated")


class SoftphoneListener(Protocol):
    def phone_link(self, up: bool, reason: str | None) -> None: ...

    def call_ringing(self, call: PhoneCallView) -> None: ...

    def call_recorded(self, call: PhoneCallView, late: bool) -> None:
        """``call`` (as known here, with its row id) is in the database; ``late``: after
        ``call_unrecorded`` said it was not."""

    def call_unrecorded(self, call: PhoneCallView, error: SiagaError) -> None:
        """The database refused ``call``'s write for now; it is tried again."""

    def call_answered(self, call: PhoneCallView) -> None: ...

    def call_ended(self, call: PhoneCallView) -> None: ...

    def callback_done(self, key: str, outcome: str, callback_id: int) -> None: ...

    def phone_failed(self, error: SiagaError) -> None: ...


def callback_outcome(reason: str) -> str:
    """A closed call-back's outcome from baresip's reason text (``486 Busy Here``…)."""
    text = reason.lower()
    if any(mark in text for mark in _BUSY):
        return CallbackOutcome.BUSY.value
    if any(mark in text for mark in _NO_ANSWER):
        return CallbackOutcome.NO_ANSWER.value
    return CallbackOutcome.FAILED.value


@dataclass(frozen=True, slots=True)
class _Write:
    """One event's database write, for the call ``call_id``."""

    call_id: str
    write: Callable[[TelephonyService], PhoneCallView]


class Softphone:
    """baresip at this position: answer the call ringing, dial a call-back, hang up."""

    def __init__(
        self,
        address: PhoneAddress,
        telephony: TelephonyService,
        listener: SoftphoneListener,
        *,
        position: str | None = None,
        retry: float | None = None,
    ) -> None:
        self.telephony = telephony
        self.listener = listener
        self.position = position
        self._lock = threading.Lock()
        #: Incoming calls on this phone not yet ended: call id → answered?
        self._calls: dict[str, bool] = {}
        #: The call-back being dialled: the list entry's key, whether it was reached, and
        #: baresip's id for it once an event named it.
        self._callback: tuple[str, bool, str | None] | None = None
        #: Each call of this phone as known here (its events), until its writes are in.
        self._views: dict[str, PhoneCallView] = {}
        #: The writes not yet in, oldest first; the calls told ``call_unrecorded``.
        self._writes: deque[_Write] = deque()
        self._unrecorded: set[str] = set()
        self._wake = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self.write_retry = WRITE_RETRY
        self._writer = threading.Thread(
            target=self._write_all, name="siaga-phone-writes", daemon=True
        )
        kwargs = {} if retry is None else {"retry": retry}
        self.client = BaresipClient(
            address, on_event=self._event, on_link=self._link, clock=telephony.clock, **kwargs
        )

    @property
    def address(self) -> PhoneAddress:
        return self.client.address

    @property
    def connected(self) -> bool:
        return self.client.connected

    def start(self) -> None:
        self._writer.start()
        self.client.start()

    def stop(self) -> None:
        """Disconnect; the writes still queued get one more try each (``STOP_WAIT``)."""
        self.client.stop()
        with self._wake:
            self._stopping.set()
            self._wake.notify_all()
        if self._writer.is_alive():
            self._writer.join(STOP_WAIT)

    def unwritten(self) -> int:
        """How many event writes are not in the database yet."""
        with self._lock:
            return len(self._writes)

    # --- What the operator does ------------------------------------------------------

    def ringing_ids(self) -> list[str]:
        """baresip's ids of the calls ringing on this phone, oldest first."""
        with self._lock:
            return [call_id for call_id, answered in self._calls.items() if not answered]

    def answer(self, call_id: str) -> None:
        """Answer exactly the call ``call_id`` ringing on this phone, whatever else rings.

        A call answered here and still going on is put on hold first, as baresip's own
        ``accept`` does with the call before. CallGone when ``call_id`` no longer rings
        here, CommandFailed when baresip cannot.
        """
        with self._lock:
            calls = dict(self._calls)
        if calls.get(call_id) is not False:
            raise CallGone(call_id)
        talking = [other for other, answered in calls.items() if answered]
        ringing = [other for other, answered in calls.items() if not answered and other != call_id]
        self.client.answer(call_id, [*talking, *ringing])

    def hang_up(self, call_id: str) -> None:
        """Hang up exactly ``call_id`` (rejected if it still rings); CallGone if it ended."""
        self.client.hangup(call_id)

    def callback_call_id(self) -> str | None:
        """baresip's id of the call-back being dialled, once baresip named it."""
        with self._lock:
            return None if self._callback is None else self._callback[2]

    def call_back(self, item: CallbackItem) -> None:
        """Dial the caller of ``item`` back; the outcome is recorded when it is known."""
        number = item.dialable
        if number is None:
            raise CommandFailed("no number to dial")
        with self._lock:
            self._callback = (item.key, False, None)
        try:
            self.client.dial(number)
        except CommandFailed:
            with self._lock:
                self._callback = None
            raise

    # --- From baresip (the client's thread) -------------------------------------------

    def _event(self, event: BaresipEvent) -> None:
        try:
            with self._lock:
                incoming = event.call_id in self._calls
            if event.direction == "outgoing" or (not incoming and self._callback):
                self._outgoing(event)
            else:
                self._incoming(event)
        except SiagaError as error:
            self.listener.phone_failed(error)

    def _incoming(self, event: BaresipEvent) -> None:
        # The listener first, from the event; the write follows on the writer's thread.
        at = event.received_at
        if event.type == "CALL_INCOMING":
            caller = event.peer_uri or event.peer_name
            call = PhoneCallView.offered(event.call_id, caller, at)
            with self._lock:
                self._calls[call.system_call_id] = False
                self._views[call.system_call_id] = call
            self.listener.call_ringing(call)
            # The line (a PBX's queue or trunk) is not the softphone's to know.
            self._queue(
                _Write(call.system_call_id, lambda t: t.ring(call.system_call_id, caller, at=at))
            )
        elif event.type == "CALL_ESTABLISHED" and event.call_id in self._calls:
            position = self.position or _user(event.account) or self.telephony.operator
            with self._lock:
                self._calls[event.call_id] = True
                call = self._known(event).answered(at, position)
                self._views[event.call_id] = call
            self.listener.call_answered(call)
            self._queue(
                _Write(event.call_id, lambda t: t.answer(event.call_id, position=position, at=at))
            )
        elif event.type == "CALL_CLOSED" and event.call_id in self._calls:
            with self._lock:
                self._calls.pop(event.call_id, None)
                call = self._known(event).ended(at)
                self._views[event.call_id] = call
            self.listener.call_ended(call)
            self._queue(_Write(event.call_id, lambda t: t.hangup(event.call_id, at=at)))

    def _known(self, event: BaresipEvent) -> PhoneCallView:
        """The call ``event`` is about as known here (lock held)."""
        known = self._views.get(event.call_id)
        if known is None:  # not seen ringing here: only its id is known
            known = PhoneCallView.offered(event.call_id, None, event.received_at)
            known = replace(known, offered_at=None)
        return known

    # --- The database writes (the writer's thread) -------------------------------------

    def _queue(self, write: _Write) -> None:
        with self._wake:
            self._writes.append(write)
            self._wake.notify_all()

    def _write_all(self) -> None:
        """Write the events in their order; one refused for now is tried again (the ones
        after it wait), until stopping: then each left gets one more try."""
        while True:
            with self._wake:
                while not self._writes and not self._stopping.is_set():
                    self._wake.wait()
                if not self._writes:
                    return
                write = self._writes[0]
            try:
                recorded: PhoneCallView | None = write.write(self.telephony)
            except StorageError as error:
                if not self._stopping.is_set():
                    self._not_yet(write.call_id, error)
                    self._stopping.wait(self.write_retry)
                    continue
                recorded = None  # stopping: it stays unrecorded
            except SiagaError as error:
                recorded = None
                self.listener.phone_failed(error)
            with self._wake:
                self._writes.popleft()
                late = write.call_id in self._unrecorded
                self._unrecorded.discard(write.call_id)
                known = self._views.get(write.call_id)
                pending = any(w.call_id == write.call_id for w in self._writes)
                if known is not None and not pending and write.call_id not in self._calls:
                    del self._views[write.call_id]  # ended, and all its writes are in
                if recorded is not None and known is not None:
                    recorded = replace(
                        known, id=recorded.id, logged_call_id=recorded.logged_call_id
                    )
                    if write.call_id in self._views:
                        self._views[write.call_id] = recorded
            if recorded is not None:
                self.listener.call_recorded(recorded, late)

    def _not_yet(self, call_id: str, error: StorageError) -> None:
        with self._lock:
            told = call_id in self._unrecorded
            self._unrecorded.add(call_id)
            known = self._views.get(call_id)
        if not told and known is not None:
            self.listener.call_unrecorded(known, error)

    def _outgoing(self, event: BaresipEvent) -> None:
        with self._lock:
            pending = self._callback
        if pending is None:
            return
        key, reached, call_id = pending
        if call_id is None and event.call_id:
            call_id = event.call_id
            with self._lock:
                self._callback = (key, reached, call_id)
        if event.type == "CALL_ESTABLISHED" and not reached:
            with self._lock:
                self._callback = (key, True, call_id)
            callback_id = self.telephony.record_callback(
                key,
                CallbackOutcome.REACHED,
                method=CallbackMethod.PHONE,
                system_call_id=event.call_id or None,
                at=event.received_at,
            )
            self.listener.callback_done(key, CallbackOutcome.REACHED.value, callback_id)
        elif event.type == "CALL_CLOSED":
            with self._lock:
                self._callback = None
            if not reached:
                outcome = callback_outcome(event.param)
                callback_id = self.telephony.record_callback(
                    key,
                    outcome,
                    method=CallbackMethod.PHONE,
                    system_call_id=event.call_id or None,
                    note=event.param or None,
                    at=event.received_at,
                )
                self.listener.callback_done(key, outcome, callback_id)

    def _link(self, up: bool, reason: str | None) -> None:
        if not up:
            self._lost()
        self.listener.phone_link(up, reason)

    def _lost(self) -> None:
        """baresip went away: its calls ended here (ringing: abandoned; answered: dropped)."""
        moment = self.telephony.clock()
        with self._lock:
            calls, self._calls = self._calls, {}
            pending, self._callback = self._callback, None
            ended = []
            for call_id, answered in calls.items():
                known = self._views.get(call_id)
                if known is not None:
                    self._views[call_id] = known.ended(moment, dropped=answered)
                    ended.append((self._views[call_id], answered))
        for call, answered in ended:
            self.listener.call_ended(call)
            self._queue(_Write(call.system_call_id, _hangup(call.system_call_id, moment, answered)))
        try:
            if pending is not None and not pending[1]:
                callback_id = self.telephony.record_callback(
                    pending[0],
                    CallbackOutcome.FAILED,
                    method=CallbackMethod.PHONE,
                    note="softphone lost",
                )
                self.listener.callback_done(pending[0], CallbackOutcome.FAILED.value, callback_id)
        except SiagaError as error:
            self.listener.phone_failed(error)


def _hangup(
    call_id: str, at: datetime, dropped: bool
) -> Callable[[TelephonyService], PhoneCallView]:
    return lambda telephony: telephony.hangup(call_id, at=at, dropped=dropped)


def _user(aor: str) -> str | None:
    """``sip:operator1@127.0.0.1:5070`` → ``operator1``."""
    text = aor.strip("<>")
    if text.lower().startswith("sip:"):
        text = text[4:]
    user = text.split("@", 1)[0]
    return user or None
