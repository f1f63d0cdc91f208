"""Audit log with a hash chain, shift handovers, and append-only history.

``audit_entry`` and ``report_event`` are append-only: the database itself refuses
UPDATE and DELETE on them (and TRUNCATE on PostgreSQL), so not even a mistaken query
through another tool can rewrite history. Dropping the triggers takes deliberate DDL,
and ``siaga112 audit verify`` then still finds the broken chain.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from siaga_tui.core.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_entry", "report_event")


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])
    op.create_index("ix_audit_entry_operator", "audit_entry", ["operator", "id"])
    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("outgoing", sa.String(64), nullable=False),
        sa.Column("shift_start", UTCDateTime(), nullable=False),
        sa.Column("shift_end", UTCDateTime(), nullable=False),
        sa.Column("notes", sa.String(8000), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("audit_head", sa.String(64), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime()),
        sa.Column("incoming", sa.String(64)),
    )
    op.create_index("ix_handover_created", "handover", ["created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION siaga_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION siaga_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION siaga_append_only()"
            )
    else:
        for table in APPEND_ONLY:
            for statement in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{statement.lower()} BEFORE {statement} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {statement} refused'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS siaga_append_only()")
    else:
        for table in APPEND_ONLY:
            for statement in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{statement}")
    op.drop_table("handover")
    op.drop_table("audit_entry")
