"""``siaga112 demo``: a database a new user can try at once (the 2019 figures, a live today)."""

from __future__ import annotations

import sys

import typer

from siaga_tui.cli.base import app, settings, t
from siaga_tui.cli.identity import signed_in
from siaga_tui.core.timeutil import Clock, system_clock
from siaga_tui.services.demo import DEFAULT_SEED, build_demo

#: The clock "today" is built around (tests freeze it).
clock: Clock = system_clock


@app.command("demo")
@signed_in
def demo(
    seed: int = typer.Option(
        DEFAULT_SEED, "--seed", help="The same seed gives the same data.", min=0, max=2**31 - 1
    ),
) -> None:
    """Create (or fill the empty --db) the demo database: 2019 as the city reported it,
    plus today's open reports, so the queue and the status board are not empty."""
    db = settings.database()
    where = db.describe()
    summary = build_demo(
        db,
        seed=seed,
        clock=clock,
        writing=lambda: print(t("demo_writing", db=where), file=sys.stderr, flush=True),
    )
    print(
        t(
            "demo_done",
            db=where,
            reports=summary.reports,
            year_reports=summary.year_reports,
            live=summary.live_reports,
            calls=summary.calls,
            events=summary.events,
        )
    )
    print(t("demo_next", db=where))
