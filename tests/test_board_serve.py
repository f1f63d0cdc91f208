"""``siaga112 board --serve`` in a real browser: headless Chromium (Debian's ``chromium``)
driven by Playwright opens the served board, a screenshot is taken, and the figures are
found on the page; no key changes data, no caller shows, a change shows up by itself,
a database that goes away and comes back is said and survived, and a browser that
connects while it is away gets a board that says so (not a page left blank).

xterm.js draws on a canvas, where a page has no text to read; the test turns canvases
off in the page (``getContext`` returns null), so xterm.js falls back to its DOM
renderer: the screenshot shows the same board, and its rows are text the test reads.

Locally the tests skip, saying why, when Chromium, Playwright or textual-serve is
missing; under CI (``CI`` set) they fail instead: ``.ci/run`` installs Chromium.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from siaga_tui.core.db import open_database
from siaga_tui.services.reports import NewReport, ReportService

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_CANVAS = "HTMLCanvasElement.prototype.getContext = function () { return null; };"
CALLER_PHONE = "081299887766"
CALLER_NAME = "Yohanes Pelapor"


def _missing() -> str | None:
    if CHROMIUM is None:
        return "Chromium is not installed (Debian: apt-get install -y chromium)"
    for module in ("playwright", "textual_serve"):
        try:
            __import__(module)
        except ImportError:
            return f"the Python package {module} is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser_ready() -> None:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the served-board tests: {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _file(db_path: Path, category: str = "kebakaran") -> None:
    db = open_database(db_path)
    try:
        ReportService(db, operator="budi").create_report(
            NewReport(
                category=category,
                kelurahan="Sario",
                description="Rumah terbakar",
                phone=CALLER_PHONE,
                caller_name=CALLER_NAME,
            )
        )
    finally:
        db.dispose()


@pytest.fixture
def served(browser_ready: None, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db_path = tmp_path / "siaga112.db"
    for category in ("kebakaran", "kecelakaan", "sampah"):
        _file(db_path, category)
    db = open_database(db_path)
    try:  # a call abandoned by the same caller: the phone panel counts it, never shows who
        from siaga_tui.services.telephony import TelephonyService

        phone = TelephonyService(db, operator="budi")
        phone.ring("served-1", CALLER_PHONE)
        phone.hangup("served-1")
    finally:
        db.dispose()
    port = _free_port()
    env = {**os.environ, "SIAGA112_LANG": "en"}
    command = [sys.executable, "-m", "siaga_tui", "--db", str(db_path), "--lang", "en",
               "board", "--serve", "--port", str(port)]  # fmt: skip
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.stdout else ""
                    pytest.fail(f"the board server did not start: {output}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/", db_path
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=10)


@contextmanager
def _board_page(url: str) -> Iterator[Any]:
    """The served board open in headless Chromium, drawn as text (see the docstring)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.add_init_script(NO_CANVAS)
            page.goto(url)
            yield page
        finally:
            browser.close()


def _screen_text(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.evaluate("document.querySelector('.xterm-rows')?.innerText ?? ''"))


def _wait_for(page, needle: str, timeout_ms: int = 30_000) -> str:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "needle => (document.querySelector('.xterm-rows')?.innerText ?? '').includes(needle)",
        arg=needle,
        timeout=timeout_ms,
    )
    return _screen_text(page)


def test_the_served_board_shows_the_figures_read_only_and_follows_changes(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    url, db_path = served
    with _board_page(url) as page:
        for figure in ("3 reports", "Status board", "Emergency", "Reports today per hour (3)",
                       "Open reports per kecamatan", "Sario", "calls offered: 1",
                       "Phone (the phone's clock)"):  # fmt: skip
            text = _wait_for(page, figure)
        shot = tmp_path / "board.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 10_000 and shot.read_bytes()[:4] == b"\x89PNG"
        # Nothing of the caller, in any form a number is written.
        for secret in (CALLER_NAME, CALLER_PHONE, "0812-9988-7766", "+62 812", "Yohanes"):
            assert secret not in text

        # No key changes data or opens a form: F2 (new report), the palette, n, d, Enter.
        page.click(".xterm-screen")
        for key in ("F2", "F3", "Control+p", "n", "d", "Enter", "F5"):
            page.keyboard.press(key)
        page.keyboard.press("w")  # a period key does work
        text = _wait_for(page, "7 days")
        assert "Status board" in text and "New report" not in text
        db = open_database(db_path)
        try:
            from siaga_tui.services.stats import Period, compute_statistics

            assert compute_statistics(db, Period.all()).total == 3
        finally:
            db.dispose()

        # A report filed elsewhere shows up by itself (the live watch polls every second).
        filed = time.monotonic()
        _file(db_path, "kesehatan")
        _wait_for(page, "4 reports", timeout_ms=15_000)
        print(f"board refreshed {time.monotonic() - filed:.2f} s after the change")

        # The file goes away: the board says so and keeps the last figures up ...
        away = db_path.with_name("moved-away.db")
        _move(db_path, away)
        text = _wait_for(page, "Database not found")
        assert "4 reports" in text
        # ... and when it is back, the notice goes and the board counts again.
        _move(away, db_path)
        page.wait_for_function(
            "!(document.querySelector('.xterm-rows')?.innerText ?? '').includes("
            "'Database not found')",
            timeout=30_000,
        )
        _file(db_path, "kriminalitas")
        _wait_for(page, "5 reports")


def _move(db_path: Path, to: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{db_path}{suffix}")
        if source.exists():
            source.rename(Path(f"{to}{suffix}"))


def test_a_browser_connecting_while_the_database_is_missing_is_told_so(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    """The file is away (a restore under way, say) when a browser connects: the browser's
    board says so instead of a connection that closes without a word, creates nothing,
    and counts once the file is back."""
    url, db_path = served
    away = db_path.with_name("moved-away.db")
    _move(db_path, away)
    with _board_page(url) as page:
        text = " ".join(_wait_for(page, "Database not found").split())  # lines wrap
        assert "starts counting as soon as the file is there" in text
        assert "Status board" in text and "Cannot count yet" in text
        assert "Counting" in text and " 0 reports" not in text
        assert not db_path.exists()  # the board only reads: nothing was created
        shot = tmp_path / "board-missing.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")
        _move(away, db_path)
        text = _wait_for(page, "3 reports")
        assert "Database not found" not in text and "Cannot count yet" not in text


def test_the_board_binds_to_this_machine_unless_told(browser_ready: None) -> None:
    from typer.testing import CliRunner

    import siaga_tui.cli.board  # noqa: F401 - registers the command
    from siaga_tui.cli import app

    help_text = CliRunner().invoke(app, ["board", "--help"]).output
    assert "127.0.0.1" in help_text and "8112" in help_text


@pytest.mark.parametrize("serve", [[], ["--serve"]], ids=["terminal", "serve"])
def test_board_refuses_a_database_that_is_not_there(tmp_path: Path, serve: list[str]) -> None:
    """Started by hand, even to serve: one line, exit 2 (only a browser's board waits)."""
    missing = tmp_path / "nothing.db"
    run = subprocess.run(
        [sys.executable, "-m", "siaga_tui", "--db", str(missing), "--lang", "en", "board",
         *serve],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2 and "No database at" in run.stderr
    assert not missing.exists()
