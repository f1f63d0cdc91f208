"""The console, or the bare Textual baseline, in a child process the benchmarks watch.

    python -m benchmarks.console_child start siaga DB MARK   # ``siaga112 --db DB tui``
    python -m benchmarks.console_child start sqlmodel DB MARK  # the same, rows from DB
    python -m benchmarks.console_child start bare - MARK     # Header, Footer, DataTable
    python -m benchmarks.console_child keys siaga DB OUT     # keystrokes into the entry form
    python -m benchmarks.console_child keys bare - OUT       # the same keys into an Input

``start`` runs headless (Textual's headless driver, chosen by ``TEXTUAL_DRIVER``) and
writes ``CLOCK_MONOTONIC`` to MARK once the first screen has been painted with rows
in its table: for the console that is the queue's first window. Then it writes the
moment its start-up is over to a mark named ``started`` beside it: the console, once its screen follows
changes and no worker started for it (counts, phone metadata) is still at work. The
same watchers are put on both apps, so what they cost is in both.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

#: What the bare baseline's table shows: as many rows as the queue's first window.
BARE_ROWS = 100
BARE_COLUMNS = ("No.", "Waktu", "Jenis", "Kategori", "Status", "Kelurahan", "Instansi", "Uraian")


def _watch_for_rows(app: Any, mark: Path) -> None:
    """Write the mark after the first refresh that shows a table with rows."""
    from textual.widgets import DataTable

    def check() -> None:
        try:
            tables = app.screen.query(DataTable)
        except Exception:
            return
        if any(table.row_count for table in tables):
            timer.stop()
            app.call_after_refresh(_write_mark, mark)
            watch_for_started(app, mark)

    timer = app.set_interval(0.005, check)


def watch_for_started(app: Any, mark: Path) -> None:
    """Write the ``started`` mark once the screen follows changes (an app that never does
    is started once it painted) and no worker is left: the console's start-up work
    deferred past the first paint is done, so what follows is idle."""
    from textual.worker import WorkerState

    busy = (WorkerState.PENDING, WorkerState.RUNNING)

    def check() -> None:
        following = getattr(app.screen, "following_changes", True)
        if following and not any(worker.state in busy for worker in app.workers):
            timer.stop()
            app.call_after_refresh(_write_mark, started_mark(mark))

    timer = app.set_interval(0.005, check)


def started_mark(mark: Path) -> Path:
    return mark.with_name("started")


def _write_mark(mark: Path) -> None:
    moment = time.clock_gettime(time.CLOCK_MONOTONIC)
    partial = mark.with_suffix(".part")
    partial.write_text(f"{moment}\n", encoding="utf-8")
    partial.replace(mark)


def bare_app() -> Any:
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.binding import BindingType
    from textual.widgets import DataTable, Footer, Header

    class Bare(App[None]):
        BINDINGS: ClassVar[list[BindingType]] = [("f2", "bell", "Baru"), ("f3", "bell", "Antrean")]

        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable(cursor_type="row")
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns(*BARE_COLUMNS)
            table.add_rows(
                [
                    Text(f"112-2026-{n:06d}"),
                    Text("28/11 10:00"),
                    Text("darurat"),
                    Text("kebakaran"),
                    Text("menunggu"),
                    Text("Tikala Ares"),
                    Text("damkar"),
                    Text("Warga melaporkan kebakaran dekat Jl. Sam Ratulangi"),
                ]
                for n in range(BARE_ROWS)
            )

    return Bare()


def sqlmodel_app(db: str) -> Any:
    """B1's baseline: a minimal app on the stack we chose. Header, a DataTable and a
    Footer, its 100 rows read from the same database file through an SQLModel Session
    as the app mounts (``select(Report)…limit(100)``), the way a first version would."""
    from rich.text import Text
    from sqlmodel import Session, create_engine, select
    from textual.app import App, ComposeResult
    from textual.binding import BindingType
    from textual.widgets import DataTable, Footer, Header

    from siaga_tui.core.models import Report

    class Minimal(App[None]):
        BINDINGS: ClassVar[list[BindingType]] = [("f2", "bell", "Baru"), ("f3", "bell", "Antrean")]

        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable(cursor_type="row")
            yield Footer()

        def on_mount(self) -> None:
            engine = create_engine(f"sqlite:///{db}")
            with Session(engine) as session:
                reports = session.exec(select(Report).limit(BARE_ROWS)).all()
            table = self.query_one(DataTable)
            table.add_columns(*BARE_COLUMNS)
            table.add_rows(
                [
                    Text(report.number),
                    Text(f"{report.created_at:%d/%m %H:%M}"),
                    Text(report.kind),
                    Text(report.category),
                    Text(report.status),
                    Text(report.kelurahan_code),
                    Text(""),
                    Text(report.description[:60]),
                ]
                for report in reports
            )

    return Minimal()


def start(kind: str, db: str, mark: Path) -> None:
    async def watch(pilot: Any) -> None:
        _watch_for_rows(pilot.app, mark)

    if kind == "bare":
        bare_app().run(auto_pilot=watch)
        return
    if kind == "sqlmodel":
        sqlmodel_app(db).run(auto_pilot=watch)
        return
    import siaga_tui.app as console
    from siaga_tui.cli import main

    real_make_app = console.make_app

    def make_app(*args: Any, **kwargs: Any) -> Any:
        app = real_make_app(*args, **kwargs)
        real_run = app.run
        app.run = lambda *a, **k: real_run(*a, auto_pilot=watch, **k)  # type: ignore[method-assign]
        return app

    console.make_app = make_app  # type: ignore[assignment]
    # The generated history ends before today: the backlog line is put before its end so
    # that today's work holds about what a center's week holds at 1 M reports (its last
    # week there), at every size: a smaller database gets a longer span, never an empty
    # queue (which never paints a row), never every open report of ten years.
    from benchmarks.span import SPAN_END

    size = Path(db).name.split("-")  # cached files are siaga-<reports>-…
    reports = int(size[1]) if len(size) > 1 and size[1].isdigit() else 1_000_000
    work_days = 7 * max(1, 1_000_000 // max(1, reports))
    backlog_days = int((time.time() - SPAN_END) // 86_400) + 1 + work_days
    main(["--db", db, "tui", "--backlog-days", str(min(backlog_days, 3650))])


# --- Keystrokes -----------------------------------------------------------------------

#: A caller with a history in the generated data, typed as the operator hears it.
PHONE_KEYS = tuple("081200000007")
#: The start of a kelurahan name, typed to its completion.
PLACE_KEYS = tuple("malalayang")


async def _type(pilot: Any, keys: tuple[str, ...]) -> list[float]:
    times = []
    for key in keys:
        started = time.perf_counter()
        await pilot.press(key)
        times.append(time.perf_counter() - started)
    return times


async def keys(kind: str, db_path: str, out: Path) -> None:
    from textual.widgets import Input

    if kind == "bare":
        from textual.app import App, ComposeResult

        class Form(App[None]):
            def compose(self) -> ComposeResult:
                yield Input(id="phone")
                yield Input(id="kelurahan")

        app: Any = Form()
    else:
        from siaga_tui.app import make_app
        from siaga_tui.core.db import open_database

        app = make_app(open_database(db_path), operator="bench", lang="id")
    latencies: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        if kind != "bare":
            await pilot.press("f2")
            for _ in range(200):
                await pilot.pause(0.01)
                if app.screen.query("#phone"):
                    break
            await app.workers.wait_for_complete()
        for field, typed in (("#phone", PHONE_KEYS), ("#kelurahan", PLACE_KEYS)):
            app.screen.query_one(field, Input).focus()
            await pilot.pause()
            latencies += await _type(pilot, typed)
            await app.workers.wait_for_complete()
    out.write_text(json.dumps({"median": statistics.median(latencies), "all": latencies}))


def main() -> None:
    action, kind, db, target = sys.argv[1:5]
    if action == "start":
        start(kind, db, Path(target))
    elif action == "keys":
        import asyncio

        asyncio.run(keys(kind, db, Path(target)))
    else:
        raise SystemExit(f"unknown action {action!r}")
    os._exit(0)


if __name__ == "__main__":
    main()
