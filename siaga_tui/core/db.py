"""Database access: where the data is, how a connection is set up, and the schema check.

SQLite (the default, one file per center) is set up so an acknowledged save survives a
crash or power cut and several terminals can write at once:

- WAL journal, ``synchronous=FULL``, foreign keys on, a busy timeout;
- write transactions start with ``BEGIN IMMEDIATE``: they take the write lock up front
  and so queue behind each other for the busy timeout, instead of failing at once with
  "database is locked" when two deferred transactions both try to upgrade their read
  lock (measured: 1,533 of 1,600 such transactions failed with a plain BEGIN).

PostgreSQL is reached with a ``postgresql+psycopg://`` URL and gets the same features.

The schema belongs to the Alembic migrations in ``siaga_tui/migrations``. Opening a
database compares its revision with the one this program knows (one cheap query);
only when they differ is Alembic imported, to upgrade an older database or refuse a
newer one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NamedTuple, NoReturn, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session

from siaga_tui.core import migrate as migrations
from siaga_tui.core.errors import StorageError
from siaga_tui.core.private import cannot_write, make_private_folder, open_private

#: The newest migration this program ships; checked against the scripts by a test.
SCHEMA_HEAD: Final = "0007"

BUSY_TIMEOUT_SECONDS: Final = 15.0
ENV_DB: Final = "SIAGA112_DB"
_READ_ONLY_OPTION: Final = "siaga_read_only"

#: Filesystems on which SQLite's locking cannot be trusted.
NETWORK_FILESYSTEMS: Final = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "glusterfs", "ceph"}
)


def default_database_path() -> Path:
    """The file in the user's data directory used when no database is named."""
    import platformdirs

    return Path(platformdirs.user_data_dir("siaga112", appauthor=False)) / "siaga112.db"


def resolve_database_url(value: str | os.PathLike[str] | None = None) -> str:
    """An SQLAlchemy URL from a ``--db`` value, ``SIAGA112_DB``, or the default file.

    A value with ``://`` is a URL (``postgresql://`` is given the psycopg driver);
    anything else is a path to an SQLite file.
    """
    raw = os.fspath(value) if value is not None else os.environ.get(ENV_DB, "")
    if not raw:
        raw = os.fspath(default_database_path())
    if "://" in raw:
        if raw.startswith(("postgresql://", "postgres://")):
            raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
        return raw
    return f"sqlite:///{Path(raw).expanduser().resolve()}"


