"""Initial schema: operators, reports, calls, referrals, report events, number sequence.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from siaga_tui.core.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

OPEN_ONLY = "status != 'selesai'"


def upgrade() -> None:
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("queue_rank", sa.Integer(), nullable=False),
        sa.Column("caller_phone", sa.String(32)),
        sa.Column("caller_name", sa.String(120)),
        sa.Column("kelurahan_code", sa.String(16), nullable=False),
        sa.Column("kecamatan_code", sa.String(16), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("description", sa.String(8000), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), sa.ForeignKey("report.id")),
        sa.Column("call_answered_at", UTCDateTime()),
        sa.Column("first_forwarded_at", UTCDateTime()),
        sa.Column("first_acknowledged_at", UTCDateTime()),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("import_key", sa.String(64), unique=True),
        sa.UniqueConstraint("year", "seq", name="uq_report_year_seq"),
    )
    op.create_index(
        "ix_report_open_queue",
        "report",
        ["queue_rank", "created_at", "id"],
        sqlite_where=sa.text(OPEN_ONLY),
        postgresql_where=sa.text(OPEN_ONLY),
    )
    op.create_index("ix_report_category_status", "report", ["category", "status"])
    op.create_index(
        "ix_report_created_stats", "report", ["created_at", "kind", "category", "status"]
    )
    op.create_index("ix_report_caller_phone", "report", ["caller_phone", "created_at"])
    op.create_index(
        "ix_report_place_category", "report", ["kelurahan_code", "category", "created_at"]
    )
    op.create_table(
        "call",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("caller_phone", sa.String(32)),
        sa.Column("disposition", sa.String(16), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("note", sa.String(2000)),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id")),
    )
    op.create_index("ix_call_phone", "call", ["caller_phone", "answered_at"])
    op.create_index("ix_call_answered", "call", ["answered_at", "disposition"])
    op.create_index("ix_call_report", "call", ["report_id"])
    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id"), nullable=False),
        sa.Column("agency", sa.String(40), nullable=False),
        sa.Column("forwarded_at", UTCDateTime(), nullable=False),
        sa.Column("forwarded_by", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("agency_ref", sa.String(100)),
        sa.Column("acknowledged_at", UTCDateTime()),
        sa.Column("acknowledged_by", sa.String(120)),
        sa.Column("outcome", sa.String(2000)),
    )
    op.create_index("ix_referral_report", "referral", ["report_id"])
    op.create_index("ix_referral_agency", "referral", ["agency", "acknowledged_at"])
    op.create_table(
        "report_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_report_event_report", "report_event", ["report_id", "id"])
    op.create_table(
        "report_number_sequence",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in ("report_number_sequence", "report_event", "referral", "call", "report"):
        op.drop_table(table)
    op.drop_table("operator")
