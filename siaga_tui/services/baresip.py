"""A client for baresip's ``ctrl_tcp`` module: JSON messages in netstrings over TCP.

baresip (the position's softphone) sends an event for everything a call does
(``{"event":true,"type":"CALL_INCOMING","id":…,"peeruri":…}``) and takes commands
(``{"command":"accept","params":"","token":"7"}``), answering each with
``{"response":true,"ok":…,"data":…,"token":"7"}``. Each message travels as a netstring,
``LEN:JSON,``.

``BaresipClient`` keeps one connection on a thread of its own: events go to
``on_event`` (stamped with the moment they arrived: baresip's events carry no time),
the state of the link to ``on_link`` (up, or down with the reason), and when baresip is
not running or dies, it connects again by itself every ``retry`` seconds. Nothing here
knows about calls in the database (``services/softphone.py``) or about the console.

Answering or hanging up one call of several (baresip 1.0.0, Debian 12). Its ``accept``
and ``hangup`` take no call: they act on the "current" call, the newest unless
``callfind ID`` made another one current. And ``accept`` first puts the previous call
on hold; when that one is still ringing the hold fails and nothing is answered, while
the ringing call keeps a hold mark that would answer it later without sound. So
``answer`` sends, in one write, ``callfind``/``hold`` for each other call on the phone
(one answered is put on hold, as ``accept`` would; one ringing only gets the mark,
nothing is sent to its caller), ``callfind`` for the call, ``resume`` (its own mark
cleared) and ``accept``. baresip reads the whole write in one go on its single
thread, so no call arriving meanwhile can become current between the commands. What
is left: a call ending in the instant before baresip reads the write; ``callfind``'s
answer then says so (``CallGone``), the commands after it went to baresip's current
call, and the caller baresip did answer is known by its ``CALL_ESTABLISHED``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from siaga_tui.core.errors import ValidationError
from siaga_tui.core.timeutil import Clock, system_clock

#: Seconds between two attempts to reach baresip while it is not there.
RETRY_SECONDS: Final = 1.0
#: How long a command waits for baresip's answer.
COMMAND_TIMEOUT: Final = 3.0
#: A netstring longer than this is not baresip talking: the link is dropped.
MAX_MESSAGE: Final = 1_000_000
ENV_PHONE: Final = "SIAGA112_PHONE"


@dataclass(frozen=True, slots=True)
class PhoneAddress:
    """Where the softphone's ``ctrl_tcp`` listens, and how to dial a number through it."""

    host: str
    port: int
    #: ``{number}`` is replaced by the digits to call (``sip:{number}@pbx.example``).
    dial: str = "{number}"

    def describe(self) -> str:
        return f"baresip://{self.host}:{self.port}"


def parse_phone_address(value: str) -> PhoneAddress:
    """``baresip://HOST:PORT[?dial=sip:{number}@HOST]``; ValidationError("phone") otherwise."""
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "baresip" or not parts.hostname or port is None:
        raise ValidationError("phone", "phone_address_invalid", value=value[:80])
    dial = parse_qs(parts.query).get("dial", ["{number}"])[0]
    if "{number}" not in dial:
        raise ValidationError("phone", "phone_address_invalid", value=value[:80])
    return PhoneAddress(parts.hostname, port, dial)


@dataclass(frozen=True, slots=True)
class BaresipEvent:
    """One event from baresip, with the moment it reached this program."""

    type: str
    call_id: str
    direction: str
    peer_uri: str
    peer_name: str
    account: str
    param: str
    received_at: datetime

    @classmethod
    def from_message(cls, message: dict[str, Any], received_at: datetime) -> BaresipEvent:
        def text(key: str) -> str:
            value = message.get(key)
            return value if isinstance(value, str) else ""

        return cls(
            type=text("type"),
            call_id=text("id"),
            direction=text("direction"),
            peer_uri=text("peeruri"),
            peer_name=text("peerdisplayname"),
            account=text("accountaor"),
            param=text("param"),
            received_at=received_at,
        )


class CommandFailed(Exception):
    """baresip refused a command, did not answer in time, or is not connected."""


class CallGone(CommandFailed):
    """The call named was no longer on the softphone when baresip read the command."""

    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id} is no longer on the phone")
        self.call_id = call_id


@dataclass(frozen=True, slots=True)
class Answer:
    """baresip's answer to one command: whether it went well, and its text."""

    ok: bool
    data: str


class NetstringReader:
    """Splits a byte stream into netstrings; raises ValueError on anything else."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        found: list[bytes] = []
        while True:
            colon = self._buffer.find(b":")
            if colon < 0:
                if len(self._buffer) > 12:
                    raise ValueError("no netstring length")
                return found
            head = self._buffer[:colon]
            if not head.isdigit() or int(head) > MAX_MESSAGE:
                raise ValueError("bad netstring length")
            size = int(head)
            end = colon + 1 + size
            if len(self._buffer) < end + 1:
                return found
            if self._buffer[end : end + 1] != b",":
                raise ValueError("netstring without its comma")
            found.append(self._buffer[colon + 1 : end])
            self._buffer = self._buffer[end + 1 :]


def _found(call_id: str, answer: Answer) -> None:
    """``callfind``'s answer names the call (``setting current call: ID``), or CallGone."""
    if not (answer.ok and answer.data.strip().endswith(f": {call_id}")):
        raise CallGone(call_id)


def netstring(payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload, ensure_ascii=False).encode()
    return str(len(data)).encode() + b":" + data + b","


