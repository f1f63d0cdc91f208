"""Archived reports: history imported from spreadsheets, kept out of live operations.

``report.archived`` marks a report that is history (``siaga112 import --history``, and
by default rows older than the backlog age): it counts in the statistics and the
exports, never in the live queue, the handover, alarms or "oldest waiting". The open
queue's partial index leaves archived reports out, so a year of imported open reports
costs the queue nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_OPEN = "status != 'selesai'"
NEW_OPEN = "status != 'selesai' AND NOT archived"


def _open_queue_index(where: str) -> None:
    op.create_index(
        "ix_report_open_queue",
        "report",
        ["queue_rank", "created_at", "id"],
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.add_column(
        "report",
        sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.drop_index("ix_report_open_queue", table_name="report")
    _open_queue_index(NEW_OPEN)


def downgrade() -> None:
    op.drop_index("ix_report_open_queue", table_name="report")
    _open_queue_index(OLD_OPEN)
    with op.batch_alter_table("report") as batch:
        batch.drop_column("archived")
