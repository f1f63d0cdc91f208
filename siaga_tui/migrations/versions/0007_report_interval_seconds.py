"""Each report keeps its handling intervals in whole seconds, worked out by the database.

Four stored, generated columns (``answer_to_saved_s``, ``saved_to_forwarded_s``,
``forwarded_to_acknowledged_s``, ``forwarded_to_done_s``): the database computes each
from the report's two moments whenever one of them changes, so no writer can leave them
out of step. The statistics, breakdowns and exports read these integers instead of
parsing two time texts per interval and report.

SQLite cannot add a stored generated column to a table: the report table is rebuilt
(Alembic's batch mode: a new table, the rows copied, the old one dropped, the new one
renamed, the indexes made again), with foreign keys off and checked before the commit
(``Database.schema_write``), as SQLite's own procedure for changing a table asks.
PostgreSQL adds the columns in place.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from typing import Literal

import sqlalchemy as sa
from alembic import op

from siaga_tui.core.models import SecondsBetween

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: The columns as this revision adds them (written out here, not read from the models,
#: so that a later change to the models cannot change what this revision did).
COLUMNS = {
    "answer_to_saved_s": ("call_answered_at", "created_at"),
    "saved_to_forwarded_s": ("created_at", "first_forwarded_at"),
    "forwarded_to_acknowledged_s": ("first_forwarded_at", "first_acknowledged_at"),
    "forwarded_to_done_s": ("first_forwarded_at", "closed_at"),
}


def _column(name: str) -> sa.Column[int]:
    start, end = COLUMNS[name]
    computed = sa.Computed(SecondsBetween(sa.column(start), sa.column(end)), persisted=True)
    return sa.Column(name, sa.Integer, computed, nullable=True)


def _rebuilt() -> Literal["always", "auto"]:
    """SQLite rebuilds the table; PostgreSQL alters it in place."""
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    with op.batch_alter_table("report", recreate=_rebuilt()) as batch:
        for name in COLUMNS:
            batch.add_column(_column(name))


def downgrade() -> None:
    with op.batch_alter_table("report", recreate=_rebuilt()) as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