class BaresipClient:
    """One link to baresip's ``ctrl_tcp``, kept up by a daemon thread."""

    def __init__(
        self,
        address: PhoneAddress,
        *,
        on_event: Callable[[BaresipEvent], None],
        on_link: Callable[[bool, str | None], None],
        clock: Clock = system_clock,
        retry: float = RETRY_SECONDS,
    ) -> None:
        self.address = address
        self.on_event = on_event
        self.on_link = on_link
        self.clock = clock
        self.retry = retry
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._tokens = itertools.count(1)
        self._waiting: dict[str, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="siaga-baresip", daemon=True)
        self.connected = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    # --- Commands --------------------------------------------------------------------

    def command(self, name: str, params: str = "", *, timeout: float = COMMAND_TIMEOUT) -> str:
        """Send a command and wait for baresip's answer; its ``data`` text, or CommandFailed."""
        [answer] = self.commands([(name, params)], timeout=timeout)
        if not answer.ok:
            raise CommandFailed(answer.data or "refused")
        return answer.data

    def commands(
        self, commands: Sequence[tuple[str, str]], *, timeout: float = COMMAND_TIMEOUT
    ) -> list[Answer]:
        """Send ``commands`` (name, params) in one write; baresip's answer to each, in turn.

        baresip reads one write whole and runs its commands one after another, with no
        SIP message handled in between. A command baresip refuses is an ``Answer`` with
        ``ok`` false; CommandFailed when not connected or an answer does not come.
        """
        tokens = [str(next(self._tokens)) for _ in commands]
        boxes: list[tuple[threading.Event, list[dict[str, Any]]]] = []
        for token in tokens:
            boxes.append((threading.Event(), []))
            self._waiting[token] = boxes[-1]
        payload = b"".join(
            netstring({"command": name, "params": params, "token": token})
            for (name, params), token in zip(commands, tokens, strict=True)
        )
        try:
            with self._send_lock:
                sock = self._sock
                if sock is None:
                    raise CommandFailed("not connected")
                try:
                    sock.sendall(payload)
                except OSError as error:
                    raise CommandFailed(str(error)) from error
            answers: list[Answer] = []
            for done, box in boxes:
                if not done.wait(timeout):
                    raise CommandFailed("no answer")
                if not box:
                    raise CommandFailed("link lost")
                data = box[0].get("data")
                answers.append(
                    Answer(bool(box[0].get("ok", False)), data if isinstance(data, str) else "")
                )
            return answers
        finally:
            for token in tokens:
                self._waiting.pop(token, None)

    def answer(self, call_id: str, others: Iterable[str] = ()) -> None:
        """Answer exactly ``call_id``; ``others``: the other calls on this phone (the ones
        answered first: the last one held is the one ``accept`` looks at).

        baresip 1.0.0's way round its ``accept`` (the module's doc): each other call is
        held (ringing: only marked so), the call itself is not, all in one write.
        CallGone when the call had ended by then.
        """
        batch: list[tuple[str, str]] = []
        for other in others:
            if other != call_id:
                batch += [("callfind", other), ("hold", "")]
        batch += [("callfind", call_id), ("resume", ""), ("accept", "")]
        answers = self.commands(batch)
        _found(call_id, answers[-3])
        if not answers[-1].ok:
            raise CommandFailed(answers[-1].data or "refused")

    def hangup(self, call_id: str) -> None:
        """Hang up (or, ringing, reject) exactly ``call_id``: ``callfind`` then ``hangup``,
        in one write. CallGone when the call had ended by then."""
        answers = self.commands([("callfind", call_id), ("hangup", "")])
        _found(call_id, answers[0])

    def dial(self, number: str) -> str:
        return self.command("dial", self.address.dial.replace("{number}", number))

    # --- The link ----------------------------------------------------------------------

    def _run(self) -> None:
        told_down = False
        while not self._stopping.is_set():
            try:
                sock = socket.create_connection(
                    (self.address.host, self.address.port), timeout=self.retry
                )
            except OSError as error:
                if not told_down:
                    told_down = True
                    self.on_link(False, error.strerror or str(error))
                self._stopping.wait(self.retry)
                continue
            sock.settimeout(None)
            with self._send_lock:
                self._sock = sock
            self.connected = True
            told_down = False
            self.on_link(True, None)
            reason = self._read(sock)
            self.connected = False
            self._close()
            self._fail_waiting()
            if self._stopping.is_set():
                return
            told_down = True
            self.on_link(False, reason)
            self._stopping.wait(self.retry)

    def _read(self, sock: socket.socket) -> str:
        reader = NetstringReader()
        while True:
            try:
                data = sock.recv(65536)
            except OSError as error:
                return error.strerror or str(error)
            if not data:
                return "closed"
            try:
                messages = reader.feed(data)
            except ValueError as error:
                return str(error)
            now = self.clock()
            for raw in messages:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    self._dispatch(message, now)

    def _dispatch(self, message: dict[str, Any], now: datetime) -> None:
        if message.get("response"):
            waiting = self._waiting.get(str(message.get("token")))
            if waiting is not None:
                waiting[1].append(message)
                waiting[0].set()
        elif message.get("event"):
            self.on_event(BaresipEvent.from_message(message, now))

    def _close(self) -> None:
        with self._send_lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _fail_waiting(self) -> None:
        for done, _box in list(self._waiting.values()):
            done.set()  # the waiter finds no answer and fails
