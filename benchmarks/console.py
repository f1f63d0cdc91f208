"""B1 (start to first paint), B6 (idle CPU), B7 (keystroke latency), B8 (memory).

The console runs headless in a child process (``benchmarks/console_child.py``), exactly
as ``siaga112 --db FILE tui`` starts it; the baseline is a bare Textual app in the same
kind of child. The parent reads the child's CPU time and resident memory from
``/proc``, so nothing is measured from inside the thing measured except the moment
of the first paint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from benchmarks.console_child import started_mark
from benchmarks.data import CACHE_DIR, cached_database
from benchmarks.measure import Figure, Plan, child_env, median, python, ratio_figure

#: The terminal the headless console pretends to have.
COLUMNS: Final = "120"
LINES: Final = "36"
HEADLESS: Final = "textual.drivers.headless_driver:HeadlessDriver"
#: How long a console is left to finish starting after its first paint (the first polls
#: run, the counts deferred past the paint come in) before memory or idle CPU is read.
SETTLE_SECONDS: Final = 3.0
#: And at least this long after it says its start-up is over (the ``started`` mark): the
#: live watch's first looks, the last worker's results on screen.
STARTED_MARGIN: Final = 1.0
READY_TIMEOUT: Final = 180.0
_TICKS: Final = os.sysconf("SC_CLK_TCK")
#: The user cache folder every console child shares, as one workstation's runs do.
USER_CACHE: Final = CACHE_DIR / "user-cache"


@dataclass(frozen=True)
class Launch:
    ready_seconds: float  # process start to first paint with rows
    ready_cpu_seconds: float  # CPU the process used until then (steadier on a busy machine)
    started_seconds: float  # first paint to the end of its start-up (the ``started`` mark)
    settle_cpu_seconds: float  # CPU used after the first paint, before the hold began
    idle_cpu_seconds: float  # CPU used while held open after that
    held_seconds: float
    rss_kib: int  # resident memory at the end


def launch(kind: str, db: Path | None, *, hold: float = 0.0, settle: float = 0.0) -> Launch:
    """Start the console (``siaga``) or the bare app; wait for its first paint, then
    ``settle`` seconds and at least ``STARTED_MARGIN`` after its start-up is over; hold
    it. Work a start does once is never counted as idle, however late a busy machine
    lets it run."""
    folder = Path(tempfile.mkdtemp(prefix="siaga-console-"))
    mark = folder / "ready"
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
    argv = python("-m", "benchmarks.console_child", "start", kind, str(db or "-"), str(mark))
    log = (folder / "stderr").open("w")
    started = time.clock_gettime(time.CLOCK_MONOTONIC)
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, env=env
    )
    try:
        ready = _wait_for(mark, process, log, started, f"the {kind} console showed no rows")
        cpu_ready = _cpu_seconds(process.pid)
        started_after = 0.0
        if settle:
            done = started_mark(mark)
            started_after = _wait_for(done, process, log, started, f"the {kind} never started")
            started_after -= ready
            now = time.clock_gettime(time.CLOCK_MONOTONIC) - started
            time.sleep(max(ready + settle, ready + started_after + STARTED_MARGIN) - now)
        cpu_before = _cpu_seconds(process.pid)
        held_from = time.perf_counter()
        idle = IdleCpu(process.pid)
        if hold:
            time.sleep(hold)
        cpu_after = _cpu_seconds(process.pid)
        held = time.perf_counter() - held_from
        idle_cpu = idle.used(ticked=cpu_after - cpu_before)
        rss = _rss_kib(process.pid)
        if process.poll() is not None:
            raise RuntimeError(f"the {kind} console ended while it should idle")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        log.close()
        for leftover in sorted(folder.rglob("*"), reverse=True):
            leftover.rmdir() if leftover.is_dir() else leftover.unlink()
        folder.rmdir()
    return Launch(ready, cpu_ready, started_after, cpu_before - cpu_ready, idle_cpu, held, rss)


def _wait_for(
    mark: Path, process: subprocess.Popen[bytes], log: IO[str], t0: float, what: str
) -> float:
    """Seconds from ``t0`` to the moment a child wrote in ``mark`` (waited for)."""
    while not mark.exists():
        waited = time.clock_gettime(time.CLOCK_MONOTONIC) - t0
        if process.poll() is not None or waited > READY_TIMEOUT:
            log.flush()
            stderr = Path(log.name).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{what} (exit {process.returncode}):\n{stderr}")
        time.sleep(0.002)
    return float(mark.read_text().strip()) - t0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its threads, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


class IdleCpu:
    """The CPU a process uses from now on, to the nanosecond: the scheduler's own count
    per thread (``/proc/PID/task/*/schedstat``). Clock ticks (``/proc/PID/stat``) are
    10 ms and charged to whoever runs when the tick lands, so a process that wakes a few
    times a minute reads 0, 1 or 3 ticks over 30 s by chance. A thread that ends in
    between takes its count along: then the ticks are used."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = self._threads()

    def _threads(self) -> dict[str, int] | None:
        try:
            tasks = Path(f"/proc/{self.pid}/task")
            return {t.name: int((t / "schedstat").read_text().split()[0]) for t in tasks.iterdir()}
        except (OSError, ValueError, IndexError):
            return None

    def used(self, *, ticked: float) -> float:
        end = self._threads()
        if self.start is None or end is None or not self.start.keys() <= end.keys():
            return ticked
        return sum(end[name] - self.start.get(name, 0) for name in end) / 1e9


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc")


def b1_start(plan: Plan) -> list[Figure]:
    db = cached_database(plan.large).path
    ours: list[float] = []
    minimal: list[float] = []
    bare: list[float] = []
    if plan.runs > 1:  # warm: page cache, bytecode
        launch("siaga", db)
        launch("sqlmodel", db)
        launch("bare", None)
    for _ in range(plan.runs):
        minimal.append(launch("sqlmodel", db).ready_seconds)
        ours.append(launch("siaga", db).ready_seconds)
        bare.append(launch("bare", None).ready_seconds)
    what = f"`siaga112 tui` start to first paint of the queue at {plan.large:,}"
    return [
        ratio_figure(
            "B1",
            what,
            median(ours),
            median(minimal),
            "s",
            1.3,
            note="headless, process start to the first window of rows on screen; "
            "baseline: a minimal app on the same stack, Textual Header + DataTable + Footer "
            "with 100 rows read from the same file through an SQLModel Session",
        ),
        Figure(
            "B1 bare",
            what + " against a bare Textual app",
            median(ours),
            median(bare),
            "s",
            "for the record",
            True,
            note="the old baseline: Header + DataTable (100 fixed rows) + Footer, no database",
        ),
    ]


def b6_idle(plan: Plan) -> list[Figure]:
    """Idle CPU once started: both apps are left ``SETTLE_SECONDS`` after their first
    paint, and at least ``STARTED_MARGIN`` after their start-up is over (the console
    counts its backlog, starts the live watch and loads the phone numbers' metadata
    just after it, work a start does once), then held. What that start-up tail costs,
    and how long it took, is given for the record."""
    db = cached_database(plan.large).path
    settle = min(SETTLE_SECONDS, plan.idle_seconds)
    ours: list[float] = []
    theirs: list[float] = []
    tail: list[float] = []
    bare_tail: list[float] = []
    start_up: list[float] = []
    for _ in range(max(1, plan.runs // 2)):
        run = launch("bare", None, hold=plan.idle_seconds, settle=settle)
        theirs.append(run.idle_cpu_seconds / run.held_seconds * 100)
        bare_tail.append(run.settle_cpu_seconds * 1000)
        run = launch("siaga", db, hold=plan.idle_seconds, settle=settle)
        ours.append(run.idle_cpu_seconds / run.held_seconds * 100)
        tail.append(run.settle_cpu_seconds * 1000)
        start_up.append(run.started_seconds * 1000)
    value, baseline = median(ours), median(theirs)
    # A bare app that never wakes uses no CPU at all, to the nanosecond: a ratio to 0
    # says nothing. One clock tick (10 ms) over the hold, the least `top` or `ps` can
    # show, is the smallest baseline.
    floor = 100 / _TICKS / plan.idle_seconds
    return [
        ratio_figure(
            "B6",
            f"console idle {plan.idle_seconds:g} s with live polling at {plan.large:,}: CPU",
            value,
            max(baseline, floor),
            "% of a core",
            2,
            note=f"from {settle:g} s after the first paint and {STARTED_MARGIN:g} s after the "
            "start-up is over, the scheduler's count per thread; "
            "baseline: bare Textual app idle as long from as long after its first paint, "
            "at least one 10 ms clock tick over the hold",
            extra_ok=value < 2.0,
            extra_target="< 2 % of a core",
        ),
        Figure(
            "B6 tail",
            f"CPU from the first paint to the idle hold at {plan.large:,}",
            round(median(tail), 1),
            round(median(bare_tail), 1),
            "ms",
            "for the record",
            True,
            note="the console's start-up work deferred past its first paint (backlog count, "
            "late counts, live watch, phone metadata), over in "
            f"{median(start_up):.0f} ms (median); baseline: the bare app's",
        ),
    ]


def b8_memory(plan: Plan) -> list[Figure]:
    large = cached_database(plan.large).path
    small = cached_database(plan.small).path
    ours: list[float] = []
    theirs: list[float] = []
    settle = min(SETTLE_SECONDS, plan.idle_seconds)
    for _ in range(max(1, plan.runs // 2)):
        theirs.append(launch("siaga", small, hold=settle).rss_kib / 1024)
        ours.append(launch("siaga", large, hold=settle).rss_kib / 1024)
    return [
        ratio_figure(
            "B8",
            f"console resident memory at {plan.large:,} (vs {plan.small:,})",
            median(ours),
            median(theirs),
            "MiB",
            1.2,
            note=f"VmRSS {settle:g} s after the first paint",
        )
    ]


def b7_keystrokes(plan: Plan) -> list[Figure]:
    db = cached_database(plan.large).path
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(max(1, plan.runs // 2 + 1)):
        theirs.append(_keys("bare", None))
        ours.append(_keys("siaga", db))
    return [
        ratio_figure(
            "B7",
            f"keystroke in the entry form at {plan.large:,} (phone with caller history, "
            "kelurahan completion)",
            median(ours) * 1e3,
            median(theirs) * 1e3,
            "ms",
            3,
            note="Pilot press round-trip, median of every key; baseline: bare Textual Input",
        )
    ]


def _keys(kind: str, db: Path | None) -> float:
    from benchmarks.measure import require_ok, run_child

    with tempfile.TemporaryDirectory(prefix="siaga-keys-") as folder:
        out = Path(folder) / "keys.json"
        env = child_env(
            SIAGA112_LANG="id",
            HOME=folder,
            XDG_STATE_HOME=f"{folder}/state",
            XDG_DATA_HOME=f"{folder}/data",
            XDG_CONFIG_HOME=f"{folder}/config",
            XDG_CACHE_HOME=str(USER_CACHE),
        )
        run = run_child(
            python("-m", "benchmarks.console_child", "keys", kind, str(db or "-"), str(out)),
            env=env,
            timeout=600,
        )
        require_ok(run, f"keystrokes into the {kind} form")
        return float(json.loads(out.read_text())["median"])
