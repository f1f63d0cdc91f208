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

import os
import sqlite3
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

#: The newest migration this program ships; checked against the scripts by a test.
SCHEMA_HEAD: Final = "0006"

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
    """An open database: the engine, transactions for writing and reading, and facts."""

    url: str
    engine: Engine
    warnings: list[str] = field(default_factory=list)
    _reader: Engine = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Same pool, but transactions begin deferred: readers never queue for the lock.
        self._reader = self.engine.execution_options(**{_READ_ONLY_OPTION: True})

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
        with translate_storage_errors(), self.engine.begin() as conn:
            yield conn

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


def open_database(value: str | os.PathLike[str] | None = None, *, migrate: bool = True) -> Database:
    """Open (and on first use create) the database, with its schema up to date.

    Raises StorageError with a clear message when the file cannot be used: a directory
    that does not exist or cannot be written, a file that is not a database, a schema
    from a newer version of this program.
    """
    url = resolve_database_url(value)
    try:
        engine = create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise StorageError("db_bad_url", url=url, reason=str(exc)) from exc
    db = Database(url=url, engine=engine)
    if db.is_sqlite and db.path is not None:
        _prepare_sqlite_file(db.path)
        if warning := filesystem_warning(db.path):
            db.warnings.append(warning)
    if migrate:
        ensure_schema(db)
    return db


def create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's events, not the sqlite3 module, decide when BEGIN is sent.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
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
        connection_invalidated=lost,
        dialect=dialect,
    ) from exc


_BEGIN_READ: Final = DriverStatement(sa.text("BEGIN"))
_BEGIN_WRITE: Final = DriverStatement(sa.text("BEGIN IMMEDIATE"))


def _prepare_sqlite_file(path: Path) -> None:
    """Create the data directory for a new file; refuse what cannot be used."""
    folder = path.parent
    if not folder.exists():
        if path == default_database_path():
            folder.mkdir(parents=True, exist_ok=True)
        else:
            raise StorageError("db_folder_missing", path=str(folder))
    if path.exists():
        if path.is_dir():
            raise StorageError("db_not_a_database", path=str(path))
        if path.stat().st_size and not _looks_like_sqlite(path):
            raise StorageError("db_not_a_database", path=str(path))
        if not os.access(path, os.W_OK):
            raise StorageError("db_read_only", path=str(path))
        if path.stat().st_size:
            _refuse_foreign_database(path)
    elif not os.access(folder, os.W_OK):
        raise StorageError("db_folder_not_writable", path=str(folder))


def _refuse_foreign_database(path: Path) -> None:
    """Look inside an existing file through a read-only connection before using it.

    The engine's connections switch the file to WAL, which rewrites its header: a file
    with an SQLite header but damaged inside, or another program's database, must be
    refused before that, so it is left exactly as it was.
    """
    try:
        probe = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
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
        raise


def _storage_error(exc: OperationalError) -> StorageError:
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
