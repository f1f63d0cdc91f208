"""Shared fixtures: a fresh database per test, a controllable clock, hermetic settings.

Every test runs with the time zone, language and user folders pinned, so nothing from
the developer's machine (their data folder, SIAGA112_* variables) leaks in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from siaga_tui.core.db import Database, open_database
from siaga_tui.core.i18n import set_language

#: The moment frozen tests live in: 28 Nov 2026, 10:00 WITA.
FROZEN_NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


class MutableClock:
    """A clock tests can move forward (or backward, to test clock steps)."""

    def __init__(self, start: datetime = FROZEN_NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture(scope="session", autouse=True)
def session_audit_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One audit key for the session, outside the user's config folder (module-scoped
    fixtures write signed entries before ``hermetic_environment`` runs)."""
    path = tmp_path_factory.mktemp("audit-key") / "audit.key"
    before = os.environ.get("SIAGA112_AUDIT_KEY")
    os.environ["SIAGA112_AUDIT_KEY"] = str(path)
    yield path
    if before is None:
        os.environ.pop("SIAGA112_AUDIT_KEY", None)
    else:
        os.environ["SIAGA112_AUDIT_KEY"] = before


@pytest.fixture(autouse=True)
def hermetic_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("SIAGA112_") and name not in (
            "SIAGA112_TEST_PG_URL",
            "SIAGA112_AUDIT_KEY",
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    (home / "run").mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(home / "run"))  # sign-in session files
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("LANG", "C.UTF-8")
    set_language("id")
    yield
    set_language(None)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "siaga112.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_database(db_path)
    yield database
    database.dispose()


# --- Both engines ---------------------------------------------------------------------
#
# PostgreSQL comes from SIAGA112_TEST_PG_URL (set by .ci/run, which starts a throwaway
# server with .ci/start-postgres). Outside CI, with no URL, the tests start their own
# throwaway server the same way; only when that cannot work (no server programs on
# this machine) are the PostgreSQL cases skipped, with the reason shown. In CI (``CI``
# set) a missing server fails the run instead.

ENGINES = ("sqlite", "postgresql")
_REPO = Path(__file__).resolve().parents[1]


def _no_postgres(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database, for the whole session."""
    import subprocess

    url = os.environ.get("SIAGA112_TEST_PG_URL")
    if url:
        yield url
        return
    script = _REPO / ".ci" / "start-postgres"
    folder = tmp_path_factory.mktemp("pg")
    command = f'source "{script}" "{folder}/pg" && printf "%s\\n%s\\n" "$SIAGA112_TEST_PG_URL" "$SIAGA112_CI_PG_STOP"'
    try:
        done = subprocess.run(
            ["bash", "-c", command],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "SIAGA112_PG_NO_INSTALL": "1"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _no_postgres(str(exc))
    lines = done.stdout.splitlines()
    if done.returncode != 0 or len(lines) < 2:
        _no_postgres((done.stderr.strip().splitlines() or ["the server did not start"])[-1])
    url, stop = lines[0], lines[1]
    try:
        yield url
    finally:
        subprocess.run(["bash", "-c", stop], capture_output=True, timeout=120)


def _admin_engine(server_url: str):  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    return sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@pytest.fixture(scope="session")
def _pg_template(pg_server_url: str) -> Iterator[str]:
    """A migrated database each test's database is copied from (faster than migrating)."""
    import uuid

    import sqlalchemy as sa

    name = f"siaga_template_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(pg_server_url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    open_database(url).dispose()
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _pg_database(server_url: str, template: str | None) -> Iterator[str]:
    import uuid

    import sqlalchemy as sa

    name = f"test_{uuid.uuid4().hex}"
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"{suffix}')
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    yield from _pg_database(pg_server_url, None)


@pytest.fixture
def migrated_pg_url(pg_server_url: str, _pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database with the current schema, for one test."""
    yield from _pg_database(pg_server_url, _pg_template)


@pytest.fixture(params=ENGINES)
def any_db_url(request: pytest.FixtureRequest, db_path: Path) -> str:
    """The URL of a fresh database with the current schema, on each engine in turn."""
    if request.param == "sqlite":
        open_database(db_path).dispose()
        return str(db_path)
    return str(request.getfixturevalue("migrated_pg_url"))


@pytest.fixture
def any_db(any_db_url: str) -> Iterator[Database]:
    """An open database with the current schema, on each engine in turn."""
    database = open_database(any_db_url)
    yield database
    database.dispose()
