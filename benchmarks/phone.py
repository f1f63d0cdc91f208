"""B12 (ring to screen) and B13 (idle CPU with the phone connected).

A real softphone (baresip) and a real caller (SIPp) on the loopback, the console in a
child process (``benchmarks/phone_child.py``) with ``--phone``. B11 compares the
moment the caller's number is painted on the console with the moment baresip's
``CALL_INCOMING`` event reached the console, both counted from SIPp's INVITE, in the
same run: the console's own share must stay under half a second. B13 is B6 with the
phone connected: the console's CPU while idle, against the bare Textual app.

Needs ``baresip`` and ``sipp`` (Debian: baresip-core, sip-tester).
"""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Final

from benchmarks.console import (
    _TICKS,
    COLUMNS,
    HEADLESS,
    LINES,
    READY_TIMEOUT,
    SETTLE_SECONDS,
    STARTED_MARGIN,
    USER_CACHE,
    IdleCpu,
    _cpu_seconds,
    launch,
)
from benchmarks.console_child import started_mark
from benchmarks.data import cached_database
from benchmarks.measure import Figure, Plan, child_env, median, python, ratio_figure
from tests.telephony.rig import PhoneRig, missing_programs, wait_for

#: The console's own share of ring-to-screen (above baresip's event arrival), seconds.
RING_TARGET: Final = 0.5


def _caller(run: int) -> tuple[str, str]:
    """A number of its own for each call (as dialled, and as the ringing bar shows it)."""
    tail = f"{run % 10000:04d}"
    return f"08123456{tail}", f"0812-3456-{tail}"


def _monotonic() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _console(db: Path, url: str, folder: Path, shown: str) -> tuple[subprocess.Popen[bytes], Path]:
    out = folder / "ring.json"
    env = child_env(
        TEXTUAL_DRIVER=HEADLESS,
        COLUMNS=COLUMNS,
        LINES=LINES,
        SIAGA112_LANG="id",
        SIAGA112_OPERATOR="bench",
        HOME=str(folder),
        XDG_STATE_HOME=str(folder / "state"),
        XDG_DATA_HOME=str(folder / "data"),
        XDG_CONFIG_HOME=str(folder / "config"),
        XDG_CACHE_HOME=str(USER_CACHE),
    )
    argv = python("-m", "benchmarks.phone_child", str(db), url, shown, str(out))
    log = (folder / "stderr").open("w")
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, env=env
    )
    if not wait_for(
        lambda: out.with_suffix(".linked").exists() or process.poll() is not None, READY_TIMEOUT
    ):
        raise RuntimeError("the console never connected to baresip")
    if process.poll() is not None:
        raise RuntimeError((folder / "stderr").read_text(errors="replace")[-3000:])
    return process, out


def _hang_up_all(db: Path) -> None:
    """End the calls the killed console left ringing in the shared database."""
    from siaga_tui.core.db import open_database
    from siaga_tui.services.telephony import TelephonyService

    database = open_database(db)
    try:
        phone = TelephonyService(database, operator="bench")
        for call in phone.ringing():
            phone.hangup(call.system_call_id)
    finally:
        database.dispose()


def b12_ring(plan: Plan) -> list[Figure]:
    return _phone(plan)[0:1]


def b13_idle_phone(plan: Plan) -> list[Figure]:
    return _phone(plan, idle=True)[1:2]


def _phone(plan: Plan, *, idle: bool = False) -> list[Figure]:
    missing = missing_programs()
    if missing:
        raise RuntimeError(
            f"{' and '.join(missing)} not installed (apt-get install baresip-core sip-tester)"
        )
    db = cached_database(plan.large).path
    screen: list[float] = []
    event: list[float] = []
    ours: list[float] = []
    theirs: list[float] = []
    stages: dict[str, list[float]] = {}
    runs = max(3, plan.runs)
    for run in range(runs):
        folder = Path(tempfile.mkdtemp(prefix="siaga-phone-"))
        rig = PhoneRig(folder / "phone")
        process = None
        try:
            phone = rig.baresip()
            number, shown = _caller(run)
            process, out = _console(db, phone.url, folder, shown)
            if idle and run < max(1, plan.runs // 2):
                # B6's rule: from SETTLE_SECONDS after the link (the bare app: its first
                # paint), and STARTED_MARGIN after the console says its start-up is over.
                settle = min(SETTLE_SECONDS, plan.idle_seconds)
                linked_at = _monotonic()
                if not wait_for(started_mark(out).exists, READY_TIMEOUT):
                    raise RuntimeError("the console's start-up never ended")
                time.sleep(max(linked_at + settle, _monotonic() + STARTED_MARGIN) - _monotonic())
                before, held_from = _cpu_seconds(process.pid), time.perf_counter()
                idle_cpu = IdleCpu(process.pid)
                time.sleep(plan.idle_seconds)
                used = idle_cpu.used(ticked=_cpu_seconds(process.pid) - before)
                ours.append(used / (time.perf_counter() - held_from) * 100)
                bare = launch("bare", None, hold=plan.idle_seconds, settle=settle)
                theirs.append(bare.idle_cpu_seconds / bare.held_seconds * 100)
            invite = _monotonic()
            caller = rig.call(phone, caller=number, hold_ms=100)
            if not wait_for(out.exists, 30):
                raise RuntimeError("the ringing call never showed on the console")
            moments = json.loads(out.read_text())
            for name, moment in moments.items():
                stages.setdefault(name, []).append(moment - invite)
            screen.append(moments["screen"] - invite)
            event.append(moments["event"] - invite)
            caller.kill()
        finally:
            if process is not None:
                process.send_signal(signal.SIGKILL)
                process.wait()
            rig.close()
            _hang_up_all(db)
    above = median([s - e for s, e in zip(screen, event, strict=True)])
    ring = Figure(
        "B12",
        f"ring to screen: SIPp INVITE to the number on the console ({runs} calls)",
        round(median(screen), 4),
        round(median(event), 4),
        "s",
        f"≤ {RING_TARGET} s above baresip's event",
        above <= RING_TARGET,
        note="baseline: baresip's CALL_INCOMING at the console's socket, same calls; "
        f"the console's share {above * 1000:.0f} ms (medians from the INVITE: "
        + ", ".join(f"{name} {median(values) * 1000:.0f} ms" for name, values in stages.items())
        + ")",
    )
    if not idle:
        return [ring, ring]
    floor = 100 / _TICKS / plan.idle_seconds
    value, baseline = median(ours), median(theirs)
    cpu = ratio_figure(
        "B13",
        f"console idle {plan.idle_seconds:g} s with the phone connected at {plan.large:,}: CPU",
        value,
        max(baseline, floor),
        "% of a core",
        2,
        note="from 3 s after the link came up and 1 s after the start-up is over; baseline: bare Textual app idle as long, "
        "from 3 s after its first paint (B6's rule and target)",
        extra_ok=value < 2.0,
        extra_target="< 2 % of a core",
    )
    return [ring, cpu]
