"""What every figure shares: the figure itself, timing, and child processes.

A figure is always a pair measured in the same run, the thing and its baseline, so the
ratio holds on a noisy machine; runs of the two are interleaved, and the median is kept.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Plan:
    """How big and how often: the full run, ``--quick`` or ``--smoke``."""

    name: str
    small: int  # the database the flat-cost figures compare with (10 k)
    middle: int  # the one the memory figures compare with (100 k)
    large: int  # the one the figures are about (1 M)
    runs: int  # repetitions of a figure measured in a child process
    repeats: int  # repetitions of a figure measured in this process
    idle_seconds: float  # B6
    filers: int = 8  # B9: processes, and reports each files
    reports_each: int = 500

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(sorted({self.small, self.middle, self.large}))


FULL: Final = Plan("full", 10_000, 100_000, 1_000_000, runs=5, repeats=200, idle_seconds=30)
QUICK: Final = Plan(
    "quick", 10_000, 10_000, 100_000, runs=2, repeats=50, idle_seconds=5, reports_each=100
)
SMOKE: Final = Plan(
    "smoke", 1_000, 1_000, 2_000, runs=1, repeats=3, idle_seconds=1, filers=2, reports_each=5
)


@dataclass
class Figure:
    """One line of the report: a value, its baseline from the same run, and the verdict."""

    id: str
    what: str
    value: float
    baseline: float
    unit: str
    target: str
    passed: bool
    note: str = ""
    ratio: float = field(init=False)

    def __post_init__(self) -> None:
        self.ratio = self.value / self.baseline if self.baseline else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ratio_figure(
    id: str,
    what: str,
    value: float,
    baseline: float,
    unit: str,
    limit: float,
    *,
    note: str = "",
    extra_ok: bool = True,
    extra_target: str = "",
) -> Figure:
    """A figure whose target is ``value ≤ limit × baseline`` (and ``extra_ok``, if given)."""
    target = f"≤ {limit:g}×" + (f" and {extra_target}" if extra_target else "")
    passed = baseline > 0 and value <= limit * baseline and extra_ok
    return Figure(id, what, value, baseline, unit, target, passed, note)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def interleaved(
    subject: Callable[[], float], baseline: Callable[[], float], runs: int
) -> tuple[float, float]:
    """Medians of ``runs`` measurements of each, taken in turns (ABAB…)."""
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(runs):
        theirs.append(baseline())
        ours.append(subject())
    return median(ours), median(theirs)


def timed(action: Callable[[], object]) -> float:
    """CPU seconds this thread spends in one call of ``action``: what an in-process
    figure costs (SQLite runs in the calling thread), without the time the machine
    gave other processes meanwhile. Wall time on a shared machine moved B5 at 10 k
    reports between 2.81x and 3.04x from one run to the next."""
    started = time.thread_time()
    action()
    return time.thread_time() - started


def enough_runs(least: int, one_run: float, *, budget: float = 2.0, most: int = 25) -> int:
    """How many interleaved runs a figure takes: at least ``least``, more when one run
    (``one_run`` seconds) is short, so that a fast figure's median is not left to a few
    samples of scheduling noise."""
    return max(least, min(most, int(budget / max(one_run, 1e-3))))


@dataclass(frozen=True)
class ChildRun:
    """A child process's wall time, CPU time and peak resident memory."""

    seconds: float
    cpu_seconds: float
    max_rss_kib: int  # peak resident memory (VmHWM), sampled every 10 ms
    stdout: str
    stderr: str
    returncode: int


def run_child(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 900,
    stdin: str | None = None,
) -> ChildRun:
    """Run ``argv``; report its wall time, CPU (``wait4``) and peak memory (``/proc``)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=ROOT,
            text=True,
        )
        if stdin is not None and process.stdin is not None:
            process.stdin.write(stdin)
            process.stdin.close()
        # Peak memory is read from /proc (VmHWM, reset when the child execs) while it
        # runs: wait4's ru_maxrss would also count the memory of this process, which the
        # child is a fork of until it execs.
        deadline = started + timeout
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _high_water_kib(process.pid))
            if time.perf_counter() > deadline:
                process.kill()
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(
            seconds,
            usage.ru_utime + usage.ru_stime,
            peak,
            out.read(),
            err.read(),
            process.returncode,
        )


def _high_water_kib(pid: int) -> int:
    """The peak resident memory of a running process so far (0 once it has ended)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def python(*args: str) -> list[str]:
    """Command line for this interpreter running ``args``."""
    return [sys.executable, *args]


def compile_bytecode() -> None:
    """Compile siaga112's modules to bytecode, as installing the package does.

    ``pip install`` writes every module's bytecode, so an operator's console never
    compiles Python source at start. A checkout run with ``PYTHONDONTWRITEBYTECODE``
    (set on some build machines) would compile all of it at every start: 0.1 s that
    no workstation pays, and that the bare baseline, all of it installed, never pays.
    """
    import compileall

    compileall.compile_dir(ROOT / "siaga_tui", quiet=2, force=False)


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env.setdefault("PYTHONPATH", str(ROOT))
    return env


def require_ok(run: ChildRun, what: str) -> ChildRun:
    if run.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    return run
