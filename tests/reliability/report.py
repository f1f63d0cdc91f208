"""The reliability report: run the suite and print what it tried and what it found.

    python -m tests.reliability.report                 # run tests/reliability, then report
    python -m tests.reliability.report --from FILE     # report on a results file
    python -m tests.reliability.report --save FILE     # also keep the results file

The suite's conftest writes every test's outcome and the figures tests measured
(reports written, found, lost; timings) to the file named by RELIABILITY_RESULTS.
Exit status: 0 when every test passed and no report was lost, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.reliability.conftest import CASES, RESULTS_ENV

SUITE = Path(__file__).parent
#: Which part of the report a test belongs to: the first pattern found in its node id.
#: Tests parametrized by a hostile case are counted per case as well.
IDENTITY = "Identity (every command as a wrong, disabled, nonexistent or renamed operator; bursts)"
SECTIONS = (
    ("test_regressions", "Regressions (bugs found and fixed)"),
    ("test_service_properties", "Random operations"),
    ("test_load", "Load"),
    ("keeps_answering", "Load"),
    ("test_faults", "Faults"),
    ("test_hangup", "Faults"),
    ("test_drafts", "Faults"),
    ("save_on_a", "Faults"),
    ("test_export_to", "Faults"),
    ("test_export_into", "Faults"),
    ("random_keys", "Console under random keys"),
    ("test_identity", IDENTITY),
    ("test_tampering", "Tampering (audit verify, both engines)"),
    ("test_files", "Files: modes, clobbering, database gone under a program"),
    ("test_crash_list", "Crash list (bad input: one clear line)"),
)
#: Sections whose every test is a case tried: passed means caught (or handled).
CASE_SECTIONS = (
    "Tampering (audit verify, both engines)",
    "Files: modes, clobbering, database gone under a program",
    "Crash list (bad input: one clear line)",
)
HOSTILE = "Hostile input"
_PARAM = re.compile(r"\[(.*)\]$")


def run_suite(results: Path, extra: list[str]) -> int:
    env = dict(os.environ, **{RESULTS_ENV: str(results)})
    command = [sys.executable, "-m", "pytest", str(SUITE), "-q", "-p", "no:cacheprovider", *extra]
    return subprocess.run(command, env=env).returncode


def section_of(nodeid: str) -> str:
    for pattern, title in SECTIONS:
        if pattern in nodeid:
            return title
    return HOSTILE


def test_name(nodeid: str) -> str:
    return nodeid.split("::")[-1]


def channel_of(nodeid: str) -> str:
    """``test_command_line[markup-bold]`` → ``command line``."""
    name = _PARAM.sub("", test_name(nodeid)).removeprefix("test_")
    return name.replace("_", " ")


def case_of(nodeid: str) -> str | None:
    match = _PARAM.search(nodeid)
    if not match:
        return None
    ids = {case.id for case in CASES}
    return next((part for part in match.group(1).split("-") if part in ids), None) or (
        match.group(1) if match.group(1) in ids else None
    )


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out)


def render(results: dict[str, Any]) -> tuple[str, bool]:
    tests: dict[str, dict[str, Any]] = results["tests"]
    figures: dict[str, dict[str, Any]] = results["figures"]
    ok = all(t["outcome"] in ("passed", "xfailed", "skipped") for t in tests.values())
    parts: list[str] = []

    # Hostile input: per channel, and per case across channels.
    per_channel: dict[str, list[bool]] = defaultdict(list)
    per_case: dict[str, list[bool]] = defaultdict(list)
    for nodeid, test in tests.items():
        case = case_of(nodeid)
        if case is None:
            continue
        passed = test["outcome"] == "passed"
        per_channel[channel_of(nodeid)].append(passed)
        per_case[case].append(passed)
    rows = [
        [channel, str(len(v)), str(sum(v)), str(len(v) - sum(v))]
        for channel, v in sorted(per_channel.items())
    ]
    tried = len(per_case)
    passed_cases = sum(all(v) for v in per_case.values())
    rows.append(["every way in and out", str(tried), str(passed_cases), str(tried - passed_cases)])
    parts.append(
        f"Hostile input ({len(CASES)} cases in cases.toml)\n"
        + table(rows, ["through", "tried", "passed", "failed"])
    )
    failed_cases = sorted(case for case, v in per_case.items() if not all(v))
    if failed_cases:
        parts.append("  failed cases: " + ", ".join(failed_cases))

    # Faults, load, random operations, regressions: one line per check with its figures.
    written = found = lost = 0
    titles = [
        HOSTILE + ": files, screens and other checks",
        "Faults",
        "Load",
        "Console under random keys",
        "Random operations",
        "Regressions (bugs found and fixed)",
        IDENTITY,
        *CASE_SECTIONS,
    ]
    for title in titles:
        checks: dict[str, list[str]] = defaultdict(list)
        measured_by_check: dict[str, dict[str, Any]] = defaultdict(dict)
        for nodeid, test in tests.items():
            section = section_of(nodeid)
            if section == HOSTILE and case_of(nodeid) is not None:
                continue  # counted per case above
            if (section == HOSTILE and not title.startswith(HOSTILE)) or (
                section != HOSTILE and section != title
            ):
                continue
            check = channel_of(nodeid)  # parametrized variants count as one check
            checks[check].append(test["outcome"])
            measured = figures.get(nodeid, {})
            measured_by_check[check].update(measured)
            written += int(measured.get("written", 0))
            found += int(measured.get("found", 0))
            lost += int(measured.get("lost", 0))
        rows = []
        for check, results_of_check in checks.items():
            passed = results_of_check.count("passed")
            result = (
                "passed"
                if passed == len(results_of_check)
                else "/".join(sorted(set(results_of_check)))
            )
            if len(results_of_check) > 1:
                result += f" {passed}/{len(results_of_check)}"
            shown = ", ".join(f"{k}={v}" for k, v in measured_by_check[check].items())
            rows.append([check, result, shown])
        if rows:
            parts.append(f"{title}\n" + table(rows, ["check", "result", "figures"]))

    # Cases the identity checks tried: each a command run as someone it must refuse.
    cases = {"tried": 0, "caught": 0, "lost": 0}
    for nodeid, measured in figures.items():
        if section_of(nodeid) == IDENTITY:
            for name in cases:
                cases[name] += int(measured.get(f"cases_{name}", 0))
    ok = ok and cases["lost"] == 0

    fault_checks: dict[str, bool] = {}
    for nodeid, t in tests.items():
        if section_of(nodeid) == "Faults":
            check = channel_of(nodeid)
            fault_checks[check] = fault_checks.get(check, True) and t["outcome"] == "passed"
    survived, faults = sum(fault_checks.values()), len(fault_checks)
    case_rows = []
    for title in CASE_SECTIONS:
        results_here = [t["outcome"] for nodeid, t in tests.items() if section_of(nodeid) == title]
        if results_here:
            caught = results_here.count("passed")
            case_rows.append(
                [
                    f"{title.split(' (')[0].split(':')[0].lower()} cases tried / caught",
                    f"{len(results_here)} / {caught}",
                ]
            )
    outcomes: dict[str, int] = defaultdict(int)
    for t in tests.values():
        outcomes[t["outcome"]] += 1
    parts.append(
        "Summary\n"
        + table(
            [
                ["hostile inputs tried / passed", f"{tried} / {passed_cases}"],
                ["fault checks survived", f"{survived} / {faults}"],
                *case_rows,
                ["reports written / found / lost", f"{written} / {found} / {lost}"],
                [
                    "identity cases tried / caught / lost",
                    f"{cases['tried']} / {cases['caught']} / {cases['lost']}",
                ],
                ["tests", ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))],
            ],
            ["", ""],
        )
    )
    return "\n\n".join(parts), ok and lost == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability.report", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--from", dest="source", type=Path, help="report on this results file instead of running"
    )
    parser.add_argument("--save", type=Path, help="keep the results file here")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args(argv)
    if args.source:
        results_file = args.source
    else:
        results_file = args.save or Path(tempfile.mkstemp(prefix="reliability-", suffix=".json")[1])
        run_suite(results_file, args.pytest_args)
        print()
    if not results_file.exists() or not results_file.stat().st_size:
        print(f"no results in {results_file}", file=sys.stderr)
        return 1
    text, ok = render(json.loads(results_file.read_text(encoding="utf-8")))
    print(text)
    if not args.source and not args.save:
        results_file.unlink()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
