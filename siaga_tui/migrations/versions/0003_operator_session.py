"""Sign-in sessions of the command line (``siaga112 login``).

One row per session: the SHA-256 of its token (the token itself is only in the
operator's 0600 session file, or in a PBX's configuration), the account, what it may
be used for (``all``, or ``phone`` for a PBX), when it expires (never, for a PBX's
token) and when and by whom it was ended.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from siaga_tui.core.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("ended_by", sa.String(64)),
    )
    op.create_index("ix_operator_session_operator", "operator_session", ["operator_id", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_operator_session_operator", "operator_session")
    op.drop_table("operator_session")
