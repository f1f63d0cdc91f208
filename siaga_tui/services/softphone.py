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

The listener (the console) is told about each of these on the client's thread; it
must hand them over to its own thread itself.
"""

from __future__ import annotations

import threading
from typing import Final, Protocol

from siaga_tui.core.errors import SiagaError
from siaga_tui.core.models import CallbackMethod, CallbackOutcome
from siaga_tui.services.baresip import (
    BaresipClient,
    BaresipEvent,
    CallGone,
    CommandFailed,
    PhoneAddress,
)
from siaga_tui.services.telephony import CallbackItem, PhoneCallView, TelephonyService

_BUSY: Final = ("486", "600", "busy")
_NO_ANSWER: Final = ("408", "480", "487", "timeout", "no answer", "not available", "terminated")


class SoftphoneListener(Protocol):
    def phone_link(self, up: bool, reason: str | None) -> None: ...

    def call_ringing(self, call: PhoneCallView) -> None: ...

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
        self.client.start()

    def stop(self) -> None:
        self.client.stop()

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
        if event.type == "CALL_INCOMING":
            with self._lock:
                self._calls[event.call_id] = False
            caller = event.peer_uri or event.peer_name
            # The line (a PBX's queue or trunk) is not the softphone's to know.
            call = self.telephony.ring(event.call_id, caller, at=event.received_at)
            self.listener.call_ringing(call)
        elif event.type == "CALL_ESTABLISHED" and event.call_id in self._calls:
            with self._lock:
                self._calls[event.call_id] = True
            position = self.position or _user(event.account)
            call = self.telephony.answer(event.call_id, position=position, at=event.received_at)
            self.listener.call_answered(call)
        elif event.type == "CALL_CLOSED" and event.call_id in self._calls:
            with self._lock:
                self._calls.pop(event.call_id, None)
            self.listener.call_ended(self.telephony.hangup(event.call_id, at=event.received_at))

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
        with self._lock:
            calls, self._calls = self._calls, {}
            pending, self._callback = self._callback, None
        try:
            for call_id, answered in calls.items():
                self.listener.call_ended(self.telephony.hangup(call_id, dropped=answered))
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


def _user(aor: str) -> str | None:
    """``sip:operator1@127.0.0.1:5070`` → ``operator1``."""
    text = aor.strip("<>")
    if text.lower().startswith("sip:"):
        text = text[4:]
    user = text.split("@", 1)[0]
    return user or None
