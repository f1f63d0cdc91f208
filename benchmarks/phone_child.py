"""The console with a softphone, in a child process the phone benchmarks watch.

    python -m benchmarks.phone_child DB BARESIP_URL NUMBER OUT

Runs ``siaga112 --db DB tui --phone BARESIP_URL`` headless. Writes ``OUT.linked`` once
the softphone's link is up, then, when a call rings, ``OUT`` with ``CLOCK_MONOTONIC``
moments: ``event`` when baresip's ``CALL_INCOMING`` reached the console's socket (the
softphone client's event, before anything else is done with it), ``told`` when the
phone desk was told the call rings (straight from the event), ``ui`` when the UI
thread took it, ``screen`` when the ringing bar painted with ``NUMBER`` on it, and
``written`` when the call's row was committed (its write follows the event on a thread
of its own, so it may come after ``screen``). ``OUT`` is written once both ``screen``
and ``written`` are known. Beside ``OUT``, ``started`` marks the end of the console's
start-up, as for B6.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.console_child import watch_for_started


def _now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _watch(app: Any, number: str, out: Path) -> None:
    """Mark the link, then the ring's moments; no polling once the link is up (B13)."""
    moments: dict[str, float] = {}
    linked = out.with_suffix(".linked")
    desk = app.phone_desk

    def stage(name: str, original: Any) -> Any:
        def wrapped(*args: Any) -> Any:
            moments.setdefault(name, _now())
            return original(*args)

        return wrapped

    desk.call_ringing = stage("told", desk.call_ringing)
    desk._ring_here = stage("ui", desk._ring_here)
    recorded = stage("written", desk.call_recorded)

    def written(*args: Any) -> Any:
        try:
            return recorded(*args)
        finally:
            flush()

    desk.call_recorded = written

    def arrived(original: Any) -> Any:
        def wrapped(event: Any) -> None:
            if event.type == "CALL_INCOMING":
                moments.setdefault("event", _now())
            original(event)

        return wrapped

    def changed(state: Any) -> None:
        shown = any(number in ring.call.number_shown for ring in state.ringing)
        if shown and "screen" not in moments:
            app.call_after_refresh(painted)

    def until_linked() -> None:
        softphone = desk._softphone
        if softphone is None or not desk.state.link:
            return
        timer.stop()
        softphone.client.on_event = arrived(softphone.client.on_event)
        desk.changed.subscribe(app, changed)
        linked.write_text("up\n")
        watch_for_started(app, out)  # B6's mark of the start-up's end, for B13

    def painted() -> None:
        if "screen" in moments:
            return
        moments["screen"] = _now()
        flush()

    def flush() -> None:
        if "screen" not in moments or "written" not in moments or out.exists():
            return
        partial = out.with_suffix(".part")
        partial.write_text(json.dumps(moments))
        partial.replace(out)

    timer = app.set_interval(0.05, until_linked)


def main(db: str, url: str, number: str, out: Path) -> None:
    import siaga_tui.app as console
    from siaga_tui.cli import main as cli

    async def watch(pilot: Any) -> None:
        _watch(pilot.app, number, out)

    real_make_app = console.make_app

    def make_app(*args: Any, **kwargs: Any) -> Any:
        app = real_make_app(*args, **kwargs)
        real_run = app.run
        app.run = lambda *a, **k: real_run(*a, auto_pilot=watch, **k)  # type: ignore[method-assign]
        return app

    console.make_app = make_app
    cli(["--db", db, "tui", "--phone", url])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]))
