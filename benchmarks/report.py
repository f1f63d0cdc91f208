"""The results: a Markdown table for the terminal and the README, and JSON."""

from __future__ import annotations

import json
import platform
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.measure import Figure, Plan

HEADER = "| # | what | value | baseline | ratio | target | result |"


def _number(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "–"
    if unit in ("%", "MiB", "ms", "s", "µs"):
        digits = 3 if abs(value) < 10 else 1 if abs(value) < 1000 else 0
        return f"{value:,.{digits}f} {unit}"
    return f"{value:,.3g} {unit}"


def markdown(figures: list[Figure]) -> str:
    lines = [HEADER, "|---|---|---|---|---|---|---|"]
    for f in figures:
        ratio = "–" if f.ratio == float("inf") else f"{f.ratio:.2f}×"
        verdict = "pass" if f.passed else "**FAIL**"
        if f.target == "for the record":
            verdict = "–"
        what = f.what + (f" ({f.note})" if f.note else "")
        lines.append(
            f"| {f.id} | {what} | {_number(f.value, f.unit)} | {_number(f.baseline, f.unit)} "
            f"| {ratio} | {f.target} | {verdict} |"
        )
    return "\n".join(lines)


def as_json(figures: list[Figure], plan: Plan, problems: list[str]) -> dict[str, Any]:
    return {
        "plan": plan.name,
        "sizes": {"small": plan.small, "middle": plan.middle, "large": plan.large},
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
            "cpus": _cpus(),
        },
        "figures": [f.as_dict() for f in figures],
        "problems": problems,
        "passed": not problems and all(f.passed for f in figures),
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
