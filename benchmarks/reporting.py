"""B4 (export to CSV): the whole command, as a supervisor runs it, against the
``sqlite3`` command-line shell doing the plain work on the same file. B5 (statistics):
the statistics service against the plain GROUP BY queries in the same process, at every
size, and the whole command against the shell for the record. B10 (breakdowns)."""

from __future__ import annotations

import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from benchmarks.data import cached_database
from benchmarks.measure import (
    Figure,
    Plan,
    child_env,
    enough_runs,
    interleaved,
    median,
    python,
    ratio_figure,
    require_ok,
    run_child,
    timed,
)


class MissingTool(RuntimeError):
    pass


@cache
def sqlite3_shell() -> str:
    """The ``sqlite3`` shell the baselines run; a clear message when it is not installed."""
    found = shutil.which("sqlite3")
    if found is None:
        raise MissingTool(
            "the sqlite3 command-line shell is not installed (Debian: apt-get install -y sqlite3); "
            "B4 and B5 compare with it"
        )
    return found


def siaga112(db: Path, *args: str) -> list[str]:
    return python("-m", "siaga_tui", "--db", str(db), *args)


# --- B5 -------------------------------------------------------------------------------

#: What the statistics count, as plain GROUP BY queries.
GROUP_BY_COUNTS = (
    "SELECT kind, category, status, count(*) FROM report GROUP BY kind, category, status;"
    "SELECT disposition, count(*) FROM call GROUP BY disposition;"
    "SELECT agency, count(*) FROM referral GROUP BY agency;"
)


@cache
def _all_years_option() -> tuple[str, ...]:
    """How ``siaga112 stats`` is asked for every year."""
    help_text = run_child(python("-m", "siaga_tui", "stats", "--help"), env=child_env()).stdout
    if "--all" in help_text:
        return ("--all",)
    return ("--from", "2000-01-01")


def b5_stats(plan: Plan) -> list[Figure]:
    """At every size of the run: ``compute_statistics`` for all years against the plain
    GROUP BY counts, both in this process on the same database (the counts are what a
    hand-written report would run; the service adds the intervals, agencies, the
    oldest waiting and the rest). Then, for the record, the whole ``siaga112 stats``
    command against the ``sqlite3`` shell running the counts."""
    from siaga_tui.core.db import open_database
    from siaga_tui.services.stats import Period, compute_statistics

    figures: list[Figure] = []
    for size in plan.sizes:
        db = open_database(cached_database(size).path)
        try:

            def ours() -> float:
                return timed(lambda: compute_statistics(db, Period.all()))  # noqa: B023

            def theirs() -> float:
                def counts() -> None:
                    with db.read() as conn:  # noqa: B023
                        for query in GROUP_BY_COUNTS.split(";"):
                            if query.strip():
                                conn.exec_driver_sql(query).all()

                return timed(counts)

            one_run = ours()  # warm the file into the page cache for both
            runs = enough_runs(max(3, plan.runs), one_run + theirs())
            value, baseline = interleaved(ours, theirs, runs)
        finally:
            db.dispose()
        figures.append(
            ratio_figure(
                "B5" if size == plan.large else f"B5 {_size_label(size)}",
                f"statistics for all years at {size:,} (service, in process)",
                value,
                baseline,
                "s",
                3,
                note="compute_statistics(Period.all()), CPU time of the thread; baseline: the "
                "plain GROUP BY counts of reports, calls and referrals on the same connection",
            )
        )
    if shutil.which("sqlite3") is not None:  # the record needs the shell; B5 does not
        figures.append(_b5_command(plan))
    return figures


def _size_label(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1_000}k"


def _b5_command(plan: Plan) -> Figure:
    db = cached_database(plan.large).path
    shell = sqlite3_shell()
    env = child_env(SIAGA112_LANG="en")
    command = siaga112(db, "stats", *_all_years_option())
    baseline_command = [shell, "-readonly", str(db), GROUP_BY_COUNTS]

    def ours() -> float:
        return require_ok(run_child(command, env=env), "siaga112 stats").seconds

    def theirs() -> float:
        return require_ok(run_child(baseline_command), "sqlite3 GROUP BY").seconds

    ours()  # warm the file into the page cache for both
    value, baseline = interleaved(ours, theirs, plan.runs)
    return Figure(
        "B5 cmd",
        f"`siaga112 stats` for all years at {plan.large:,}, the whole command",
        value,
        baseline,
        "s",
        "for the record",
        True,
        note="process start included (Python alone ≈ 0.3 s); baseline: the `sqlite3` shell "
        "running the GROUP BY counts",
    )


# --- B4 -------------------------------------------------------------------------------


def export_sql(db_path: Path) -> str:
    """The export's own SELECT (``services.export.export_query``) as plain SQL text, for
    the ``sqlite3`` shell: the same rows, cell for cell, without Python."""
    from sqlalchemy.dialects import sqlite

    from siaga_tui.core.db import open_database
    from siaga_tui.services.export import ExportFilter, export_query
    from siaga_tui.services.stats import Period

    db = open_database(db_path)
    try:
        with db.read() as conn:
            query = export_query(conn, ExportFilter(Period.all()))
            literal = {"literal_binds": True}
            return str(query.compile(dialect=sqlite.dialect(), compile_kwargs=literal))
    finally:
        db.dispose()


