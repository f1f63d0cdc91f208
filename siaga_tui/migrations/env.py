"""Alembic environment: runs on the connection the program hands over.

The program always passes an open connection in ``config.attributes["connection"]``
(see ``siaga_tui.core.migrate``); there is no alembic.ini to keep in step.
"""

from alembic import context

from siaga_tui.core.models import schema_metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `siaga112 db upgrade`")

context.configure(
    connection=connection,
    target_metadata=schema_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
