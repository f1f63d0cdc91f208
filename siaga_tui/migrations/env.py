"""Alembic environment: runs on the connection the program hands over.

The program always passes an open connection in ``config.attributes["connection"]``
(see ``siaga_tui.core.migrate``); there is no alembic.ini to keep in step.
"""

from alembic import context
from sqlmodel import SQLModel

import siaga_tui.core.models  # noqa: F401  (declares the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `siaga112 db upgrade`")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