def b4_export(plan: Plan) -> list[Figure]:
    shell = sqlite3_shell()
    env = child_env(SIAGA112_LANG="en")
    large = cached_database(plan.large).path
    middle = cached_database(plan.middle).path
    sql = export_sql(large) + ";"
    with tempfile.TemporaryDirectory(prefix="siaga-b4-") as folder:
        target = Path(folder) / "reports.csv"

        def export(db: Path) -> tuple[float, int]:
            run = require_ok(
                # --force: every run writes the same file again.
                run_child(siaga112(db, "export", "--force", str(target)), env=env),
                "siaga112 export",
            )
            return run.seconds, run.max_rss_kib

        peaks: list[int] = []

        def ours() -> float:
            seconds, peak = export(large)
            peaks.append(peak)
            return seconds

        def theirs() -> float:
            run = run_child([shell, "-readonly", "-csv", "-header", str(large), sql])
            return require_ok(run, "sqlite3 -csv").seconds

        theirs()  # warm the file into the page cache for both
        # An export of a million rows takes a minute: three runs of each are enough.
        value, baseline = interleaved(ours, theirs, min(plan.runs, 3))
        rss_large = median(peaks)
        rss_middle = median([export(middle)[1] for _ in range(min(plan.runs, 3))])
    return [
        ratio_figure(
            "B4",
            f"`siaga112 export` of {plan.large:,} reports to CSV",
            value,
            baseline,
            "s",
            2.5,
            note="whole command; baseline: `sqlite3 -csv` running the export's own SELECT",
        ),
        ratio_figure(
            "B4 mem",
            f"export: peak memory at {plan.large:,} (vs {plan.middle:,})",
            rss_large / 1024,
            rss_middle / 1024,
            "MiB",
            1.2,
            note="peak resident memory (VmHWM)",
        ),
    ]


# --- B10 ------------------------------------------------------------------------------


def _busiest_year(db_path: Path) -> int:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT year, count(*) FROM report GROUP BY year ORDER BY 2 DESC, 1 LIMIT 1"
        ).fetchone()
    return int(row[0])


def b10_breakdown(plan: Plan) -> list[Figure]:
    """A year's breakdown by month (every figure of ``stats --by month``), in this process,
    against the plain ``GROUP BY`` of the same year on the same database: counts by
    month, kind, category and status with the sum and count of each of the four
    intervals (what SQL gives without medians). For the record, also against the
    index-only count by month, kind, category and status."""
    import sqlalchemy as sa

    from siaga_tui.core.db import open_database
    from siaga_tui.core.models import INTERVALS, REPORT, interval_column_name
    from siaga_tui.services.breakdowns import compute_breakdown
    from siaga_tui.services.stats import Period

    path = cached_database(plan.large).path
    year = _busiest_year(path)
    period = Period.year(year)
    db = open_database(path)
    try:
        month = sa.func.strftime("%Y-%m", REPORT.c.created_at, "+480 minutes")
        group = (month, REPORT.c.kind, REPORT.c.category, REPORT.c.status)
        # The report's stored interval columns, as a hand-written query would sum them.
        seconds = [REPORT.c[interval_column_name(name)] for name in INTERVALS]
        plain = (
            sa.select(
                *group,
                sa.func.count(),
                *(sa.func.sum(s) for s in seconds),
                *(sa.func.count(s) for s in seconds),
            )
            .where(*period.condition(REPORT.c.created_at))
            .group_by(*group)
        )
        counts_only = (
            sa.select(*group, sa.func.count())
            .where(*period.condition(REPORT.c.created_at))
            .group_by(*group)
        )
        expected = 0

        def ours() -> float:
            found: list[Any] = []
            elapsed = timed(
                lambda: found.append(compute_breakdown(db, period, ["month"], trend=True))
            )
            assert sum(g.total for g in found[0].groups) == expected
            return elapsed

        def run(query: sa.Select) -> float:  # type: ignore[type-arg]
            nonlocal expected
            rows: list[Any] = []

            def read() -> None:
                with db.read() as conn:
                    rows.extend(conn.execute(query).all())

            elapsed = timed(read)
            expected = sum(int(r[4]) for r in rows)  # no duplicates in generated data
            return elapsed

        run(plain)
        ours()  # warm: the file in the page cache, statements compiled
        value, baseline = interleaved(ours, lambda: run(plain), max(3, plan.runs))
        _, index_only = interleaved(ours, lambda: run(counts_only), max(3, plan.runs // 2))
    finally:
        db.dispose()
    return [
        ratio_figure(
            "B10",
            f"a year's breakdown by month ({year}) at {plan.large:,}",
            value * 1e3,
            baseline * 1e3,
            "ms",
            3,
            note="compute_breakdown(by month), CPU time of the thread: counts, targets, exact medians and p90 of four "
            "intervals, calls, the year before; baseline: plain GROUP BY month, kind, "
            "category, status with the intervals' sums, same year",
        ),
        Figure(
            "B10+",
            f"the same breakdown against the index-only count at {plan.large:,}",
            value * 1e3,
            index_only * 1e3,
            "ms",
            "for the record",
            True,
            note="baseline: GROUP BY month, kind, category, status from ix_report_created_stats "
            "alone (no table row read)",
        ),
    ]