@dataclass
class Database:
    """An open database: the engine, transactions for writing and reading, and facts.

    An SQLite file is watched: each write first checks that the file at the path is
    still the one opened (``file_problem``). A file deleted, or replaced by another
    (``mv backup.db center.db``), is never written into again through connections
    to the old one: the write is refused with a message people can read, what the old
    file held is copied aside, and writes go to the new file once it is there. A
    ``-wal`` deleted under open connections is folded into the database file before
    anything else is written, so no acknowledged save is lost.
    """

    url: str
    engine: Engine
    warnings: list[str] = field(default_factory=list)
    read_only: bool = False
    _reader: Engine = field(init=False, repr=False)
    _identity: tuple[int, int] | None = field(default=None, init=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    #: Where the last copy of a deleted or replaced file was put (None: none made).
    rescued: Path | None = field(default=None, init=False)
    _rescued_for: tuple[int, int] | None = field(default=None, init=False, repr=False)
    #: The -wal and -shm of the file that went away, which this process had open.
    _stale: set[tuple[int, int]] = field(default_factory=set, init=False, repr=False)
    #: A connection kept on the file opened (and its -wal): what it held can still be
    #: copied, or folded in, after the file or its -wal is gone from the path.
    _anchor: sqlite3.Connection | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # Same pool, but transactions begin deferred: readers never queue for the lock.
        self._reader = self.engine.execution_options(**{_READ_ONLY_OPTION: True})
        self._identity = self._stat_identity()

    def _stat_identity(self) -> tuple[int, int] | None:
        path = self.path
        if path is None:
            return None
        try:
            info = os.stat(path)
        except OSError:
            return None
        return (info.st_dev, info.st_ino)

    def files(self) -> tuple[Path, ...]:
        """The files a commit writes: the SQLite file and its ``-wal`` and ``-journal``
        (none for a server database)."""
        path = self.path
        if path is None:
            return ()
        return (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-journal"))

    def file_problem(self) -> str | None:
        """What happened to the SQLite file under this program, as a message key:
        ``db_file_missing``, ``db_file_replaced``, ``db_wal_missing``; None when all is
        well (and always for a server database or a read-only file). Two ``stat`` calls."""
        path = self.path
        if path is None or self.read_only or self._identity is None:
            return None
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return "db_file_missing"
        except OSError:
            return None
        if (info.st_dev, info.st_ino) != self._identity:
            return "db_file_replaced"
        if self._anchor is not None and not os.path.exists(f"{path}-wal"):
            return "db_wal_missing"
        return None

    def recover(self) -> str | None:
        """Deal with ``file_problem``; returns the problem it found (None: none).

        Missing or replaced: what the old file held is copied aside (``rescued``), the
        old connections are closed, and a file that is back is opened and checked.
        ``-wal`` missing: the connections' log is folded into the file first.
        """
        with self._guard:
            problem = self.file_problem()
            if problem is None:
                return None
            if problem == "db_wal_missing":
                self._fold_lost_wal()
                return problem
            if self._rescued_for != self._identity:
                self.rescued = self._rescue_copy()
                self._rescued_for = self._identity
                self._stale |= _sidecars_held_open(self.path)
            self.engine.dispose()
            self._close_anchor()
            if problem == "db_file_replaced":
                assert self.path is not None
                # The old file's -wal would be read as the new file's: SQLite keeps it
                # when the file was moved, and its pages would overlay the restore.
                _remove_sidecars(self.path, self._stale)
                self._stale = set()
                _prepare_sqlite_file(self.path)
                self._identity = self._stat_identity()
                ensure_schema(self)
                self.open_anchor()
            return problem

    def open_anchor(self) -> None:
        """Keep one connection on the file as it is now (see ``_anchor``)."""
        path = self.path
        if path is None or self.read_only or self._anchor is not None:
            return
        try:
            anchor = sqlite3.connect(
                f"{path.as_uri()}?mode=rw", uri=True, isolation_level=None,
                timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False,
            )  # fmt: skip
            anchor.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the -wal
        except sqlite3.Error:
            return
        self._anchor = anchor

    def _close_anchor(self) -> None:
        if self._anchor is not None:
            anchor, self._anchor = self._anchor, None
            with contextlib.suppress(sqlite3.Error):
                anchor.close()

    def _fold_lost_wal(self) -> None:
        """Copy what the deleted -wal held into the file, through the anchor, which
        still has it open; then start afresh with a new -wal."""
        if self._anchor is not None:
            with contextlib.suppress(sqlite3.Error):
                self._anchor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        self.engine.dispose()
        self._close_anchor()
        self.open_anchor()

    def _rescue_copy(self) -> Path | None:
        """Copy what the open (now unlinked or replaced) file holds beside the path."""
        path = self.path
        assert path is not None
        from datetime import datetime

        target = path.with_name(f"{path.name}.rescued-{datetime.now():%Y%m%dT%H%M%S}.db")
        if self._anchor is None:
            return None  # nothing still open on the old file
        try:
            fd = open_private(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            os.close(fd)
            copy = sqlite3.connect(target)
            try:
                self._anchor.backup(copy)
            finally:
                copy.close()
        except (OSError, sqlite3.Error):
            return None
        return target

    def _check_file(self) -> None:
        """Before a write: refuse to write into a file that is no longer at the path,
        or that its last check found damaged (``siaga112 db check``)."""
        if self.read_only:
            raise StorageError("db_read_only", path=self.describe())
        if self.path is not None and (found := damage_noted(self.path)) is not None:
            raise StorageError("db_damaged_refused", path=self.describe(), detail=found)
        if self._identity is None or self.file_problem() is None:
            return
        problem = self.recover()
        if problem in ("db_file_missing", "db_file_replaced"):
            raise StorageError(
                problem,
                path=self.describe(),
                rescued=str(self.rescued) if self.rescued else "-",
            )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server database."""
        database = self.engine.url.database
        return Path(database) if self.is_sqlite and database else None

    def describe(self) -> str:
        """Where the data is, for a header line: the file, or the URL without password."""
        if self.path is not None:
            return str(self.path)
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: everything in it commits together or not at all."""
        self._check_file()
        try:
            with translate_storage_errors(), self.engine.begin() as conn:
                yield conn
        except StorageError as error:
            if error.key == "db_corrupt" and self.path is not None:
                mark_damaged(self.path, error.message("en"))
            raise

    @contextmanager
    def schema_write(self) -> Iterator[Connection]:
        """The write transaction the migrations run in.

        On SQLite, foreign keys are off within it, and the references are checked
        before it commits: rebuilding a table that others refer to (a new table, the
        rows copied, the old one dropped) fails with them on, even deferred, since
        dropping the old table counts every row that refers to it as broken. That is
        SQLite's own procedure for changing a table (https://sqlite.org/lang_altertable.html,
        "Making Other Kinds Of Table Schema Changes"). The pragma only takes effect
        outside a transaction, so it is set on the driver's connection before the BEGIN.
        A reference the change would break rolls it all back; one already broken
        before is left for ``siaga112 db check`` to report, as it would be without it.
        """
        if not self.is_sqlite:
            with self.write() as conn:
                yield conn
            return
        self._check_file()
        with translate_storage_errors(), self.engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA foreign_keys = OFF")
            try:
                with conn.begin():
                    broken_before = _broken_references(conn)
                    yield conn
                    broken = _broken_references(conn) - broken_before
                    if broken:
                        raise StorageError("db_foreign_keys_broken", table=min(broken)[0])
            finally:
                driver.execute("PRAGMA foreign_keys = ON")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a consistent snapshot; takes no write lock)."""
        with translate_storage_errors(), self._reader.connect() as conn:
            yield conn
            conn.rollback()

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """``write()`` through the models: ``select(Report)``, ``session.add(Referral(…))``.

        The session joins the write transaction; ``session.connection()`` is that same
        transaction, for SQL over the tables (events, audit) beside the objects. It does
        not flush on its own: a change is flushed once, where it is complete. Its
        ``commit()`` at the end commits nothing by itself: ``write()`` does, or, inside an
        import's savepoint, releases the session's own savepoint.
        """
        with (
            self.write() as conn,
            Session(bind=conn, autoflush=False, expire_on_commit=False) as session,
        ):
            yield session
            session.commit()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """``read()`` through the models. No object outlives it: return views."""
        with self.read() as conn, Session(bind=conn, autoflush=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        self._close_anchor()


class JoinedDatabase(Database):
    """The database as seen from one open transaction: service calls join it.

    A service opens ``db.write()`` (or ``write_session()``) for each change; through this
    object every such "transaction" is the caller's one (under a savepoint, if the
    caller opens one), so the services' own code writes the rows, events and audit
    entries of many changes with one commit: an import's chunk, the demo.
    """

    def __init__(self, db: Database, conn: Connection) -> None:
        super().__init__(url=db.url, engine=db.engine)
        self._conn = conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        yield self._conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        yield self._conn


def open_database(value: str | os.PathLike[str] | None = None, *, migrate: bool = True) -> Database:
    """Open (and on first use create) the database, with its schema up to date.

    Raises StorageError with a clear message when the file cannot be used: a directory
    that does not exist or cannot be written, a file that is not a database, a schema
    from a newer version of this program.
    """
    url = resolve_database_url(value)
    path = sqlite_file(url)
    read_only = False
    if path is not None:
        read_only = _prepare_sqlite_file(path)
    try:
        engine = create_engine(url, read_only=read_only)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise StorageError("db_bad_url", url=url, reason=str(exc)) from exc
    db = Database(url=url, engine=engine, read_only=read_only)
    if path is not None and (warning := filesystem_warning(path)):
        db.warnings.append(warning)
    if migrate:
        if read_only and migrations.current_revision(db) != SCHEMA_HEAD:
            raise StorageError("db_read_only", path=str(path))
        ensure_schema(db)
    db.open_anchor()
    return db


def database_to_wait_for(value: str | os.PathLike[str]) -> Database:
    """The database of an SQLite file that is not there (yet), for a reader that waits
    for it (the served wall board): nothing is created or changed; every read fails
    with a StorageError (``db_unavailable``) until the file is back at its path."""
    url = resolve_database_url(value)
    if sqlite_file(url) is None:
        return open_database(value, migrate=False)
    try:
        engine = create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise StorageError("db_bad_url", url=url, reason=str(exc)) from exc
    return Database(url=url, engine=engine)


def damage_marker(path: Path) -> Path:
    """The file beside a database that says its last check found it damaged."""
    return path.with_name(path.name + ".damaged")


def mark_damaged(path: Path, detail: str) -> None:
    """Note beside the file (for every workstation) that it failed its check: writes are
    refused until a check passes or another file (a restored copy) is put in its place."""
    try:
        info = os.stat(path)
        fd = open_private(damage_marker(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"{info.st_dev}:{info.st_ino}\n{detail[:500]}\n")
    except OSError:
        pass  # the check itself reported it; the marker is a second line of defence


def clear_damaged(path: Path) -> None:
    with contextlib.suppress(OSError):
        damage_marker(path).unlink()


def damage_noted(path: Path) -> str | None:
    """What the last failed check found, if it was about this very file; else None."""
    try:
        lines = damage_marker(path).read_text(encoding="utf-8").splitlines()
        info = os.stat(path)
    except OSError:
        return None
    if not lines or lines[0] != f"{info.st_dev}:{info.st_ino}":
        return None
    return lines[1] if len(lines) > 1 else ""


def _sidecar_paths(path: Path) -> list[str]:
    return [f"{path}-wal", f"{path}-shm"]


def _sidecars_held_open(path: Path | None) -> set[tuple[int, int]]:
    """The -wal and -shm beside ``path`` that this process has open (Linux: /proc)."""
    if path is None:
        return set()
    wanted: set[tuple[int, int]] = set()
    for name in _sidecar_paths(path):
        try:
            info = os.stat(name)
        except OSError:
            continue
        wanted.add((info.st_dev, info.st_ino))
    held: set[tuple[int, int]] = set()
    try:
        descriptors = os.listdir("/proc/self/fd")
    except OSError:
        return wanted  # no /proc: those present when the file went away are its own
    for fd in descriptors:
        try:
            info = os.stat(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in wanted:
            held.add((info.st_dev, info.st_ino))
    return held


def _remove_sidecars(path: Path, stale: set[tuple[int, int]]) -> None:
    for name in _sidecar_paths(path):
        try:
            info = os.stat(name)
            if (info.st_dev, info.st_ino) in stale:
                os.unlink(name)
        except OSError:
            continue


def sqlite_file(url: str) -> Path | None:
    """The file an ``sqlite:///`` URL names (None for a server or in-memory database)."""
    if not url.startswith("sqlite"):
        return None
    database = sa.engine.make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def create_engine(url: str, *, read_only: bool = False) -> Engine:
    """The engine for a URL. An SQLite file's connections never create it (``mode=rw``):
    a file deleted under a running program is not silently made again, empty. A file
    that cannot be written is read without leaving ``-wal``/``-shm`` files behind."""
    path = sqlite_file(url)
    if path is not None:
        uri = f"{path.as_uri()}?{sqlite_open_mode(path, read_only=read_only)}"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(
                uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False
            )

        engine = sa.create_engine(url, creator=connect, hide_parameters=True)
        _configure_sqlite(engine, read_only=read_only)
        return engine
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            hide_parameters=True,
        )
        _configure_sqlite(engine)
        return engine
    # Statements' values are caller numbers and names: never in an error's text.
    return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)


