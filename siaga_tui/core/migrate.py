"""Schema migrations with Alembic (imported only when the schema is not current).

The migration scripts ship inside the package (``siaga_tui/migrations``), so an
installed console upgrades its own database at start, and ``siaga112 db upgrade`` does
the same on demand. A database whose revision this program does not know was written
by a newer version: it is refused and never altered.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

    from siaga_tui.core.db import Database


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("siaga_tui").joinpath("migrations"))
    )
    return config


def known_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in script.walk_revisions()]


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return heads[0]


def current_revision(db: Database) -> str | None:
    """The schema revision stored in the database; None for an empty database."""
    with db.read() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            if _has_foreign_tables(conn):
                raise StorageError("db_not_siaga", path=db.describe())
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _has_foreign_tables(conn: Connection) -> bool:
    return bool(sa.inspect(conn).get_table_names())


def upgrade(db: Database, target: str = "head") -> str | None:
    """Upgrade to ``target``; returns the revision the database was at before."""
    from alembic import command

    before = current_revision(db)
    if before is not None and before not in known_revisions():
        raise StorageError("db_too_new", revision=before, path=db.describe())
    config = alembic_config()
    with db.schema_write() as conn:
        if conn.dialect.name == "postgresql":
            # Two positions starting at once must not both run the migration.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(112112)")
        config.attributes["connection"] = conn
        command.upgrade(config, target)
    return before


def schema_differences(db: Database) -> list[object]:
    """What differs between the database and the models (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import siaga_tui.core.models  # noqa: F401  (declares the tables on SQLModel.metadata)

    with db.read() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))
