"""``python -m benchmarks``: every figure with its baseline from the same run.

    python -m benchmarks                  # the full run: 10 k, 100 k and 1 M reports
    python -m benchmarks --quick          # 10 k / 100 k, in a couple of minutes
    python -m benchmarks --smoke          # a few thousand rows: checks that it all runs
    python -m benchmarks --only B3,B4 --json results.json

Generated databases are cached in ``benchmarks/.cache/``. The exit code is 0 when every
figure meets its target, 1 when one misses it, 2 when a figure could not be measured.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from benchmarks.data import cached_database
from benchmarks.measure import FULL, QUICK, SMOKE, Figure, Plan, compile_bytecode
from benchmarks.report import as_json, markdown, write_json

#: Each figure and the function (module:name in this package) that measures it.
FIGURES: dict[str, str] = {
    "B1": "console:b1_start",
    "B2": "storage:b2_change_check",
    "B3": "storage:b3_save",
    "B4": "reporting:b4_export",
    "B5": "reporting:b5_stats",
    "B6": "console:b6_idle",
    "B7": "console:b7_keystrokes",
    "B8": "console:b8_memory",
    "B9": "storage:b9_concurrency",
    "B10": "reporting:b10_breakdown",
    "B11": "entry_keys:b11_entry_keys",
    "B12": "phone:b12_ring",
    "B13": "phone:b13_idle_phone",
}


def _measure(name: str) -> Callable[[Plan], list[Figure]]:
    module, function = FIGURES[name].split(":")
    return getattr(import_module(f"benchmarks.{module}"), function)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=summary)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="10 k / 100 k sizes, fewer runs")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, one run: for CI")
    parser.add_argument("--only", default="", help="comma-separated figures, e.g. B3,B4")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    plan = SMOKE if args.smoke else QUICK if args.quick else FULL
    wanted = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    wanted = wanted or list(FIGURES)
    unknown = [name for name in wanted if name not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s): {', '.join(unknown)}; known: {', '.join(FIGURES)}")

    print(
        f"# siaga112 benchmarks ({plan.name}: {', '.join(f'{n:,}' for n in plan.sizes)} reports)",
        file=sys.stderr,
    )
    compile_bytecode()
    for size_ in plan.sizes:
        built = cached_database(size_)
        if built.seconds:
            print(f"built {built.reports:,} reports in {built.seconds:.1f} s", file=sys.stderr)

    figures: list[Figure] = []
    problems: list[str] = []
    for name in wanted:
        started = time.perf_counter()
        print(f"{name} …", file=sys.stderr, flush=True)
        try:
            found = _measure(name)(plan)
        except Exception as exc:
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
            traceback.print_exc(file=sys.stderr)
            continue
        figures.extend(found)
        print(f"{name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    print(markdown(figures))
    for problem in problems:
        print(f"\nnot measured: {problem}")
    if args.json:
        write_json(args.json, as_json(figures, plan, problems))
    if problems:
        return 2
    return 0 if all(f.passed for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
