"""A real phone on the loopback: baresip softphones and SIPp callers on free ports.

Each ``Baresip`` is one position's softphone (SIP and ``ctrl_tcp`` on ports of its own,
in a folder of its own); ``call``/``cancel``/``answerer`` run SIPp scenarios from this
folder against it. Everything started is stopped by the ``phone_rig`` fixture.

Pitfalls (``/work/shared/telephony/README.md``): baresip's ``ausine`` source takes only
48 kHz stereo, and 1.0.0's player is ALSA's ``null`` device.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

HERE: Final = Path(__file__).parent
CALLER: Final = "081234567890"

CONFIG: Final = """\
sip_listen 127.0.0.1:{sip}
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aufile.so
module ctrl_tcp.so
module menu.so
module account.so
audio_source ausine,440
audio_player alsa,null
audio_alert alsa,null
ctrl_tcp_listen 127.0.0.1:{ctrl}
rtp_ports {rtp}-{rtp_end}
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 2
auplay_channels 2
"""


def missing_programs() -> list[str]:
    return [name for name in ("baresip", "sipp") if shutil.which(name) is None]


def _free(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive ports free for TCP and UDP on the loopback."""
    for _ in range(200):
        base = random.randrange(20000, 60000 - count)
        if all(_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no free ports")


def wait_for(condition: Callable[[], object], timeout: float = 10.0, step: float = 0.02) -> bool:
    """Poll ``condition`` until true or ``timeout`` seconds: a wait, never a timing assert."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


class Baresip:
    """One softphone (a position): ``operator1@127.0.0.1:<sip>``, ctrl_tcp on ``ctrl``."""

    def __init__(self, folder: Path) -> None:
        base = free_ports(24)
        self.sip, self.ctrl, self.rtp = base, base + 2, base + 4
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config").write_text(
            CONFIG.format(sip=self.sip, ctrl=self.ctrl, rtp=self.rtp, rtp_end=self.rtp + 19)
        )
        (folder / "contacts").write_text("")
        (folder / "accounts").write_text(f"<sip:operator1@127.0.0.1:{self.sip}>;regint=0\n")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"baresip://127.0.0.1:{self.ctrl}"

    def start(self) -> Baresip:
        log = (self.folder / "baresip.log").open("ab")
        self.process = subprocess.Popen(
            ["baresip", "-f", str(self.folder)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if not wait_for(self._listening, 10):
            raise RuntimeError(
                f"baresip did not start: {(self.folder / 'baresip.log').read_text()[-500:]}"
            )
        return self

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.ctrl), timeout=0.2).close()
        except OSError:
            return False
        return True

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.process = None


class Sipp:
    """One SIPp run (a caller, or the far end of a call-back)."""

    def __init__(self, folder: Path, args: list[str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_ports(3)
        self.process = subprocess.Popen(
            [
                "sipp",
                *args,
                "-i",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-mp",
                str(self.port + 1),
                "-m",
                "1",
                "-nostdin",
                "-timeout",
                "30s",
                "-timeout_error",
                "-trace_msg",
            ],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.folder = folder

    def wait(self, timeout: float = 30) -> int:
        return self.process.wait(timeout)

    def messages(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.folder.glob("*_messages.log"))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


class PhoneRig:
    """Starts softphones and SIPp runs in ``folder``; ``close`` stops them all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.phones: list[Baresip] = []
        self.runs: list[Sipp] = []

    def baresip(self, name: str = "position1") -> Baresip:
        phone = Baresip(self.folder / name).start()
        self.phones.append(phone)
        return phone

    def call(
        self,
        phone: Baresip,
        *,
        caller: str = CALLER,
        hold_ms: int = 500,
        name: str = "caller",
        held: bool = False,
    ) -> Sipp:
        """A caller rings ``phone``, waits for the answer, talks ``hold_ms``, hangs up;
        ``held``: after the answer it waits to be put on hold, then ``hold_ms`` on hold."""
        return self._run(
            name,
            [
                f"127.0.0.1:{phone.sip}",
                "-sf",
                str(HERE / ("held.xml" if held else "caller.xml")),
                "-key",
                "caller",
                caller,
                "-d",
                str(hold_ms),
            ],
        )

    def cancel(
        self, phone: Baresip, *, caller: str = CALLER, ring_ms: int = 500, name: str = "cancel"
    ) -> Sipp:
        """A caller rings ``phone`` for ``ring_ms`` and gives up before the answer."""
        return self._run(
            name,
            [
                f"127.0.0.1:{phone.sip}",
                "-sf",
                str(HERE / "cancel.xml"),
                "-key",
                "caller",
                caller,
                "-d",
                str(ring_ms),
            ],
        )

    def rejected(self, phone: Baresip, *, caller: str = CALLER, name: str = "rejected") -> Sipp:
        """A caller rings ``phone`` until the position rejects the call (486)."""
        args = [f"127.0.0.1:{phone.sip}", "-sf", str(HERE / "rejected.xml"), "-key", "caller"]
        return self._run(name, [*args, caller])

    def answerer(self, *, ring_ms: int = 200, busy: bool = False, name: str = "answerer") -> Sipp:
        """The far end of a call-back: answers after ``ring_ms`` (or is busy)."""
        scenario = "busy.xml" if busy else "answerer.xml"
        return self._run(name, ["-sf", str(HERE / scenario), "-d", str(ring_ms)])

    def _run(self, name: str, args: list[str]) -> Sipp:
        run = Sipp(self.folder / f"{name}-{len(self.runs)}", args)
        self.runs.append(run)
        return run

    def close(self) -> None:
        for run in self.runs:
            run.kill()
        for phone in self.phones:
            phone.kill()


def require_programs() -> str | None:
    """None when baresip and SIPp are here; else why the phone tests cannot run."""
    missing = missing_programs()
    if not missing:
        return None
    reason = f"{' and '.join(missing)} not installed (apt-get install baresip-core sip-tester)"
    if os.environ.get("CI") or os.environ.get("SIAGA_PHONE_TESTS_REQUIRED"):
        raise RuntimeError(f"CI must run the phone tests: {reason}")
    return reason
