"""Alembic environment: runs on the connection Tandem hands it (see core.db.migrate)."""

from alembic import context
from sqlalchemy import create_engine

import core.models  # noqa: F401 - registers every table on the metadata
from sqlmodel import SQLModel

target_metadata = SQLModel.metadata


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    # Used by `alembic revision --autogenerate` during development.
    url = context.config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as conn:
        run_migrations(conn)
        conn.commit()
