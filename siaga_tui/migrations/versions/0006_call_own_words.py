"""Each call keeps what its caller said: name, address and description.

A second caller attached to an open report ("two people are trapped") used to keep
only the phone number; the words now stay with that call, next to the report's own.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call") as batch:
        batch.add_column(sa.Column("caller_name", sa.String(120), nullable=True))
        batch.add_column(sa.Column("address", sa.String(300), nullable=True))
        batch.add_column(sa.Column("description", sa.String(8000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call") as batch:
        batch.drop_column("description")
        batch.drop_column("address")
        batch.drop_column("caller_name")
