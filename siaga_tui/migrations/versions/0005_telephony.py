"""Calls as the phone system sees them, and the call-back list.

``phone_call`` holds each call's telephony moments, keyed by the phone system's own
call id (``system_call_id``, unique: every hook and softphone event about one call
lands on one row, whatever their order or repetition). A call that ends unanswered is
``abandoned``; one cut off after the answer is ``dropped``. Once the operator files
the call, ``logged_call_id`` links it to the ``call`` row holding its disposition, so
the existing dispositions stay as they were.

``callback`` records each call-back made to an abandoned or silent call: by the
softphone or by hand, its outcome, and the report it led to.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from siaga_tui.core.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "phone_call",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("system_call_id", sa.String(200), nullable=False, unique=True),
        sa.Column("line", sa.String(64)),
        sa.Column("caller_id", sa.String(200)),
        sa.Column("caller_phone", sa.String(32)),
        sa.Column("offered_at", UTCDateTime()),
        sa.Column("answered_at", UTCDateTime()),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("position", sa.String(64)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("logged_call_id", sa.Integer(), sa.ForeignKey("call.id")),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_phone_call_outcome", "phone_call", ["outcome", "offered_at"])
    op.create_index("ix_phone_call_offered", "phone_call", ["offered_at"])
    op.create_index("ix_phone_call_phone", "phone_call", ["caller_phone", "offered_at"])
    op.create_index("ix_phone_call_logged", "phone_call", ["logged_call_id"])
    op.create_table(
        "callback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("phone_call_id", sa.Integer(), sa.ForeignKey("phone_call.id")),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("call.id")),
        sa.Column("phone", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("system_call_id", sa.String(200)),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id")),
        sa.Column("note", sa.String(2000)),
    )
    op.create_index("ix_callback_phone_call", "callback", ["phone_call_id"])
    op.create_index("ix_callback_call", "callback", ["call_id"])
    op.create_index("ix_callback_at", "callback", ["at"])


def downgrade() -> None:
    op.drop_table("callback")
    op.drop_table("phone_call")