def sqlite_open_mode(path: Path, *, read_only: bool) -> str:
    """The URI parameters to open ``path`` with: read-write, never creating it; for a
    file that cannot be written, read-only, and ``immutable`` when no ``-wal`` exists
    (nothing to read from it, and SQLite would otherwise create a read-only ``-wal``
    and ``-shm`` beside the file that later stop every writer)."""
    if not read_only:
        return "mode=rw"
    if os.path.exists(f"{path}-wal"):
        return "mode=ro"
    return "mode=ro&immutable=1"


def _configure_sqlite(engine: Engine, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's events, not the sqlite3 module, decide when BEGIN is sent.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not read_only:  # a file opened read-only keeps the journal it has
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_READ_ONLY_OPTION):
            _BEGIN_READ.execute(conn)
        else:
            _BEGIN_WRITE.execute(conn)


class _Compiled(NamedTuple):
    sql: str
    names: tuple[str, ...]  # the parameters, in order for a positional paramstyle
    positional: bool
    processors: tuple[Any, ...]  # each parameter's bind processor, or None
    fixed: dict[str, Any]  # values the statement carries itself (``LIMIT 1``)


class DriverStatement:
    """A fixed statement run straight on the driver's cursor: the save path's statements.

    ``conn.execute`` spends 30–100 µs a statement in SQLAlchemy's execution machinery
    (execution context, events, result object) on a small machine: more than SQLite
    needs to insert the row, and saving a report runs seven statements (benchmarks, B3).
    A ``DriverStatement`` is a Core construct compiled by SQLAlchemy once per dialect,
    then run on the connection's own cursor, inside the caller's transaction. Every
    value passes through its column type's bind processor, so what is stored is
    exactly what ``conn.execute`` would store; driver errors are raised as SQLAlchemy's
    (``IntegrityError``, ``OperationalError``, a lost connection invalidated), so
    ``translate_storage_errors`` and the callers see no difference.

    ``keys`` fixes the columns of an ``INSERT``; ``execute`` then needs exactly those.
    Rows come back as the driver gives them, without result processing: select
    integers and text only. SQLAlchemy's statement events and ``echo`` do not see these
    statements (the transaction's BEGIN and COMMIT they do).

    Kept, measured against plain ``conn.execute`` of the same statements: a save took
    14.8 ms with these and 18.5 ms without (1.26×, medians of 300 interleaved saves on
    the shared machine, benchmark B3). It compiles with SQLAlchemy's compiler
    (``SQLCompiler.binds``, ``positiontup``): ``pyproject.toml`` bounds ``sqlalchemy``
    to the minor releases CI tests.
    """

    def __init__(self, statement: sa.ClauseElement, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()

    def execute(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """Run the statement; returns the driver's cursor (``lastrowid``, ``fetchone``)."""
        dialect = conn.dialect
        compiled = self._compiled.get(dialect) or self._compile(dialect)
        given = {**compiled.fixed, **(values or {})} if compiled.fixed else values or {}
        params: Any = [
            given[name] if process is None else process(given[name])
            for name, process in zip(compiled.names, compiled.processors, strict=True)
        ]
        if not compiled.positional:
            params = dict(zip(compiled.names, params, strict=True))
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(compiled.sql, params)
        except dialect.loaded_dbapi.Error as exc:
            _raise_driver_error(conn, exc, compiled.sql, params, cursor)
        return cursor

    def first(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """The first row the statement returns (a tuple), or None."""
        return self.execute(conn, values).fetchone()

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect, column_keys=self.keys))
        names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
        binds = [compiled.binds[name] for name in names]
        fixed = {
            name: bind.effective_value
            for name, bind in zip(names, binds, strict=False)
            if not bind.required
        }
        processors = tuple(
            bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds
        )
        prepared = _Compiled(compiled.string, names, compiled.positional, processors, fixed)
        self._compiled[dialect] = prepared
        return prepared


class DriverInsert:
    """``INSERT`` of fixed columns of a table with an integer ``id``, run on the driver's
    cursor (see ``DriverStatement``); ``execute`` returns the new row's id."""

    def __init__(self, table: sa.Table, keys: Sequence[str]) -> None:
        self._plain = DriverStatement(sa.insert(table), keys)
        self._returning = DriverStatement(sa.insert(table).returning(table.c.id), keys)

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> int:
        if conn.dialect.name == "sqlite":  # the cursor knows, no RETURNING
            return int(self._plain.execute(conn, values).lastrowid)
        return int(self._returning.first(conn, values)[0])


def _raise_driver_error(
    conn: Connection, exc: Exception, statement: str, params: Any, cursor: Any
) -> NoReturn:
    """Raise a driver's error as SQLAlchemy does for ``conn.execute``."""
    dialect = conn.dialect
    dbapi_connection = conn.connection.dbapi_connection
    lost = dialect.is_disconnect(exc, dbapi_connection, cursor)  # type: ignore[arg-type]
    if lost:
        conn.invalidate(exc)
    raise sa.exc.DBAPIError.instance(
        statement,
        params,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=lost,
        dialect=dialect,
    ) from exc


_BEGIN_READ: Final = DriverStatement(sa.text("BEGIN"))
_BEGIN_WRITE: Final = DriverStatement(sa.text("BEGIN IMMEDIATE"))


def _prepare_sqlite_file(path: Path) -> bool:
    """Refuse what cannot be used, create the file on the very first start; returns
    whether the file can only be read."""
    try:
        return _prepare(path)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise StorageError("db_path_too_long", path=safe_path(path)) from None
        raise StorageError("db_unavailable", reason=exc.strerror or str(exc)) from None


def _prepare(path: Path) -> bool:
    folder = path.parent
    if not folder.exists():
        if path == default_database_path():
            try:
                make_private_folder(folder)
            except OSError as exc:
                raise StorageError(
                    "db_default_folder_unusable", path=str(folder), reason=exc.strerror or str(exc)
                ) from None
        else:
            raise StorageError("db_folder_missing", path=str(folder))
    if path.exists():
        if path.is_dir():
            raise StorageError("db_not_a_database", path=str(path))
        if not path.is_file():
            raise StorageError("db_not_a_database", path=str(path))
        read_only = cannot_write(path)
        if path.stat().st_size and not _looks_like_sqlite(path):
            raise StorageError("db_not_a_database", path=str(path))
        if path.stat().st_size:
            _refuse_foreign_database(path, read_only=read_only)
        return read_only
    if not os.access(folder, os.W_OK):
        raise StorageError("db_folder_not_writable", path=str(folder))
    if known_database(path) or os.path.exists(f"{path}-wal"):
        raise StorageError("db_missing", path=str(path), known=str(_known_list()))
    fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    os.close(fd)
    remember_database(path)
    return False


def forget_database(path: Path) -> None:
    """Take ``path`` off the list of databases made here: the next open may create it
    afresh (``siaga112 db new``, a benchmark building a file on purpose)."""
    target = _known_list()
    try:
        lines = target.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return
    kept = [line for line in lines if line != str(path)]
    if kept != lines:
        with contextlib.suppress(OSError):
            fd = open_private(target, os.O_WRONLY | os.O_TRUNC)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("".join(f"{line}\n" for line in kept))


def safe_path(path: Path) -> str:
    """A path for a message: shortened when it is too long to be useful."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}…{text[-40:]}"


def _known_list() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir("siaga112", appauthor=False)) / "databases"


def known_database(path: Path) -> bool:
    """Whether this user's program has created (or opened) this file before."""
    try:
        return str(path) in _known_list().read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False


def remember_database(path: Path) -> None:
    """Note a database this program created, so a later start finding it gone refuses
    to make a fresh one (which would hand out 112-YYYY-000001 again)."""
    target = _known_list()
    try:
        make_private_folder(target.parent)
        fd = open_private(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, (str(path) + "\n").encode("utf-8", "surrogateescape"))
        finally:
            os.close(fd)
    except OSError:
        pass  # a safety net only; the file itself was made


def _refuse_foreign_database(path: Path, *, read_only: bool = False) -> None:
    """Look inside an existing file through a read-only connection before using it.

    The engine's connections switch the file to WAL, which rewrites its header: a file
    with an SQLite header but damaged inside, or another program's database, must be
    refused before that, so it is left exactly as it was.
    """
    try:
        probe = sqlite3.connect(
            f"{path.as_uri()}?{sqlite_open_mode(path, read_only=True) if read_only else 'mode=ro'}",
            uri=True,
            timeout=BUSY_TIMEOUT_SECONDS,
        )
        try:
            tables = {
                row[0]
                for row in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise StorageError("db_not_a_database", path=str(path)) from exc
        return  # locked, or cannot be read right now: the engine reports it
    if tables and "alembic_version" not in tables:
        raise StorageError("db_not_siaga", path=str(path))


def _looks_like_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def filesystem_warning(path: Path) -> str | None:
    """A warning when the file lies on a network filesystem, where SQLite locking fails."""
    fstype = _filesystem_type(path.parent)
    if fstype in NETWORK_FILESYSTEMS:
        from siaga_tui.core.i18n import translate

        return translate("db_network_filesystem", path=str(path), fstype=fstype)
    return None


def _filesystem_type(folder: Path) -> str | None:
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    target = str(folder.resolve())
    best: tuple[int, str] | None = None
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point = parts[1].replace("\\040", " ")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and (best is None or len(mount_point) > best[0]):
            best = (len(mount_point), parts[2])
    return best[1] if best else None


# --- Schema -------------------------------------------------------------------------


def _broken_references(conn: Connection) -> set[tuple[str, int]]:
    """(table, rowid) of every row whose foreign key finds no row (SQLite)."""
    return {(str(t), int(r)) for t, r, *_ in conn.exec_driver_sql("PRAGMA foreign_key_check")}


def ensure_schema(db: Database) -> None:
    """Bring the schema to this program's revision; refuse a newer one untouched."""
    if migrations.current_revision(db) == SCHEMA_HEAD:
        return
    migrations.upgrade(db)


@contextmanager
def translate_storage_errors() -> Iterator[None]:
    """Turn driver errors about the storage itself into a StorageError people can read."""
    try:
        yield
    except OperationalError as exc:
        raise _storage_error(exc) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StorageError("db_connection_lost", reason=_first_line(exc.orig)) from exc
        if isinstance(exc, sa.exc.DatabaseError) and _damage_text(exc.orig):
            raise _storage_error(exc) from exc  # a damaged file is a DatabaseError too
        raise


def _damage_text(error: object) -> bool:
    text = str(error).lower()
    return "malformed" in text or "file is not a database" in text


def _storage_error(exc: DBAPIError) -> StorageError:
    text = str(exc.orig).lower()
    known = {
        "database is locked": "db_locked",
        "database table is locked": "db_locked",
        "readonly database": "db_read_only_now",
        "unable to open database": "db_unavailable",
        "file is not a database": "db_not_a_database_now",
        "database disk image is malformed": "db_corrupt",
        "database or disk is full": "db_full",
        "disk i/o error": "db_io_error",
    }
    for needle, key in known.items():
        if needle in text:
            return StorageError(key, reason=_first_line(exc.orig))
    return StorageError("db_error", reason=_first_line(exc.orig))


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
